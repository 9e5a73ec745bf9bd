"""Rate limits: one named rule per guarded action, counted in fixed windows in the shared cache.

The rates live in ``settings.RATE_LIMITS`` (see project/settings/base.py for the commented table;
``RATE_LIMITS="login_ip=50/m"`` in the environment overrides one), in django-ratelimit's syntax
("count/period", "5/10m"). Keys are the client's network (its address; an IPv6 client is its /64)
or a normalized identifier, so "Jane@Example.com" and "jane@example.com" share one quota.

A request's rules are counted together, in one atomic step: a request one rule refuses is counted
by none (a refusal never spends a budget further down), and every rule of a request costs one Redis
round trip in all. The code store (users/codes.py) runs the same step inside its own scripts, so a
sign-up counts its limits and issues its code in one round trip. A limited request gets 429 with
``Retry-After`` (the seconds left in the window that refused it) and a body that does not say which
rule fired. Windows are aligned on the clock (a "d" window is a UTC day, an "h" window a clock
hour), so that the rules of one guard cover the same period and their bounds add up.

The admin's log-in form is limited by django-ratelimit's own decorator (users/admin.py): one rule,
on a Django view, where it fits as it is.
"""

import hashlib
import ipaddress
import logging
import math
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest

from project.exceptions import REDIS_UNAVAILABLE, RateLimited, ServiceUnavailable

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


# The key of rules counted per client (its network); any other key is a normalized identifier.
BY_CLIENT = "client"


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


# --- Counting ---------------------------------------------------------------------------------

_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """The table's "count/period" ("20/h", "5/10m") as (count, seconds)."""
    count, _, period = rate.partition("/")
    return int(count), int(period[:-1] or 1) * _PERIOD_SECONDS[period[-1]]


@dataclass(frozen=True)
class Hit:
    """One request to count under ``rule`` for ``key`` (a client network, an identifier...)."""

    rule: str
    key: str


def client_hit(request: HttpRequest, rule: str) -> Hit:
    """A hit of ``rule`` keyed on the client (its network: see client_network)."""
    return Hit(rule, client_network(request))


class LimitReached(RateLimited):
    """``rule`` refused the request; ``retry_after`` is what is left of its window."""

    def __init__(self, rule: str, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        self.rule = rule


def _clock() -> float:
    return time.time()


def store_key(name: str) -> str:
    """The Redis key of one of our own counters or codes: the default cache's key prefix as a hash
    tag, so that every key a script touches is in one slot of a Redis Cluster (project/redis_cluster.py)."""
    return f"{{{settings.CACHES['default'].get('KEY_PREFIX', '')}}}:{name}"


def _window_key(rule: str, window_start: int, key: str) -> str:
    # The key is hashed: addresses, identifiers and number ranges stay out of Redis key names.
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return store_key(f"rl-window:{rule}:{window_start}:{digest}")


@dataclass(frozen=True)
class Window:
    """The counter of a hit's rule in the current window."""

    rule: str
    key: str  # the counter's cache key
    limit: int
    ends_in: int  # whole seconds until the window ends (the counter's TTL)


def windows_of(hits: Sequence[Hit]) -> list[Window]:
    """The current windows of ``hits``, in order; rules set to "" (off) are left out."""
    now = _clock()
    windows = []
    for hit in hits:
        rate = settings.RATE_LIMITS.get(hit.rule)
        if not rate:
            continue
        limit, period = parse_rate(rate)
        start = int(now // period) * period
        ends_in = max(1, math.ceil(start + period - now))
        windows.append(Window(hit.rule, _window_key(hit.rule, start, hit.key), limit, ends_in))
    return windows


# The counting step, as the start of a Lua script. KEYS[1..n] are the windows' counters; ARGV[1] is
# n, then each window's limit and TTL. If a counter has reached its limit, nothing is counted and
# the script returns {"limit", i} (i the first such window); otherwise every counter counts one and
# the rest of the script runs with its own keys from KEYS[n + 1] and arguments from ARGV[2n + 2].
WINDOWS_LUA = """
local windows = tonumber(ARGV[1])
for i = 1, windows do
  if tonumber(redis.call('GET', KEYS[i]) or '0') >= tonumber(ARGV[2 * i]) then return {'limit', i} end
end
for i = 1, windows do
  if redis.call('INCR', KEYS[i]) == 1 then redis.call('EXPIRE', KEYS[i], ARGV[2 * i + 1]) end
end
"""


def windows_args(windows: Sequence[Window]) -> tuple[list[str], list[int]]:
    """The KEYS and ARGV that WINDOWS_LUA reads, for these windows."""
    return [w.key for w in windows], [len(windows), *(v for w in windows for v in (w.limit, w.ends_in))]


def refused(windows: Sequence[Window], position: int) -> LimitReached:
    """The refusal of the window at 1-based ``position`` (as WINDOWS_LUA returns it)."""
    window = windows[position - 1]
    logger.info("rate limit %s reached", window.rule)
    return LimitReached(window.rule, window.ends_in)


class _RedisWindows:
    _HIT_ALL = WINDOWS_LUA + "return {'ok'}"
    _REFUND = "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0"

    def __init__(self, alias: str) -> None:
        from django_redis import get_redis_connection

        self._client = get_redis_connection(alias)
        self._hit_all = self._client.register_script(self._HIT_ALL)
        self._refund = self._client.register_script(self._REFUND)

    def hit_all(self, windows: Sequence[Window]) -> int:
        keys, args = windows_args(windows)
        result = self._hit_all(keys=keys, args=args)
        return int(result[1]) if script_tag(result) == "limit" else 0

    def refund(self, window: Window) -> None:
        self._refund(keys=[window.key])

    def count(self, window: Window) -> int:
        return int(self._client.get(window.key) or 0)


def script_tag(result: list) -> str:
    """The tag a script's answer starts with ("limit", "ok"...)."""
    tag = result[0]
    return tag.decode() if isinstance(tag, bytes) else tag


class _CacheWindows:
    """The same over a per-process cache (the embedded default's local memory), made atomic by a
    lock: that cache is only shared by the threads of one process anyway."""

    _lock = threading.Lock()

    def __init__(self, alias: str) -> None:
        self._cache = caches[alias]

    def hit_all(self, windows: Sequence[Window]) -> int:
        with self._lock:
            counts = self._cache.get_many([window.key for window in windows])
            for position, window in enumerate(windows, start=1):
                if counts.get(window.key, 0) >= window.limit:
                    return position
            for window in windows:
                self._cache.set(window.key, counts.get(window.key, 0) + 1, timeout=window.ends_in)
            return 0

    def refund(self, window: Window) -> None:
        with self._lock:
            count = self._cache.get(window.key)
            if count:
                self._cache.set(window.key, count - 1, timeout=window.ends_in)

    def count(self, window: Window) -> int:
        return int(self._cache.get(window.key) or 0)


_stores_lock = threading.Lock()
_stores: dict[str, _RedisWindows | _CacheWindows] = {}


def counter_store() -> _RedisWindows | _CacheWindows:
    """The counters' store for the cache in use (made once per cache configuration)."""
    alias = settings.RATELIMIT_USE_CACHE
    backend = settings.CACHES[alias]["BACKEND"]
    name = f"{backend}|{settings.CACHES[alias].get('LOCATION', '')}"
    with _stores_lock:
        if name not in _stores:
            _stores[name] = _RedisWindows(alias) if backend.startswith("django_redis") else _CacheWindows(alias)
        return _stores[name]


def limits_hit(hits: Sequence[Hit]) -> None:
    """Count one request under every hit at once, or, if one of their rules has already reached
    its rate, under none and raise LimitReached (a 429) for the first such rule."""
    windows = windows_of(hits)
    if not windows:
        return
    try:
        position = counter_store().hit_all(windows)
    except REDIS_UNAVAILABLE as exc:
        raise ServiceUnavailable() from exc
    if position:
        raise refused(windows, position)


def ratelimit_hit(request: HttpRequest, rule: str, key: str) -> None:
    """Count one request under ``rule`` for ``key`` (BY_CLIENT: the client's network)."""
    limits_hit([client_hit(request, rule) if key == BY_CLIENT else Hit(rule, key)])


def limit_refund(hit: Hit) -> None:
    """Take back one request counted under a hit: a rule that counts failures counts every attempt
    up front, so that parallel attempts cannot all pass a check made before the outcome is known,
    and refunds the attempts that succeed."""
    windows = windows_of([hit])
    if windows:
        try:
            counter_store().refund(windows[0])
        except REDIS_UNAVAILABLE:
            logger.warning("rate limit %s: a refund was lost", hit.rule)


def limit_usage(hit: Hit) -> tuple[int, int] | None:
    """How many requests were counted under the hit's rule and key in the current window, and the
    rule's limit; None when the rule is off."""
    windows = windows_of([hit])
    if not windows:
        return None
    return counter_store().count(windows[0]), windows[0].limit
