"""Shared fixtures: a clean Redis database per test, empty outboxes, and an API client that runs
``transaction.on_commit`` callbacks (so queued deliveries really go out in API tests)."""

import re

import pytest
from django.core import mail
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from notifications.channels import LocmemSms


@pytest.fixture(autouse=True)
def _clean_redis():
    client = get_redis_connection("default")
    client.flushdb()
    yield
    client.flushdb()


@pytest.fixture(autouse=True)
def _empty_outboxes():
    LocmemSms.outbox.clear()
    mail.outbox = []
    yield
    LocmemSms.outbox.clear()


class Api(APIClient):
    """An APIClient that sends JSON and runs on-commit callbacks of each request."""

    capture = None

    def generic(self, method, path, data="", content_type="application/json", secure=False, **extra):
        with self.capture(execute=True):
            return super().generic(method, path, data, content_type, secure=secure, **extra)

    def bearer(self, token: str | None) -> "Api":
        if token:
            self.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        else:
            self.credentials()
        return self


@pytest.fixture
def api(db, django_capture_on_commit_callbacks):
    client = Api()
    client.capture = django_capture_on_commit_callbacks
    client.default_format = "json"  # dicts are sent as JSON unless a test says otherwise
    return client


_CODE = re.compile(r"\b(\d{6})\b")


def last_email_code() -> str:
    """The code in the last e-mail of the test outbox."""
    return _CODE.search(mail.outbox[-1].body).group(1)


def last_sms_code() -> str:
    return _CODE.search(LocmemSms.outbox[-1]["body"]).group(1)


@pytest.fixture
def rates_only(settings):
    """Turn every rate-limit rule off but the given ones (``rates_only(signup_ip="5/h")``)."""

    def _rates_only(**rules: str) -> None:
        settings.RATE_LIMITS = {**dict.fromkeys(settings.RATE_LIMITS, ""), **rules}

    return _rates_only


@pytest.fixture
def email_code():
    return last_email_code


@pytest.fixture
def sms_code():
    return last_sms_code


@pytest.fixture
def next_codes(monkeypatch):
    """Makes the code store hand out the given codes, in order, then the last one again and again."""

    def _next_codes(*codes: str) -> None:
        queue = list(codes)
        monkeypatch.setattr("users.codes._generate", lambda: queue.pop(0) if len(queue) > 1 else queue[0])

    return _next_codes


# --- Real servers and processes (tests/support/) -----------------------------------------------
# Imports stay inside the fixtures: the top of this file belongs to the unit and API fixtures.


@pytest.fixture
def smtp_server(settings):
    """An aiosmtpd server on loopback, with Django's SMTP backend pointed at it."""
    from tests.support.smtp_server import SmtpServer

    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = server.host
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 2
    settings.DELIVERY_RETRY_BASE_SECONDS = 0.01
    yield server
    server.stop()


@pytest.fixture
def fake_twilio(settings):
    """A fake Twilio API on loopback, with TwilioSms (the real twilio client) pointed at it."""
    from tests.support import fake_twilio as fake

    server = fake.FakeTwilio(stall_seconds=3.0).start()
    settings.SMS_BACKEND = "notifications.channels.TwilioSms"
    settings.TWILIO_ACCOUNT_SID = fake.ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = fake.AUTH_TOKEN
    settings.TWILIO_FROM_NUMBER = fake.FROM_NUMBER
    settings.TWILIO_MESSAGING_SERVICE_SID = ""
    settings.TWILIO_API_BASE_URL = server.url
    settings.TWILIO_TIMEOUT = 1.0
    settings.DELIVERY_RETRY_BASE_SECONDS = 0.01
    yield server
    server.stop()


@pytest.fixture
def fake_siteverify(settings):
    """A fake challenge siteverify on loopback, with the Turnstile backend pointed at it (the
    challenge is then on, due from half the daily SMS budget)."""
    from tests.support import fake_siteverify as fake

    server = fake.FakeSiteverify(stall_seconds=3.0).start()
    settings.SMS_CHALLENGE_BACKEND = "users.challenges.Turnstile"
    settings.SMS_CHALLENGE_SECRET = fake.SECRET
    settings.SMS_CHALLENGE_VERIFY_URL = server.url
    settings.SMS_CHALLENGE_TIMEOUT = 1.0
    settings.SMS_CHALLENGE_AFTER_SHARE = 0.5
    yield server
    server.stop()


@pytest.fixture
def worker_broker(settings):
    """This process publishes tasks to the integration Redis database instead of running them."""
    import redis

    from tests.support.processes import WORKER_REDIS_URL, celery_configured

    broker = redis.Redis.from_url(WORKER_REDIS_URL)
    broker.flushdb()
    settings.CELERY_BROKER_URL = WORKER_REDIS_URL
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with celery_configured(broker_url=WORKER_REDIS_URL, task_always_eager=False):
        yield broker
    broker.flushdb()
    broker.close()


@pytest.fixture
def worker_env(settings, smtp_server, fake_twilio):
    """The environment of a project process of the integration tests: the test settings, this
    run's database, the integration Redis database, and the SMTP and Twilio fakes."""
    from tests.support.processes import WORKER_REDIS_URL, database_url, project_env

    return project_env(
        SECRET_KEY=settings.SECRET_KEY,  # the sealed payloads are keyed by it
        DATABASE_URL=database_url(),
        TEST_REDIS_URL=WORKER_REDIS_URL,
        CELERY_BROKER_URL=WORKER_REDIS_URL,
        CELERY_TASK_ALWAYS_EAGER="False",
        # Short enough for a test to wait out; the lease of a delivery claim is the hard limit.
        CELERY_VISIBILITY_TIMEOUT="6",
        CELERY_UNACKED_RESTORE_INTERVAL="2",
        CELERY_TASK_SOFT_TIME_LIMIT="4",
        CELERY_TASK_TIME_LIMIT="5",
        DELIVERY_RETRY_BASE_SECONDS="0.2",
        EMAIL_BACKEND=settings.EMAIL_BACKEND,
        EMAIL_HOST=settings.EMAIL_HOST,
        EMAIL_PORT=str(settings.EMAIL_PORT),
        EMAIL_TIMEOUT="2",
        SMS_BACKEND=settings.SMS_BACKEND,
        TWILIO_ACCOUNT_SID=settings.TWILIO_ACCOUNT_SID,
        TWILIO_AUTH_TOKEN=settings.TWILIO_AUTH_TOKEN,
        TWILIO_FROM_NUMBER=settings.TWILIO_FROM_NUMBER,
        TWILIO_API_BASE_URL=settings.TWILIO_API_BASE_URL,
        TWILIO_TIMEOUT="2",
        WEBOTP_DOMAIN=settings.WEBOTP_DOMAIN,
        LOG_LEVEL="INFO",
    )


@pytest.fixture
def celery_worker(transactional_db, worker_broker, worker_env, tmp_path):
    """A real Celery worker process on the notifications queue (not started: call ``.start()``).
    The database is committed for real (transactional_db) so the worker sees the rows; every run
    is killed at teardown, before the tables are flushed."""
    from tests.support.processes import CeleryWorker

    worker = CeleryWorker(worker_env, tmp_path)
    yield worker
    worker.kill()
