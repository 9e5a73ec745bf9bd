"""The cache of the embedded default: one process's memory, and no entry is evicted before it expires.

Rate-limit counters and delivery claims are security state: a cache that evicts the oldest entries
when full (Django's local-memory cache keeps 300) lets anyone who floods it with junk requests
reset them. This one keeps every live entry; expired ones are swept when the cache has doubled
since the last sweep, so a sweep costs O(1) per write on average and memory stays bounded by what
is alive (each client's own rate limits bound how fast that grows). Every instance with the same
LOCATION shares one store, so all the threads of a process see the same counters.
"""

import pickle
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache

_stores: dict[str, "_Store"] = {}
_stores_lock = threading.Lock()


class _Store:
    def __init__(self, sweep_floor: int) -> None:
        self.lock = threading.Lock()
        # key -> (expiry as epoch seconds, as BaseCache.get_backend_timeout gives it; pickled value)
        self.entries: dict[str, tuple[float | None, bytes]] = {}
        self.sweep_floor = sweep_floor
        self.sweep_at = sweep_floor

    def live(self, key: str, now: float) -> tuple[float | None, bytes] | None:
        entry = self.entries.get(key)
        if entry is None:
            return None
        if entry[0] is not None and entry[0] <= now:
            del self.entries[key]
            return None
        return entry

    def put(self, key: str, expires: float | None, value: bytes, now: float) -> None:
        self.entries[key] = (expires, value)
        if len(self.entries) >= self.sweep_at:
            self.entries = {k: e for k, e in self.entries.items() if e[0] is None or e[0] > now}
            self.sweep_at = max(self.sweep_floor, 2 * len(self.entries))


class MemoryCache(BaseCache):
    """A process-local cache that never evicts live entries. OPTIONS: ``SWEEP_FLOOR`` (entries
    below which no sweep runs, 1024 by default)."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)
        floor = int(params.get("OPTIONS", {}).get("SWEEP_FLOOR", 1024))
        with _stores_lock:
            self._store = _stores.setdefault(location, _Store(floor))

    def add(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._store.lock:
            if self._store.live(key, now) is not None:
                return False
            self._store.put(key, self.get_backend_timeout(timeout), pickle.dumps(value, pickle.HIGHEST_PROTOCOL), now)
            return True

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            entry = self._store.live(key, time.time())
        return default if entry is None else pickle.loads(entry[1])  # noqa: S301 - our own pickles

    def set(self, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            self._store.put(
                key, self.get_backend_timeout(timeout), pickle.dumps(value, pickle.HIGHEST_PROTOCOL), time.time()
            )

    def touch(self, key: str, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._store.lock:
            entry = self._store.live(key, now)
            if entry is None:
                return False
            self._store.entries[key] = (self.get_backend_timeout(timeout), entry[1])
            return True

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        # Atomic under the lock, unlike BaseCache's get-then-set: parallel requests all count.
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            entry = self._store.live(key, time.time())
            if entry is None:
                raise ValueError(f"Key '{key}' not found")
            value = pickle.loads(entry[1]) + delta  # noqa: S301 - our own pickles
            self._store.entries[key] = (entry[0], pickle.dumps(value, pickle.HIGHEST_PROTOCOL))
            return value

    def ttl(self, key: str, version: int | None = None) -> int | None:
        """Seconds left (None: no expiry), or 0 when there is no such key (as django-redis answers)."""
        key = self.make_and_validate_key(key, version=version)
        now = time.time()
        with self._store.lock:
            entry = self._store.live(key, now)
        if entry is None:
            return 0
        return None if entry[0] is None else max(0, round(entry[0] - now))

    def has_key(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            return self._store.live(key, time.time()) is not None

    def delete(self, key: str, version: int | None = None) -> bool:
        key = self.make_and_validate_key(key, version=version)
        with self._store.lock:
            return self._store.entries.pop(key, None) is not None

    def clear(self) -> None:
        with self._store.lock:
            self._store.entries.clear()
            self._store.sweep_at = self._store.sweep_floor

    def __len__(self) -> int:
        with self._store.lock:
            return len(self._store.entries)
