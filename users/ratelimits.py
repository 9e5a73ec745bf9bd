"""Rate limits: django-ratelimit over the shared cache, one named rule per guarded action.

The rates live in ``settings.RATE_LIMITS`` (see project/settings/base.py for the commented
table; ``RATE_LIMITS="login_ip=50/m"`` in the environment overrides one). Keys are the client
address (``REMOTE_ADDR``, or the address a trusted proxy put in ``X-Forwarded-For``) or the
normalized identifier, so "Jane@Example.com" and "jane@example.com" share one quota. A limited
request gets 429 with ``Retry-After`` and a body that does not say which rule fired.
"""

import ipaddress
import logging
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
