"""Everything a deployment runs defaults to the production settings: started with nothing but its
own command (no DJANGO_SETTINGS_MODULE, no secrets), each entry point refuses to start instead of
falling back on relaxed settings. Only `make run` and the tests choose other settings, by name."""

import os
import re
import subprocess
import sys

import pytest

from tests.support.processes import IGNORE_DOTENV, ROOT

ENTRY_POINTS = {
    "manage.py": [
        sys.executable,
        "-c",
        IGNORE_DOTENV + "import runpy, sys\nsys.argv = ['manage.py', 'check']\n"
        "runpy.run_path('manage.py', run_name='__main__')",
    ],
    "wsgi": [sys.executable, "-c", IGNORE_DOTENV + "import project.wsgi"],
    "celery": [
        sys.executable,
        "-c",
        IGNORE_DOTENV + "from project.celery import app\napp.loader.import_default_modules()",
    ],
}


def bare_env() -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}


@pytest.mark.parametrize("entry_point", list(ENTRY_POINTS))
def test_an_entry_point_started_bare_runs_the_production_settings_and_refuses(entry_point):
    result = subprocess.run(
        ENTRY_POINTS[entry_point], cwd=ROOT, env=bare_env(), capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0, result.stdout + result.stderr
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY must be set" in result.stderr


def test_the_image_defaults_to_the_production_settings():
    dockerfile = (ROOT / "Dockerfile").read_text()

    assert re.findall(r"DJANGO_SETTINGS_MODULE=([\w.]+)", dockerfile) == ["project.settings.production"]


def test_only_make_targets_name_the_local_settings():
    naming_local = {
        str(path.relative_to(ROOT))
        for path in ROOT.rglob("*")
        if path.is_file()
        and ".venv" not in path.parts
        and ".git" not in path.parts
        and "tests" not in path.parts
        and path.suffix in {".py", ".yml", ".sh", ".example", ""}
        and "project.settings.local" in path.read_text(errors="ignore")
    }
    assert naming_local <= {"Makefile", "bench/run.py", "project/settings/local.py"}, naming_local
