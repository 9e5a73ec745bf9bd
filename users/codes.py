"""The one-time code store.

A code is bound to a purpose ("signup") and a subject (an account id), and optionally to what it
proves (``binding``: the identifier a code was sent to). Only an HMAC of
``purpose:subject:code[:binding]`` is stored, with a TTL and an attempt counter; the plaintext leaves this
module once, in the return value of :func:`code_issue`, for the outgoing message.

With Redis (the django-redis default cache) every operation is one Lua script, so issuing, counting
attempts and consuming are atomic across processes: parallel wrong guesses all count, and of
parallel right guesses exactly one wins. Without Redis (the embedded default of ``make run``) an
in-process store with a lock gives the same guarantees within one process.
"""

import hmac
import math
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from django.conf import settings
from django.utils.crypto import salted_hmac

from project.exceptions import REDIS_UNAVAILABLE, ServiceUnavailable
from users.ratelimits import (
    WINDOWS_LUA,
    Hit,
    Window,
    counter_store,
    refused,
    script_tag,
    store_key,
    windows_args,
    windows_of,
)


class CheckResult(Enum):
    OK = "ok"
    WRONG = "wrong"
    MISSING = "missing"  # never issued, expired or already used
    EXHAUSTED = "exhausted"


@dataclass(frozen=True)
class Issued:
    code: str | None  # None when the resend cooldown is still running
    retry_after: int  # seconds until another code may be issued


def _code_key(purpose: str, subject: str) -> str:
    return store_key(f"code:{purpose}:{subject}")


def _cooldown_key(purpose: str, subject: str) -> str:
    return store_key(f"code-cooldown:{purpose}:{subject}")


def _digest(purpose: str, subject: str, code: str, binding: str = "", secret: str | None = None) -> str:
    message = f"{purpose}:{subject}:{code}" + (f":{binding}" if binding else "")
    return salted_hmac("users.codes", message, secret=secret, algorithm="sha256").hexdigest()


def _candidates(purpose: str, subject: str, code: str, binding: str) -> list[str]:
    """The digests a right code can have: with SECRET_KEY, then with each of SECRET_KEY_FALLBACKS
    (a code issued just before a key rotation stays good for its ten minutes)."""
    return [
        _digest(purpose, subject, code, binding),
        *(_digest(purpose, subject, code, binding, secret=old) for old in settings.SECRET_KEY_FALLBACKS),
    ]


def _matches(stored: str, candidates: list[str]) -> bool:
    # Every candidate compared, in constant time each: the time does not tell which key matched.
    return sum(hmac.compare_digest(stored, candidate) for candidate in candidates) > 0


def _generate() -> str:
    length = settings.VERIFICATION_CODE_LENGTH
    return f"{secrets.randbelow(10**length):0{length}d}"


# Each script starts with the rate limits of the request (users.ratelimits.WINDOWS_LUA: KEYS and
# ARGV of the windows first), so that a request counts its limits and touches its code in one round
# trip; a request its limits refuse touches no code.

# KEYS: windows..., code, cooldown. ARGV: windows..., digest, ttl seconds, cooldown seconds.
# Returns {"ok"} when stored, or {"cooldown", milliseconds left on the cooldown}.
_ISSUE = (
    WINDOWS_LUA
    + """
local k, a = windows, 2 * windows + 1
local wait = redis.call('PTTL', KEYS[k + 2])
if wait > 0 then return {'cooldown', wait} end
redis.call('DEL', KEYS[k + 1])
redis.call('HSET', KEYS[k + 1], 'h', ARGV[a + 1], 'a', 0)
redis.call('EXPIRE', KEYS[k + 1], ARGV[a + 2])
if tonumber(ARGV[a + 3]) > 0 then redis.call('SET', KEYS[k + 2], '1', 'EX', ARGV[a + 3]) end
return {'ok'}
"""
)

# KEYS: windows..., code. Counts the attempt: {"ok", attempts, digest}, or {"missing"}.
_ATTEMPT = (
    WINDOWS_LUA
    + """
local code = KEYS[windows + 1]
if redis.call('EXISTS', code) == 0 then return {'missing'} end
local attempts = redis.call('HINCRBY', code, 'a', 1)
return {'ok', attempts, redis.call('HGET', code, 'h')}
"""
)

# KEYS: code, cooldown. ARGV: digest. Deletes the code only if it is still the one that was
# checked, and its cooldown with it: once a code is used, the next one may follow at once (a sign-up
# of the address right after its owner verified gets a new code or notice, as any sign-up would).
_CONSUME = """
if redis.call('HGET', KEYS[1], 'h') == ARGV[1] then return redis.call('DEL', KEYS[1], KEYS[2]) end
return 0
"""


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedisCodeStore:
    def __init__(self) -> None:
        from django_redis import get_redis_connection

        client = self._client = get_redis_connection("default")
        self._issue = client.register_script(_ISSUE)
        self._attempt = client.register_script(_ATTEMPT)
        self._consume = client.register_script(_CONSUME)

    def issue(
        self, key: str, cooldown_key: str, digest: str, ttl: int, cooldown: int, windows: Sequence[Window] = ()
    ) -> int:
        """0 when stored, else the milliseconds left on the cooldown; LimitReached when refused."""
        window_keys, window_args = windows_args(windows)
        result = self._issue(keys=[*window_keys, key, cooldown_key], args=[*window_args, digest, ttl, cooldown])
        tag = script_tag(result)
        if tag == "limit":
            raise refused(windows, int(result[1]))
        return int(result[1]) if tag == "cooldown" else 0

    def attempt(self, key: str, windows: Sequence[Window] = ()) -> tuple[int, str | None]:
        """(attempts so far, stored digest), or (-1, None) without a code; LimitReached when refused."""
        window_keys, window_args = windows_args(windows)
        result = self._attempt(keys=[*window_keys, key], args=window_args)
        tag = script_tag(result)
        if tag == "limit":
            raise refused(windows, int(result[1]))
        if tag == "missing":
            return -1, None
        return int(result[1]), _text(result[2])

    def consume(self, key: str, cooldown_key: str, digest: str) -> bool:
        return bool(self._consume(keys=[key, cooldown_key], args=[digest]))

    def revoke(self, key: str, cooldown_key: str) -> None:
        self._client.delete(key, cooldown_key)


def _memory_limits(windows: Sequence[Window]) -> None:
    if windows and (position := counter_store().hit_all(windows)):
        raise refused(windows, position)


class MemoryCodeStore:
    """Single-process twin of :class:`RedisCodeStore` for the embedded default.

    Expired codes and cooldowns are dropped when the store has doubled since the last sweep (and
    holds at least ``prune_floor`` entries): each sweep is paid for by the issues that grew it, so
    it costs O(1) per issue on average, and the store never holds more than ``prune_floor`` entries
    or twice what was alive at the last sweep.
    """

    def __init__(self, *, prune_floor: int = 1024, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._codes: dict[str, tuple[float, str, int]] = {}  # key -> (expires, digest, attempts)
        self._cooldowns: dict[str, float] = {}  # key -> expires
        self._prune_floor = prune_floor
        self._prune_at = prune_floor

    def __len__(self) -> int:
        return len(self._codes) + len(self._cooldowns)

    def _prune(self, now: float) -> None:
        self._codes = {key: entry for key, entry in self._codes.items() if entry[0] > now}
        self._cooldowns = {key: until for key, until in self._cooldowns.items() if until > now}
        self._prune_at = max(self._prune_floor, 2 * len(self))

    def issue(
        self, key: str, cooldown_key: str, digest: str, ttl: int, cooldown: int, windows: Sequence[Window] = ()
    ) -> int:
        _memory_limits(windows)
        now = self._clock()
        with self._lock:
            until = self._cooldowns.get(cooldown_key, 0.0)
            if until > now:
                return math.ceil((until - now) * 1000)
            self._codes[key] = (now + ttl, digest, 0)
            if cooldown > 0:
                self._cooldowns[cooldown_key] = now + cooldown
            if len(self) >= self._prune_at:
                self._prune(now)
            return 0

    def attempt(self, key: str, windows: Sequence[Window] = ()) -> tuple[int, str | None]:
        _memory_limits(windows)
        with self._lock:
            entry = self._codes.get(key)
            if entry is None or entry[0] <= self._clock():
                self._codes.pop(key, None)
                return -1, None
            expires, digest, attempts = entry
            self._codes[key] = (expires, digest, attempts + 1)
            return attempts + 1, digest

    def consume(self, key: str, cooldown_key: str, digest: str) -> bool:
        with self._lock:
            entry = self._codes.get(key)
            if entry is not None and entry[1] == digest:
                del self._codes[key]
                self._cooldowns.pop(cooldown_key, None)
                return True
            return False

    def revoke(self, key: str, cooldown_key: str) -> None:
        with self._lock:
            self._codes.pop(key, None)
            self._cooldowns.pop(cooldown_key, None)


_store_lock = threading.Lock()
_stores: dict[str, RedisCodeStore | MemoryCodeStore] = {}


def _store() -> RedisCodeStore | MemoryCodeStore:
    backend = settings.CACHES["default"]["BACKEND"]
    location = str(settings.CACHES["default"].get("LOCATION", ""))
    name = f"{backend}|{location}"
    with _store_lock:
        if name not in _stores:
            uses_redis = backend.startswith("django_redis")
            _stores[name] = RedisCodeStore() if uses_redis else MemoryCodeStore()
        return _stores[name]


def code_issue(
    *, purpose: str, subject: str, fixed: str | None = None, binding: str = "", hits: Sequence[Hit] = ()
) -> Issued:
    """Issue a new code replacing the previous one, unless the resend cooldown is running.
    ``fixed`` is the code of a test identifier (TEST_IDENTIFIERS); otherwise it is random. A code
    issued with a ``binding`` checks only with the same one. The request's rate limits (``hits``)
    are counted in the same step: LimitReached, and no code, when one refuses."""
    code = fixed or _generate()
    cooldown = settings.VERIFICATION_RESEND_COOLDOWN
    try:
        wait_ms = _store().issue(
            _code_key(purpose, subject),
            _cooldown_key(purpose, subject),
            _digest(purpose, subject, code, binding),
            settings.VERIFICATION_CODE_TTL,
            cooldown,
            windows=windows_of(hits),
        )
    except REDIS_UNAVAILABLE as exc:
        raise ServiceUnavailable() from exc
    if wait_ms:
        return Issued(code=None, retry_after=max(1, math.ceil(wait_ms / 1000)))
    return Issued(code=code, retry_after=cooldown)


def code_check(
    *, purpose: str, subject: str, code: str, binding: str = "", consume: bool = True, hits: Sequence[Hit] = ()
) -> CheckResult:
    """Count one attempt and consume the code if it matches (and was issued with ``binding``; with
    ``consume=False``, leave it for :func:`code_consume`, once the rest of the request has been
    checked). Single use, constant-time compare. The request's rate limits (``hits``) are counted
    in the same step as the attempt: LimitReached, and no attempt, when one refuses."""
    key = _code_key(purpose, subject)
    candidates = _candidates(purpose, subject, code, binding)
    try:
        store = _store()
        attempts, stored = store.attempt(key, windows=windows_of(hits))
        if attempts == -1 or stored is None:
            return CheckResult.MISSING
        if attempts > settings.VERIFICATION_MAX_ATTEMPTS:
            return CheckResult.EXHAUSTED
        if not _matches(stored, candidates):
            return CheckResult.WRONG
        if not consume:
            return CheckResult.OK
        # Another request may have consumed the same code in between: only one of them wins.
        return CheckResult.OK if store.consume(key, _cooldown_key(purpose, subject), stored) else CheckResult.MISSING
    except REDIS_UNAVAILABLE as exc:
        raise ServiceUnavailable() from exc


def code_consume(*, purpose: str, subject: str, code: str, binding: str = "") -> bool:
    """Use up a code that :func:`code_check` found right without consuming it; False if another
    request used it first."""
    store = _store()
    try:
        return any(
            store.consume(_code_key(purpose, subject), _cooldown_key(purpose, subject), digest)
            for digest in _candidates(purpose, subject, code, binding)
        )
    except REDIS_UNAVAILABLE as exc:
        raise ServiceUnavailable() from exc


def code_revoke(*, purpose: str, subject: str) -> None:
    """Forget the current code and its cooldown (its message could not be queued)."""
    try:
        _store().revoke(_code_key(purpose, subject), _cooldown_key(purpose, subject))
    except REDIS_UNAVAILABLE as exc:
        raise ServiceUnavailable() from exc
