"""What the tests of the highly available Redis setups (Sentinel, Cluster) share: the limit burst
they each run, and the first sign-up through after a failover."""

import time

import requests

from tests.api.conftest import assert_error
from tests.support.parallel import clear_of_window_end, in_parallel


def parallel_sign_ups(base_url: str, count: int) -> list[int]:
    """The statuses of ``count`` sign-ups of different addresses, released together (inside one
    window of an hourly rule)."""
    clear_of_window_end(3600)
    return in_parallel(
        count,
        lambda n: (
            requests.post(
                f"{base_url}/user/signup/", json={"email_phone_number": f"person{n}@example.com"}, timeout=30
            ).status_code
        ),
    )


def signed_up_after_the_failover(api, identifier: str):
    """The first sign-up that gets through after the failover: the client may still hold a
    connection to the dead master, so a few more 503s (with Retry-After) may come first."""
    for _ in range(20):
        response = api.bearer(None).post("/user/signup/", {"email_phone_number": identifier})
        if response.status_code != 503:
            return response
        assert_error(response, 503, "service_unavailable")
        assert response["Retry-After"]
        time.sleep(0.25)
    return response
