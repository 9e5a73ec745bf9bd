"""Rate limits hold under parallel requests: requests released together against a real threaded
server are counted one by one in Redis, so exactly the allowed number get through."""

import pytest
import requests

from tests.factories import UserFactory
from tests.support.parallel import clear_of_window_end, in_parallel

pytestmark = pytest.mark.integration

HOUR = 3600


def burst(count: int, request) -> list[int]:
    """Sends ``request(n)`` for n in range(count) from as many threads released at once; returns
    the status codes."""
    return in_parallel(count, lambda n: request(n).status_code)


def test_parallel_sign_ups_from_one_client_get_exactly_the_signup_ip_quota(live_server, rates_only):
    rates_only(signup_ip="5/h")
    clear_of_window_end(HOUR)

    statuses = burst(
        20,
        lambda n: requests.post(
            f"{live_server.url}/user/signup/", json={"email_phone_number": f"person{n}@example.com"}, timeout=30
        ),
    )

    assert sorted(statuses) == [201] * 5 + [429] * 15, statuses


def test_parallel_wrong_logins_for_one_name_get_exactly_the_failure_quota(live_server, rates_only):
    rates_only(login_account_failures="3/h")
    UserFactory(username="jane")
    clear_of_window_end(HOUR)

    statuses = burst(
        12,
        lambda n: requests.post(
            f"{live_server.url}/user/login/", json={"user_input": "jane", "password": f"wrong {n}"}, timeout=30
        ),
    )

    assert sorted(statuses) == [401] * 3 + [429] * 9, statuses
