"""The embedded default's cache: no live entry is ever evicted (flooding it cannot reset a rate
limit or a counter), expired ones are swept, and increments are atomic across threads."""

import time

import pytest

from project.cache import MemoryCache
from tests.support.parallel import in_parallel


@pytest.fixture
def cache(request):
    instance = MemoryCache(f"test-{request.node.name}", {"OPTIONS": {"SWEEP_FLOOR": 64}})
    yield instance
    instance.clear()


def test_a_flood_of_entries_evicts_no_live_entry(cache):
    cache.set("login-failures:jane", 9, timeout=900)

    for index in range(100_000):
        cache.add(f"junk:{index}", 1, timeout=900)

    assert cache.get("login-failures:jane") == 9
    assert len(cache) == 100_001


def test_expired_entries_are_swept_as_the_cache_grows(cache):
    for index in range(1000):
        cache.set(f"short:{index}", 1, timeout=0.01)
    time.sleep(0.05)

    for index in range(200):
        cache.set(f"long:{index}", 1, timeout=900)

    assert len(cache) < 600
    assert cache.get("short:1") is None
    assert all(cache.get(f"long:{index}") == 1 for index in range(200))


def test_threads_share_one_store_by_location():
    first, second = MemoryCache("shared-location", {}), MemoryCache("shared-location", {})
    first.set("counter", 1)

    assert second.get("counter") == 1
    first.clear()


def test_parallel_increments_all_count(cache):
    cache.add("counter", 0, timeout=60)

    in_parallel(20, lambda _: [cache.incr("counter") for _ in range(50)])

    assert cache.get("counter") == 1000


def test_add_touch_ttl_and_delete_behave_as_a_django_cache(cache):
    assert cache.add("key", "a", timeout=60)
    assert not cache.add("key", "b", timeout=60)
    assert 58 <= cache.ttl("key") <= 60
    assert cache.touch("key", timeout=5)
    assert cache.ttl("key") <= 5
    assert cache.ttl("missing") == 0
    with pytest.raises(ValueError, match="not found"):
        cache.incr("missing")
    assert cache.delete("key")
    assert cache.get("key", "gone") == "gone"
    assert cache.get_or_set("made", lambda: 7, timeout=60) == 7
