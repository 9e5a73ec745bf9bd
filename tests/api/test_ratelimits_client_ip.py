"""client_ip (users/ratelimits.py) when there is no usable client address: a server behind a unix
socket leaves REMOTE_ADDR empty. The rate-limited endpoints answer normally instead of 500, and
such requests share one bucket (they cannot be told apart)."""

import logging

import pytest
from django.test import RequestFactory

from tests.api.conftest import assert_error
from users import ratelimits
from users.ratelimits import UNKNOWN_CLIENT, client_ip


@pytest.fixture(autouse=True)
def _warn_again():
    ratelimits._warned_unknown_client = False
    yield
    ratelimits._warned_unknown_client = False


@pytest.mark.parametrize("remote_addr", ["", "unix:/run/gunicorn.sock", "garbage"])
def test_login_without_a_client_address_answers_401_not_500(api, remote_addr):
    response = api.post("/user/login/", {"user_input": "nobody", "password": "wrong"}, REMOTE_ADDR=remote_addr)

    assert_error(response, 401, "invalid_credentials")


def test_signup_without_a_client_address_works(api):
    response = api.post("/user/signup/", {"email_phone_number": "jane@example.com"}, REMOTE_ADDR="")

    assert response.status_code == 201, response.content


def test_requests_without_a_client_address_share_one_bucket(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup_ip": "2/h"}

    statuses = [
        api.post("/user/signup/", {"email_phone_number": f"u{n}@example.com"}, REMOTE_ADDR="").status_code
        for n in range(3)
    ]

    assert statuses == [201, 201, 429]


@pytest.mark.parametrize("hops", [0, 1])
@pytest.mark.parametrize("remote_addr", ["", "  ", "unix:", "localhost"])
def test_client_ip_is_the_sentinel_when_remote_addr_is_not_an_address(settings, remote_addr, hops):
    settings.TRUSTED_PROXY_COUNT = hops
    request = RequestFactory().get("/", REMOTE_ADDR=remote_addr)

    assert client_ip(request) == UNKNOWN_CLIENT == "0.0.0.0"


def test_client_ip_still_reads_the_proxy_header_without_remote_addr(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7")

    assert client_ip(request) == "203.0.113.7"


def test_client_ip_keeps_real_addresses(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")) == "203.0.113.7"
    assert client_ip(RequestFactory().get("/", REMOTE_ADDR="2001:db8::1")) == "2001:db8::1"


def test_a_missing_client_address_is_logged_once(settings, caplog):
    settings.TRUSTED_PROXY_COUNT = 0
    caplog.set_level(logging.WARNING, logger="users.ratelimits")

    for _ in range(3):
        client_ip(RequestFactory().get("/", REMOTE_ADDR=""))

    warnings = [record for record in caplog.records if record.name == "users.ratelimits"]
    assert len(warnings) == 1
    assert "REMOTE_ADDR" in warnings[0].getMessage()
