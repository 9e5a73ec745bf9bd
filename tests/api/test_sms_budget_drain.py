"""The finding of issue 8: 1,000 phone sign-ups to distinct numbers from 50 client addresses spent
the whole daily SMS budget in 27 s, and SMS sign-up was refused to everyone for the rest of the day.

With the default rules (the README's table), a few networks run into their own limits long before
the budget: the attack is replayed here through the API against the real Redis, and a newcomer from
another network can still sign up by SMS afterwards."""

import time

import pytest

from notifications.channels import LocmemSms
from tests.factories import sms_numbers
from tests.unit.test_settings_defaults import readme_rate_limits
from users.ratelimits import Hit, limit_usage

NETWORKS = ["198.51.100", "198.51.101", "198.51.102", "203.0.113", "192.0.2"]
ADDRESSES = [f"{network}.{host}" for network in NETWORKS for host in range(10, 20)]  # 50 addresses, 5 /24s
ATTEMPTS = 1000


@pytest.fixture
def default_rules(settings):
    settings.RATE_LIMITS = readme_rate_limits()
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA", "GB"]
    return settings.RATE_LIMITS


def test_fifty_addresses_in_five_networks_cannot_drain_the_daily_budget(api, default_rules):
    budget = int(default_rules["sms_daily_budget"].split("/")[0])
    numbers = sms_numbers(ATTEMPTS + 1)
    started = time.monotonic()

    statuses = [
        api.bearer(None)
        .post("/user/signup/", {"email_phone_number": number}, REMOTE_ADDR=ADDRESSES[n % len(ADDRESSES)])
        .status_code
        for n, number in enumerate(numbers[:ATTEMPTS])
    ]
    elapsed = time.monotonic() - started
    spent = len(LocmemSms.outbox)
    counted = limit_usage(Hit("sms_daily_budget", "all"))[0]
    newcomer = api.bearer(None).post("/user/signup/", {"email_phone_number": numbers[-1]}, REMOTE_ADDR="100.64.7.1")

    print(
        f"\n{ATTEMPTS} sign-ups from 50 addresses in {elapsed:.1f} s: {spent} SMS sent, {statuses.count(400)} refused"
    )
    # Every address stays within its own sign-up limit (20/h): the network rules are what stop them.
    assert set(statuses) <= {201, 400}
    assert statuses.count(429) == 0
    assert spent == statuses.count(201) == counted
    assert spent <= budget // 4
    assert newcomer.status_code == 201, newcomer.content
    assert LocmemSms.outbox[-1]["to"] == numbers[-1]
