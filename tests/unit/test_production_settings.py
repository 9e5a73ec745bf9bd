"""The production settings pass Django's deployment checks when given their required environment,
and refuse to start without it. Each case is a real ``manage.py check --deploy`` in a subprocess
with a clean environment (a variable set to "" counts as missing and keeps a local .env out)."""

import secrets
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent.parent
SECRET = secrets.token_urlsafe(48)[:60]
JWT_KEY = secrets.token_urlsafe(48)[:60]

REQUIRED = {
    "SECRET_KEY": SECRET,
    "JWT_SIGNING_KEY": JWT_KEY,
    "DATABASE_URL": "postgres:///test",
    "REDIS_URL": "redis://127.0.0.1:6379/13",
    "ALLOWED_HOSTS": "api.example.com",
    "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    "SMS_BACKEND": "notifications.channels.TwilioSms",
    "TRUSTED_PROXY_COUNT": "1",
}

TEST_IDENTIFIERS = "reviewer@example.com=123456,+12025550188=654321"

# name -> (environment changes, expected exit, text expected in the output)
CASES = {
    "complete environment": ({}, 0, "no issues"),
    "missing SECRET_KEY": ({"SECRET_KEY": ""}, 1, "SECRET_KEY"),
    "short SECRET_KEY": ({"SECRET_KEY": "s3cr3t-but-far-too-short"}, 1, "SECRET_KEY"),
    "low-entropy SECRET_KEY": ({"SECRET_KEY": "ab" * 30}, 1, "SECRET_KEY"),
    "development SECRET_KEY": (
        {"SECRET_KEY": "insecure-local-only-secret-key-change-me-0123456789abcdef"},
        1,
        "SECRET_KEY",
    ),
    "missing JWT_SIGNING_KEY": ({"JWT_SIGNING_KEY": ""}, 1, "JWT_SIGNING_KEY"),
    "JWT_SIGNING_KEY equal to SECRET_KEY": ({"JWT_SIGNING_KEY": SECRET}, 1, "JWT_SIGNING_KEY"),
    "missing DATABASE_URL": ({"DATABASE_URL": None}, 1, "DATABASE_URL"),
    "missing REDIS_URL": ({"REDIS_URL": ""}, 1, "REDIS_URL"),
    # A Redis Cluster holds the cache, codes and limits, but cannot be Celery's broker.
    "Redis Cluster with a broker beside it": ({"REDIS_CLUSTER_NODES": "10.0.0.1:7000,10.0.0.2:7000"}, 0, "no issues"),
    "Redis Cluster without a broker": (
        {"REDIS_CLUSTER_NODES": "10.0.0.1:7000", "REDIS_URL": ""},
        1,
        "cannot be Celery's broker",
    ),
    "missing ALLOWED_HOSTS": ({"ALLOWED_HOSTS": ""}, 1, "ALLOWED_HOSTS"),
    # Senders that would print codes in clear into the logs (or drop them) are refused.
    "empty EMAIL_BACKEND": ({"EMAIL_BACKEND": ""}, 1, "EMAIL_BACKEND"),
    "console EMAIL_BACKEND (the default)": (
        {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
        1,
        "EMAIL_BACKEND",
    ),
    "locmem EMAIL_BACKEND": ({"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}, 1, "EMAIL_BACKEND"),
    "dummy EMAIL_BACKEND": ({"EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend"}, 1, "EMAIL_BACKEND"),
    "filebased EMAIL_BACKEND": (
        {"EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend"},
        1,
        "EMAIL_BACKEND",
    ),
    "missing SMS_BACKEND (console)": ({"SMS_BACKEND": None}, 1, "SMS_BACKEND"),
    "console SMS_BACKEND": ({"SMS_BACKEND": "notifications.channels.ConsoleSms"}, 1, "SMS_BACKEND"),
    "locmem SMS_BACKEND": ({"SMS_BACKEND": "notifications.channels.LocmemSms"}, 1, "SMS_BACKEND"),
    "empty SMS_BACKEND": ({"SMS_BACKEND": ""}, 1, "SMS_BACKEND"),
    # A challenge without its secret would refuse every SMS sign-up once it is due.
    "SMS challenge without its secret": (
        {"SMS_CHALLENGE_BACKEND": "users.challenges.Turnstile"},
        1,
        "SMS_CHALLENGE_SECRET",
    ),
    "SMS challenge with its secret": (
        {"SMS_CHALLENGE_BACKEND": "users.challenges.Hcaptcha", "SMS_CHALLENGE_SECRET": "0x" + "5" * 40},
        0,
        "no issues",
    ),
    # Behind the proxy production assumes, the default 0 would put every client in one bucket.
    "missing TRUSTED_PROXY_COUNT": ({"TRUSTED_PROXY_COUNT": None}, 1, "TRUSTED_PROXY_COUNT"),
    "no proxy, said explicitly": ({"TRUSTED_PROXY_COUNT": "0"}, 0, "no issues"),
    # Test identifiers (a fixed code, no message) only when the deployment says so twice.
    "TEST_IDENTIFIERS without ALLOW_TEST_IDENTIFIERS": (
        {"TEST_IDENTIFIERS": TEST_IDENTIFIERS},
        1,
        "ALLOW_TEST_IDENTIFIERS",
    ),
    "TEST_IDENTIFIERS with ALLOW_TEST_IDENTIFIERS=False": (
        {"TEST_IDENTIFIERS": TEST_IDENTIFIERS, "ALLOW_TEST_IDENTIFIERS": "False"},
        1,
        "ALLOW_TEST_IDENTIFIERS",
    ),
    "TEST_IDENTIFIERS with ALLOW_TEST_IDENTIFIERS": (
        {"TEST_IDENTIFIERS": TEST_IDENTIFIERS, "ALLOW_TEST_IDENTIFIERS": "True"},
        0,
        "TEST_IDENTIFIERS is on: 2 identifiers",  # the start-up warning
    ),
    "ALLOW_TEST_IDENTIFIERS without TEST_IDENTIFIERS": ({"ALLOW_TEST_IDENTIFIERS": "True"}, 0, "no issues"),
    # The check itself has teeth: a deployment setting turned off fails it at WARNING level.
    "HSTS turned off": ({"SECURE_HSTS_SECONDS": "0"}, 1, "security.W004"),
    "HTTPS redirect turned off": ({"SECURE_SSL_REDIRECT": "False"}, 1, "security.W008"),
}


def _run(changes: dict[str, str | None]) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "DJANGO_SETTINGS_MODULE": "project.settings.production"}
    env.update(REQUIRED)
    for name, value in changes.items():
        if value is None:
            env.pop(name)
        else:
            env[name] = value
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def results() -> dict[str, subprocess.CompletedProcess]:
    # Each check starts Django in a fresh interpreter (about a second); run them side by side.
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {name: pool.submit(_run, changes) for name, (changes, _, _) in CASES.items()}
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.parametrize("case", list(CASES))
def test_production_settings_check(results, case):
    _, expected_exit, expected_text = CASES[case]
    result = results[case]
    output = result.stdout + result.stderr

    if expected_exit == 0:
        assert result.returncode == 0, output[-3000:]
        assert expected_text in output
    else:
        assert result.returncode != 0, output[-3000:]
        assert expected_text in output, output[-3000:]
        if not expected_text.startswith("security."):
            assert "ImproperlyConfigured" in output, output[-3000:]
        # A refusal never echoes the secrets it was given.
        assert SECRET not in output
        assert JWT_KEY not in output


def test_the_start_up_warning_names_neither_identifiers_nor_codes_and_is_absent_when_off(results):
    allowed = results["TEST_IDENTIFIERS with ALLOW_TEST_IDENTIFIERS"]
    output = allowed.stdout + allowed.stderr

    assert "no issues" in output
    for secret in ("reviewer@example.com", "123456", "+12025550188", "654321"):
        assert secret not in output
    for case in ("complete environment", "ALLOW_TEST_IDENTIFIERS without TEST_IDENTIFIERS"):
        assert "TEST_IDENTIFIERS is on" not in results[case].stdout + results[case].stderr


def test_the_values_used_are_not_the_development_defaults():
    from project.settings import base

    assert SECRET != base.SECRET_KEY
    assert JWT_KEY != base.SIMPLE_JWT["SIGNING_KEY"]
