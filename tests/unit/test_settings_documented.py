"""Every environment variable the settings read is documented in the README and .env.example."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENV_READ = re.compile(r"""env(?:\.\w+)?\(\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read_by_settings() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "project" / "settings").glob("*.py"):
        names |= set(ENV_READ.findall(path.read_text()))
    return names


def test_settings_read_some_variables():
    assert {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"} <= _variables_read_by_settings()


def test_every_variable_is_in_the_readme_settings_table():
    readme = (ROOT / "README.md").read_text()
    missing = sorted(name for name in _variables_read_by_settings() if f"`{name}`" not in readme)
    assert missing == []


def test_every_variable_is_in_env_example():
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert sorted(_variables_read_by_settings() - listed) == []
