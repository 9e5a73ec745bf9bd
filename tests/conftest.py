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
    return client


_CODE = re.compile(r"\b(\d{6})\b")


def last_email_code() -> str:
    """The code in the last e-mail of the test outbox."""
    return _CODE.search(mail.outbox[-1].body).group(1)


def last_sms_code() -> str:
    return _CODE.search(LocmemSms.outbox[-1]["body"]).group(1)


@pytest.fixture
def email_code():
    return last_email_code


@pytest.fixture
def sms_code():
    return last_sms_code
