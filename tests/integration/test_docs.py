"""What the README points at is there: its screenshots exist and are PNG files, and `make flower`
refuses to start without basic auth and listens on loopback only."""

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args: str, **env: str) -> subprocess.CompletedProcess:
    """``make -s -o install <args>`` in the project: ``-o install`` takes the virtualenv as built,
    so nothing is installed; the caller's FLOWER_BASIC_AUTH and make's own variables are dropped.
    Whatever it started is killed after 60 s (a Flower that did start would never exit)."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FLOWER_BASIC_AUTH", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }
    argv = ["make", "-s", "-o", "install", *args]
    with subprocess.Popen(
        argv,
        cwd=ROOT,
        env={**clean, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
    return subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)


def test_every_screenshot_the_readme_shows_exists():
    referenced = set(re.findall(r"docs/screenshots/[\w.-]+\.png", (ROOT / "README.md").read_text()))

    assert referenced, "the README shows no screenshot"
    missing = sorted(path for path in referenced if not (ROOT / path).is_file())
    assert missing == []


def test_every_screenshot_is_a_png():
    screenshots = sorted(SCREENSHOTS.glob("*.png"))

    assert screenshots
    not_png = [path.name for path in screenshots if path.read_bytes()[:8] != PNG_SIGNATURE]
    assert not_png == []


@pytest.mark.integration
@needs_make
def test_make_flower_without_basic_auth_refuses_to_start():
    result = make("flower")

    assert result.returncode != 0
    assert "FLOWER_BASIC_AUTH" in result.stderr, result.stderr


@pytest.mark.integration
@needs_make
def test_make_flower_listens_on_loopback_only():
    result = make("-n", "flower", FLOWER_BASIC_AUTH="admin:s3cret")  # -n: prints the recipe, runs nothing

    assert result.returncode == 0, result.stderr
    flower = [line for line in result.stdout.splitlines() if " flower " in line]
    assert len(flower) == 1, result.stdout
    assert "--address=127.0.0.1" in flower[0]
    assert "0.0.0.0" not in flower[0]
    assert "--basic-auth=" in flower[0]
