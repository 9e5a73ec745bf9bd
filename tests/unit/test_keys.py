"""Signing keys: no default is committed, the embedded default generates its own once and keeps
them, and a key given in the environment is refused if it is weak or found in the project's files."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from project.settings.keys import generated_keys, key_problem, signing_keys
from tests.support.parallel import in_parallel
from tests.support.processes import IGNORE_DOTENV, ROOT

STRONG = "Zq8v-Xr2LmN4pT7wKd9sYb3Hc6FgJ1aE5uVoRiQeWnBtMy0PlAkSzDxCfGhIjOoUu"


@pytest.fixture
def source(tmp_path) -> Path:
    root = tmp_path / "project"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "example.md").write_text(
        "Set SECRET_KEY=Example-Key-From-The-Docs-0123456789-abcdefghijklmnopqrstuv\n"
    )
    (root / ".env").write_text(f"SECRET_KEY={STRONG}\n")  # a real key's own file is never searched
    return root


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("short-key", "shorter"),
        ("ab" * 40, "repetitive"),
        ("insecure-" + STRONG, "placeholder"),
        ("change-me-" + STRONG, "placeholder"),
        ("Example-Key-From-The-Docs-0123456789-abcdefghijklmnopqrstuv", "appears in the project's files"),
    ],
)
def test_weak_placeholder_and_committed_keys_are_refused(source, value, problem):
    assert problem in key_problem(value, source_root=source)


def test_a_random_key_of_fifty_characters_is_accepted(source):
    assert key_problem(STRONG, source_root=source) is None


def test_keys_are_generated_once_readable_by_the_owner_only_and_reused(tmp_path):
    path = tmp_path / "keys.json"

    first = generated_keys(path)

    assert set(first) == {"SECRET_KEY", "JWT_SIGNING_KEY"}
    assert len(first["SECRET_KEY"]) >= 50
    assert first["SECRET_KEY"] != first["JWT_SIGNING_KEY"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert generated_keys(path) == first


def test_processes_starting_together_end_up_with_the_same_keys(tmp_path):
    path = tmp_path / "keys.json"

    assert len({json.dumps(keys) for keys in in_parallel(8, lambda _: generated_keys(path))}) == 1


def test_a_missing_key_stops_a_start_that_may_not_generate(tmp_path, source):
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY must be set"):
        signing_keys(given={}, source_root=source, key_file=tmp_path / "keys.json", generate=False)
    assert not (tmp_path / "keys.json").exists()


def test_equal_keys_are_refused(tmp_path, source):
    with pytest.raises(ImproperlyConfigured, match="differ"):
        signing_keys(
            given={"SECRET_KEY": STRONG, "JWT_SIGNING_KEY": STRONG},
            source_root=source,
            key_file=tmp_path / "keys.json",
            generate=False,
        )


_PRINT_KEYS = (
    IGNORE_DOTENV
    + """
import json
from django.conf import settings
print(json.dumps([settings.SECRET_KEY, settings.SIMPLE_JWT["SIGNING_KEY"], settings.DEBUG]))
"""
)


def local_settings(keys_file: Path) -> list:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DJANGO_SETTINGS_MODULE": "project.settings.local",
        "LOCAL_KEYS_FILE": str(keys_file),
    }
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_KEYS], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_embedded_default_generates_its_keys_on_first_run_and_reuses_them(tmp_path):
    keys_file = tmp_path / "local-keys.json"

    secret, jwt_key, debug = local_settings(keys_file)

    assert keys_file.exists()
    assert local_settings(keys_file) == [secret, jwt_key, debug]
    assert debug is False  # DEBUG is off unless asked for, also under `make run`
    assert secret != jwt_key
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert ".local-keys.json" in (ROOT / ".gitignore").read_text()
    assert ".local-keys.json" not in tracked.split()
