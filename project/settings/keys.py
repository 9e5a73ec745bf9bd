"""The two signing keys: generated for the embedded default, checked wherever they come from.

No key that appears in the project's files is ever accepted: the repository ships no default key,
``make run`` and the tests generate random ones on first use into a git-ignored file and reuse them
after, and a key given in the environment is refused if it is short, repetitive, a placeholder or
a string found in the project's own source files (copied from an example, say).
"""

import json
import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

KEY_NAMES = ("SECRET_KEY", "JWT_SIGNING_KEY")
MIN_LENGTH = 50
MIN_DISTINCT_CHARACTERS = 10

# Files whose text is searched for a key given in the environment: what the project ships, never
# the files that hold real keys (.env, .env.docker, the generated key file).
_SOURCE_SUFFIXES = frozenset(
    {".py", ".md", ".txt", ".toml", ".cfg", ".ini", ".yml", ".yaml", ".json", ".html", ".js", ".css", ".lua", ".sh"}
)
_SOURCE_NAMES = frozenset({"Dockerfile", "Makefile", ".env.example", ".dockerignore", ".gitignore"})
_SKIPPED_DIRECTORIES = frozenset(
    {".git", ".venv", "venv", "node_modules", "__pycache__", "staticfiles", ".pytest_cache", ".ruff_cache"}
)


@lru_cache(maxsize=4)
def _source_texts(root: Path, skipped_file: Path | None) -> tuple[str, ...]:
    texts = []
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if name not in _SKIPPED_DIRECTORIES]
        for name in files:
            path = Path(directory, name)
            if path == skipped_file or (name not in _SOURCE_NAMES and path.suffix not in _SOURCE_SUFFIXES):
                continue
            try:
                texts.append(path.read_text(errors="ignore"))
            except OSError:
                continue
    return tuple(texts)


def key_problem(value: str, *, source_root: Path, skipped_file: Path | None = None) -> str | None:
    """Why ``value`` cannot be a signing key, or None if it can."""
    if len(value) < MIN_LENGTH:
        return f"it is shorter than {MIN_LENGTH} characters"
    if len(set(value)) < MIN_DISTINCT_CHARACTERS:
        return "it is too repetitive to be random"
    lowered = value.lower()
    if "insecure" in lowered or "change-me" in lowered or "changeme" in lowered:
        return "it is a placeholder"
    if any(value in text for text in _source_texts(source_root, skipped_file)):
        return "it appears in the project's files"
    return None


def checked_key(name: str, value: str, *, source_root: Path, skipped_file: Path | None = None) -> str:
    """``value`` if it can be the key ``name``; otherwise ImproperlyConfigured (never echoing it)."""
    problem = key_problem(value, source_root=source_root, skipped_file=skipped_file)
    if problem:
        raise ImproperlyConfigured(
            f"{name} cannot be used: {problem}. Set it to {MIN_LENGTH}+ random characters, for example "
            "the output of: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )
    return value


def signing_keys(*, given: dict[str, str], source_root: Path, key_file: Path, generate: bool) -> dict[str, str]:
    """SECRET_KEY and JWT_SIGNING_KEY: the ones ``given`` (from the environment), checked; any
    missing one comes from ``key_file`` (made on first use) if ``generate``, or else stops the
    start (the production settings). ``key_file`` is never searched for the given keys."""
    keys = {}
    for name in KEY_NAMES:
        if given.get(name):
            keys[name] = checked_key(name, given[name], source_root=source_root, skipped_file=key_file)
        elif generate:
            keys[name] = generated_keys(key_file)[name]
        else:
            raise ImproperlyConfigured(f"{name} must be set to {MIN_LENGTH}+ random characters.")
    if keys["SECRET_KEY"] == keys["JWT_SIGNING_KEY"]:
        raise ImproperlyConfigured("JWT_SIGNING_KEY must differ from SECRET_KEY.")
    return keys


def generated_keys(path: Path) -> dict[str, str]:
    """The keys in ``path``, created with fresh random keys on first use (readable by the owner
    only). Creation is atomic: of processes starting together, all end up with the same keys."""
    for _ in range(2):
        try:
            stored = json.loads(path.read_text())
            if isinstance(stored, dict) and all(isinstance(stored.get(name), str) for name in KEY_NAMES):
                return {name: stored[name] for name in KEY_NAMES}
            raise ImproperlyConfigured(f"{path} is not a key file written by this project; remove it.")
        except FileNotFoundError:
            pass
        except ValueError as exc:
            raise ImproperlyConfigured(f"{path} is not a key file written by this project; remove it.") from exc
        keys = {name: secrets.token_urlsafe(48) for name in KEY_NAMES}
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".keys-")
        try:
            with os.fdopen(descriptor, "w") as handle:
                json.dump(keys, handle)
            os.chmod(temporary, 0o600)
            os.link(temporary, path)  # fails if another process created the file first
            return keys
        except FileExistsError:
            continue  # read what the other process wrote
        finally:
            os.unlink(temporary)
    raise ImproperlyConfigured(f"Could not create {path}.")
