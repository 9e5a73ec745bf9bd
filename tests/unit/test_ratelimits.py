"""users/ratelimits.py: the client network the SMS rules count (sms_network), and rules counted
together (limits_hit, limit_usage) on Redis and on the embedded default's local memory."""

import pytest
from django.test import RequestFactory
from django_redis import get_redis_connection

from users import ratelimits
from users.ratelimits import Hit, LimitReached, limit_usage, limits_hit, sms_network, store_key

DAY = 86400
MIDNIGHT = 1_900_000_000 // DAY * DAY  # some UTC midnight, far from the real clock's counters


def network_of(remote_addr: str, **meta: str) -> str:
    return sms_network(RequestFactory().get("/", REMOTE_ADDR=remote_addr, **meta))


# --- sms_network -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("remote_addr", "network"),
    [
        ("198.51.100.1", "198.51.100.0/24"),
        ("198.51.100.254", "198.51.100.0/24"),
        ("198.51.101.1", "198.51.101.0/24"),
        ("2001:db8:aa:1::1", "2001:db8:aa::/48"),
        ("2001:db8:aa:ffff:1:2:3:4", "2001:db8:aa::/48"),
        ("2001:db8:ab::1", "2001:db8:ab::/48"),
        ("::ffff:198.51.100.7", "198.51.100.0/24"),  # IPv4 through a dual-stack socket
        ("", "0.0.0.0/24"),  # no address: the one bucket of clients without one
    ],
)
def test_sms_network_is_the_ipv4_24_or_the_ipv6_48(remote_addr, network):
    assert network_of(remote_addr) == network


def test_sms_network_follows_the_trusted_proxy_header(settings):
    settings.TRUSTED_PROXY_COUNT = 1

    network = network_of("10.0.0.5", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.77")

    assert network == "203.0.113.0/24"


# --- rules counted together ------------------------------------------------------------------


@pytest.fixture(params=["redis", "local memory"])
def backend(request, settings):
    """Runs a test on the test settings' Redis and on a per-process cache (the embedded default)."""
    if request.param == "local memory":
        settings.CACHES = {
            **settings.CACHES,
            "rules": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rules-test"},
        }
        settings.RATELIMIT_USE_CACHE = "rules"
        from django.core.cache import caches

        caches["rules"].clear()
    return request.param


@pytest.fixture
def clock(monkeypatch):
    """Sets the time the windows are computed from: ``clock(seconds after MIDNIGHT)``."""

    def _set(offset: float) -> None:
        monkeypatch.setattr(ratelimits, "_clock", lambda: MIDNIGHT + offset)

    _set(10)
    return _set


@pytest.fixture
def rules(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "first": "2/h", "second": "3/d", "off": ""}


CHECKS = [("first", "a"), ("second", "shared")]


def ratelimit_hit_all(checks: list[tuple[str, str]]) -> str | None:
    """Count one request under every (rule, key) at once: None, or the rule that refused it."""
    try:
        limits_hit([Hit(rule, key) for rule, key in checks])
    except LimitReached as reached:
        return reached.rule
    return None


@pytest.mark.usefixtures("rules", "clock")
def test_a_request_is_counted_under_every_rule(backend):
    assert ratelimit_hit_all(CHECKS) is None

    assert limit_usage(Hit("first", "a")) == (1, 2)
    assert limit_usage(Hit("second", "shared")) == (1, 3)


@pytest.mark.usefixtures("rules", "clock")
def test_the_first_rule_at_its_rate_is_named_and_nothing_is_counted(backend):
    results = [ratelimit_hit_all(CHECKS) for _ in range(4)]

    assert results == [None, None, "first", "first"]
    # The refused requests spent nothing on the rule after the one that refused.
    assert limit_usage(Hit("second", "shared")) == (2, 3)
    assert ratelimit_hit_all([("first", "b"), ("second", "shared")]) is None
    assert ratelimit_hit_all([("first", "c"), ("second", "shared")]) == "second"
    assert limit_usage(Hit("first", "c")) == (0, 2)


@pytest.mark.usefixtures("rules", "clock")
def test_keys_are_counted_apart_and_a_rule_set_to_empty_is_off(backend):
    for _ in range(5):
        ratelimit_hit_all([("off", "x")])
    ratelimit_hit_all([("first", "a")])
    ratelimit_hit_all([("first", "a")])

    assert limit_usage(Hit("off", "x")) is None
    assert ratelimit_hit_all([("off", "x")]) is None
    assert ratelimit_hit_all([("first", "a")]) == "first"
    assert ratelimit_hit_all([("first", "b")]) is None


@pytest.mark.usefixtures("rules")
def test_windows_are_aligned_on_the_clock(backend, clock):
    # A daily rule's window is the UTC day, an hourly rule's the clock hour: whenever a key was first
    # counted, its window ends at the same instant as every other key's.
    clock(DAY - 3600 - 1)
    assert [ratelimit_hit_all([("first", "a")]) for _ in range(3)] == [None, None, "first"]
    clock(DAY - 3600)  # the next clock hour
    assert ratelimit_hit_all([("first", "a")]) is None

    clock(DAY - 1)
    assert [ratelimit_hit_all([("second", "s")]) for _ in range(4)] == [None, None, None, "second"]
    clock(DAY)  # the next UTC day
    assert limit_usage(Hit("second", "s")) == (0, 3)
    assert ratelimit_hit_all([("second", "s")]) is None


@pytest.mark.usefixtures("rules", "clock")
def test_every_counter_expires_when_its_window_ends():
    client = get_redis_connection("default")

    ratelimit_hit_all(CHECKS)

    keys = client.keys(store_key("rl-window:*"))
    ttls = sorted(client.ttl(key) for key in keys)
    assert len(keys) == 2
    assert ttls == [3600 - 10, DAY - 10]


@pytest.mark.usefixtures("rules", "clock")
def test_counters_keep_the_keys_they_count_out_of_redis_key_names():
    ratelimit_hit_all([("first", "198.51.100.0/24"), ("second", "+1202555")])

    names = b" ".join(get_redis_connection("default").keys("*")).decode()
    assert "198.51.100" not in names
    assert "+1202555" not in names


@pytest.mark.usefixtures("clock")
def test_rates_with_a_multiplier_are_read_like_the_rest_of_the_table(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "burst": "1/10m"}

    assert ratelimit_hit_all([("burst", "k")]) is None
    assert ratelimit_hit_all([("burst", "k")]) == "burst"
    assert (
        get_redis_connection("default").ttl(get_redis_connection("default").keys(store_key("rl-window:burst:*"))[0])
        == 590
    )
