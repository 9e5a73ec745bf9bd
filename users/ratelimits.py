"""Rate limits: django-ratelimit over the shared cache, one named rule per guarded action.

The rates live in ``settings.RATE_LIMITS`` (see project/settings/base.py for the commented
table; ``RATE_LIMITS="login_ip=50/m"`` in the environment overrides one). Keys are the client
address (``REMOTE_ADDR``, or the address a trusted proxy put in ``X-Forwarded-For``) or the
normalized identifier, so "Jane@Example.com" and "jane@example.com" share one quota. A limited
request gets 429 with ``Retry-After`` and a body that does not say which rule fired.

Rules that guard one action together (the SMS rules) are counted by :func:`ratelimit_hit_all`
instead: one atomic step for all of them, in windows aligned on the clock.
"""

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit.core import _get_window, _make_cache_key, _split_rate, get_usage

from project.exceptions import RateLimited

logger = logging.getLogger(__name__)


# The key of requests without a usable client address (a server behind a unix socket leaves
# REMOTE_ADDR empty): they share one bucket rather than fail, since they cannot be told apart.
UNKNOWN_CLIENT = "0.0.0.0"  # noqa: S104 - a rate-limit key, not an address to bind
_warned_unknown_client = False


def _address(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The client address. With TRUSTED_PROXY_COUNT = n, the nth address from the right of
    X-Forwarded-For (the one our own proxies saw); addresses further left are the client's
    word and are never trusted, so rotating them changes nothing. UNKNOWN_CLIENT when there is
    no address at all."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= hops and (address := _address(forwarded[-hops])):
            return address
    remote = request.META.get("REMOTE_ADDR") or ""
    address = _address(remote)
    if address is None:
        global _warned_unknown_client
        if not _warned_unknown_client:
            _warned_unknown_client = True
            logger.warning(
                "REMOTE_ADDR %r is not an IP address: clients without one share the rate limits of %s",
                remote[:64],
                UNKNOWN_CLIENT,
            )
        return UNKNOWN_CLIENT
    return address


# The key of rules counted per client address; any other key is a normalized identifier.
BY_IP = "ip"


def _usage(request: Any, rule: str, key: str, *, increment: bool) -> dict | None:
    rate = settings.RATE_LIMITS.get(rule)
    if not rate:
        return None  # a rule set to "" is off
    # "ip" is django-ratelimit's client-address key (through client_ip, with IPv6 /64 masking).
    keyfn = BY_IP if key == BY_IP else (lambda group, req: key)
    return get_usage(request, group=f"rl:{rule}", key=keyfn, rate=rate, method=ALL, increment=increment)


def ratelimit_hit(request: Any, rule: str, key: str) -> None:
    """Count one request under ``rule`` for ``key`` (BY_IP or an identifier); raise RateLimited
    when over the rate."""
    usage = _usage(request, rule, key, increment=True)
    if usage and usage["should_limit"]:
        logger.info("rate limit %s reached", rule)
        raise RateLimited(retry_after=usage["time_left"])


def ratelimit_refund(rule: str, key: str) -> None:
    """Take back one request counted by ratelimit_hit for an identifier ``key`` (not BY_IP): a
    rule that counts failures counts every attempt up front, so that parallel attempts cannot all
    pass a check made before the outcome is known, and refunds the attempts that succeed."""
    rate = settings.RATE_LIMITS.get(rule)
    if not rate:
        return
    group = f"rl:{rule}"
    _, period = _split_rate(rate)
    # django-ratelimit 4.1's own key derivation (pinned in requirements/base.txt).
    cache_key = _make_cache_key(group, _get_window(key, period), rate, key, ALL)
    try:
        caches[settings.RATELIMIT_USE_CACHE].decr(cache_key)
    except ValueError:
        pass  # the window ended in between: nothing left to refund


def client_network(request: HttpRequest) -> str:
    """The client address as rate limits count it: an IPv6 client is its /64 (one subscriber
    usually holds a whole /64, so single addresses would be free to rotate)."""
    address = client_ip(request)
    prefix = 64 if ":" in address else 32
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


# The networks the SMS rules count a client by: blocks that one operator (a hosting customer, an
# office, a small provider) commonly holds whole, so that rotating addresses inside one gains
# nothing.
SMS_NETWORK_PREFIX = {4: 24, 6: 48}


def sms_network(request: HttpRequest) -> str:
    """The client's network as the SMS rules count it, e.g. "203.0.113.0/24" or
    "2001:db8:1::/48". An IPv4 address written as IPv6 (``::ffff:203.0.113.7``, from a
    dual-stack socket) is the IPv4 address it stands for."""
    address = ipaddress.ip_address(client_ip(request))
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(ipaddress.ip_network(f"{address}/{SMS_NETWORK_PREFIX[address.version]}", strict=False))


# --- Rules counted together -----------------------------------------------------------------
# A guard that checks several rules at once (the SMS guard: per network, per number range, per
# country, then the daily budget) counts them in one atomic step of our own rather than one
# django-ratelimit call each: one Redis round trip instead of two per rule, and a request that
# one rule refuses is counted by none, so a refusal never spends the budget further down. The
# windows are fixed and aligned on the clock (a "d" window is a UTC day, an "h" window a clock
# hour), so that the daily rules of one guard cover the same day and their bounds add up.

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_rate(rate: str) -> tuple[int, int]:
    """The table's "count/period" ("20/h", "5/10m") as (count, seconds)."""
    count, _, period = rate.partition("/")
    return int(count), int(period[:-1] or 1) * _PERIOD_SECONDS[period[-1]]


def _clock() -> float:
    return time.time()


def _window_key(rule: str, window_start: int, key: str) -> str:
    # The key is hashed: number ranges and client networks stay out of Redis key names.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"rl-window:{rule}:{window_start}:{digest}"


@dataclass(frozen=True)
class _Window:
    rule: str
    key: str  # of the counter of the current window
    limit: int
    ends_in: int  # whole seconds until the window ends (the counter's TTL)


def _windows(checks: Sequence[tuple[str, str]]) -> list[_Window]:
    now = _clock()
    windows = []
    for rule, key in checks:
        rate = settings.RATE_LIMITS.get(rule)
        if not rate:
            continue  # a rule set to "" is off
        limit, period = _parse_rate(rate)
        start = int(now // period) * period
        windows.append(_Window(rule, _window_key(rule, start, key), limit, max(1, math.ceil(start + period - now))))
    return windows


# KEYS: one counter per rule. ARGV: limit and TTL of each, in the same order. Counts the request
# under every counter and returns 0, or, if a counter has reached its limit, counts nothing and
# returns the (1-based) position of the first such counter.
_HIT_ALL = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[2 * i - 1]) then return i end
end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('EXPIRE', key, ARGV[2 * i]) end
end
return 0
"""


class _RedisWindows:
    def __init__(self, alias: str) -> None:
        from django_redis import get_redis_connection

        self._client = get_redis_connection(alias)
        self._hit_all = self._client.register_script(_HIT_ALL)

    def hit_all(self, windows: list[_Window]) -> int:
        limits_and_ttls = [value for window in windows for value in (window.limit, window.ends_in)]
        return int(self._hit_all(keys=[window.key for window in windows], args=limits_and_ttls))

    def count(self, window: _Window) -> int:
        return int(self._client.get(window.key) or 0)


class _CacheWindows:
    """The same over a per-process cache (the embedded default's local memory), made atomic by a
    lock: that cache is only shared by the threads of one process anyway."""

    _lock = threading.Lock()

    def __init__(self, alias: str) -> None:
        self._cache = caches[alias]

    def hit_all(self, windows: list[_Window]) -> int:
        with self._lock:
            counts = self._cache.get_many([window.key for window in windows])
            for position, window in enumerate(windows, start=1):
                if counts.get(window.key, 0) >= window.limit:
                    return position
            for window in windows:
                self._cache.set(window.key, counts.get(window.key, 0) + 1, timeout=window.ends_in)
            return 0

    def count(self, window: _Window) -> int:
        return int(self._cache.get(window.key) or 0)


def _counter_store() -> _RedisWindows | _CacheWindows:
    alias = settings.RATELIMIT_USE_CACHE
    if settings.CACHES[alias]["BACKEND"].startswith("django_redis"):
        return _RedisWindows(alias)
    return _CacheWindows(alias)


def ratelimit_hit_all(checks: Sequence[tuple[str, str]]) -> str | None:
    """Count one request under every ``(rule, key)`` of ``checks`` at once, or, if one of them has
    already reached its rate, under none: returns the first such rule (in the order given), or
    None when the request was counted. Rules set to "" are skipped."""
    windows = _windows(checks)
    if not windows:
        return None
    refused = _counter_store().hit_all(windows)
    return windows[refused - 1].rule if refused else None


def ratelimit_usage(rule: str, key: str) -> tuple[int, int] | None:
    """How many requests :func:`ratelimit_hit_all` counted under ``rule`` for ``key`` in the
    current window, and the rule's limit; None when the rule is off."""
    windows = _windows([(rule, key)])
    if not windows:
        return None
    return _counter_store().count(windows[0]), windows[0].limit
