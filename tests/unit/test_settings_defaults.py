"""The defaults of project/settings/base.py are the ones the README documents, and RATE_LIMITS in
the environment overrides single rules, leaving the others at their defaults.

The settings are read in a subprocess with only PATH and HOME set (and the project's .env file
ignored): the test process's own environment is the test configuration, not the defaults.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.processes import IGNORE_DOTENV

ROOT = Path(__file__).resolve().parents[2]

_PRINT_BASE_SETTINGS = (
    IGNORE_DOTENV
    + """
import json
from project.settings import base
print(json.dumps({
    "RATE_LIMITS": base.RATE_LIMITS,
    "SMS_ALLOWED_COUNTRIES": base.SMS_ALLOWED_COUNTRIES,
    "SMS_CHALLENGE": [base.SMS_CHALLENGE_BACKEND, base.SMS_CHALLENGE_SECRET, base.SMS_CHALLENGE_VERIFY_URL],
    "SMS_CHALLENGE_AFTER_SHARE": base.SMS_CHALLENGE_AFTER_SHARE,
    "SMS_CHALLENGE_TIMEOUT": base.SMS_CHALLENGE_TIMEOUT,
    "SIGNUP_TOKEN_LIFETIME": base.SIGNUP_TOKEN_LIFETIME.total_seconds(),
    "VERIFICATION_CODE_TTL": base.VERIFICATION_CODE_TTL,
    "VERIFICATION_RESEND_COOLDOWN": base.VERIFICATION_RESEND_COOLDOWN,
    "VERIFICATION_MAX_ATTEMPTS": base.VERIFICATION_MAX_ATTEMPTS,
    "VERIFICATION_CODE_LENGTH": base.VERIFICATION_CODE_LENGTH,
    "REFRESH_REUSE_GRACE_SECONDS": base.REFRESH_REUSE_GRACE_SECONDS,
    "CELERY_BEAT_SCHEDULE": base.CELERY_BEAT_SCHEDULE,
}))
"""
)


def base_settings(**env: str) -> dict:
    """project.settings.base as a process with nothing but PATH, HOME and ``env`` would see it."""
    clean = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env}
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_BASE_SETTINGS], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def readme_rate_limits() -> dict[str, str]:
    """The rate-limit table of the README's Security section: ``| `rule` | `rate` | key |``."""
    readme = (ROOT / "README.md").read_text()
    security = readme.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(\w+)` \| `([^`]*)` \|", security, flags=re.MULTILINE))


@pytest.fixture(scope="module")
def defaults() -> dict:
    return base_settings()


def test_readme_documents_every_rate_limit_rule():
    documented = readme_rate_limits()

    assert len(documented) == 19, documented
    assert documented["signup_ip"] == "20/h"


def test_per_network_sms_rules_are_well_under_the_per_address_sign_up_limit_and_a_quarter_budget():
    # The finding's attack came from 5 networks: a whole day of theirs must stay within a quarter of
    # the daily budget, and one network must get fewer SMS an hour than one address gets sign-ups.
    documented = readme_rate_limits()
    count = {rule: int(rate.split("/")[0]) for rule, rate in documented.items()}

    assert documented["sms_network_hour"].endswith("/h")
    assert documented["sms_network_day"].endswith("/d")
    assert documented["sms_daily_budget"].endswith("/d")
    assert count["sms_network_hour"] * 2 <= count["signup_ip"]
    assert 5 * count["sms_network_day"] <= count["sms_daily_budget"] // 4


def test_default_rate_limits_are_the_readme_table(defaults):
    assert defaults["RATE_LIMITS"] == readme_rate_limits()


def test_sms_go_to_us_canada_and_the_uk_by_default(defaults):
    assert defaults["SMS_ALLOWED_COUNTRIES"] == ["US", "CA", "GB"]


def test_the_sms_challenge_is_off_by_default_and_due_from_half_the_budget_once_on(defaults):
    assert defaults["SMS_CHALLENGE"] == ["", "", ""]
    assert defaults["SMS_CHALLENGE_AFTER_SHARE"] == 0.5
    assert defaults["SMS_CHALLENGE_TIMEOUT"] == 5.0


@pytest.mark.parametrize("share", ["-0.1", "1.5"])
def test_a_challenge_share_outside_zero_to_one_refuses_to_start(share):
    clean = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "SMS_CHALLENGE_AFTER_SHARE": share,
    }
    result = subprocess.run(
        [sys.executable, "-c", _PRINT_BASE_SETTINGS], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )

    assert result.returncode != 0
    assert "SMS_CHALLENGE_AFTER_SHARE" in result.stderr


def test_sign_up_token_lives_30_minutes_by_default(defaults):
    assert defaults["SIGNUP_TOKEN_LIFETIME"] == 30 * 60


def test_codes_are_six_digits_valid_ten_minutes_five_guesses_one_a_minute_by_default(defaults):
    assert defaults["VERIFICATION_CODE_LENGTH"] == 6
    assert defaults["VERIFICATION_CODE_TTL"] == 600
    assert defaults["VERIFICATION_MAX_ATTEMPTS"] == 5
    assert defaults["VERIFICATION_RESEND_COOLDOWN"] == 60


def test_refresh_reuse_grace_is_ten_seconds_by_default(defaults):
    assert defaults["REFRESH_REUSE_GRACE_SECONDS"] == 10


def test_beat_prunes_dead_sessions_hourly(defaults):
    prune = defaults["CELERY_BEAT_SCHEDULE"]["prune-sessions"]

    assert prune["task"] == "users.tasks.prune_sessions"
    assert prune["schedule"] == 3600


def test_rate_limits_variable_overrides_single_rules_and_an_empty_rate_turns_one_off():
    overridden = base_settings(RATE_LIMITS="login_ip=100/m,signup_ip=")["RATE_LIMITS"]

    assert overridden["login_ip"] == "100/m"
    assert overridden["signup_ip"] == ""
    untouched = {rule: rate for rule, rate in readme_rate_limits().items() if rule not in ("login_ip", "signup_ip")}
    assert {rule: overridden[rule] for rule in untouched} == untouched
    assert set(overridden) == set(readme_rate_limits())
