"""users/sms_guard.py over a whole day: the finding's 5 networks, attacking hour after hour with the
default rules, spend at most a quarter of the daily budget, and the budget is still there for
everyone else at the end of the day. The clock the rate windows are computed from is moved hour by
hour; the counters are the real ones in Redis."""

from collections import Counter

import pytest

from tests.factories import sms_numbers
from tests.unit.test_settings_defaults import readme_rate_limits
from users import ratelimits
from users.ratelimits import Hit, limit_usage
from users.sms_guard import SmsClient, SmsUnavailable, sms_guard_check

DAY = 86400
MIDNIGHT = 1_900_000_000 // DAY * DAY
NETWORKS = ["198.51.100", "198.51.101", "198.51.102", "203.0.113", "192.0.2"]
# Ten addresses of a network, each within its sign-up limit (20/h), could ask for 200 SMS an hour;
# 20 an hour is already twice what the hourly network rule lets through.
ATTEMPTS_PER_NETWORK_HOUR = 20


def client(network: str) -> SmsClient:
    return SmsClient(network=f"{network}.0/24", address=f"{network}.7")


def test_five_networks_attacking_all_day_spend_at_most_a_quarter_of_the_budget(settings, monkeypatch):
    settings.RATE_LIMITS = readme_rate_limits()
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA", "GB"]
    budget = int(settings.RATE_LIMITS["sms_daily_budget"].split("/")[0])
    numbers = iter(sms_numbers(24 * len(NETWORKS) * ATTEMPTS_PER_NETWORK_HOUR + 1))
    sent: Counter[str] = Counter()

    for hour in range(24):
        monkeypatch.setattr(ratelimits, "_clock", lambda hour=hour: MIDNIGHT + hour * 3600 + 60)
        for network in NETWORKS:
            for _ in range(ATTEMPTS_PER_NETWORK_HOUR):
                try:
                    sms_guard_check(number=next(numbers), client=client(network))
                except SmsUnavailable:
                    continue
                sent[network] += 1
    spent = limit_usage(Hit("sms_daily_budget", "all"))[0]

    print(f"\n5 networks over a day: {spent} SMS of {budget} ({dict(sent)})")
    assert spent == sum(sent.values())
    assert spent <= budget // 4
    assert set(sent.values()) == {int(settings.RATE_LIMITS["sms_network_day"].split("/")[0])}
    # Late in the day, a client of another network still gets its SMS.
    sms_guard_check(number=next(numbers), client=client("100.64.7"))
    assert limit_usage(Hit("sms_daily_budget", "all"))[0] == spent + 1


def test_the_networks_get_their_allowance_again_the_next_day(settings, monkeypatch):
    settings.RATE_LIMITS = {**readme_rate_limits(), "sms_network_hour": "", "sms_network_day": "2/d"}
    numbers = iter(sms_numbers(5))
    monkeypatch.setattr(ratelimits, "_clock", lambda: MIDNIGHT + DAY - 1)
    sms_guard_check(number=next(numbers), client=client("198.51.100"))
    sms_guard_check(number=next(numbers), client=client("198.51.100"))
    with pytest.raises(SmsUnavailable):
        sms_guard_check(number=next(numbers), client=client("198.51.100"))

    monkeypatch.setattr(ratelimits, "_clock", lambda: MIDNIGHT + DAY)

    sms_guard_check(number=next(numbers), client=client("198.51.100"))
