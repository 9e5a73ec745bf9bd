"""MemoryCodeStore (users/codes.py, the store of `make run`) drops expired codes and cooldowns, so a
long-running process does not grow without bound, and never drops live ones."""

import pytest

from users.codes import MemoryCodeStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def issue(store: MemoryCodeStore, n: int, *, ttl: int = 600, cooldown: int = 60, prefix: str = "s") -> None:
    assert store.issue(f"code:{prefix}{n}", f"cooldown:{prefix}{n}", f"digest{n}", ttl, cooldown) == 0


def test_expired_codes_and_cooldowns_are_dropped(clock):
    store = MemoryCodeStore(prune_floor=16, clock=clock)
    for n in range(100):
        issue(store, n)
    clock.now += 601  # every code and cooldown above has expired

    for n in range(100):
        issue(store, n, prefix="t")

    # Of the 200 codes and 200 cooldowns, at most the live ones and one pruning interval remain.
    assert len(store) <= 2 * 200
    assert not any(key.startswith("code:s") for key in store._codes)
    assert not any(key.startswith("cooldown:s") for key in store._cooldowns)


def test_memory_stays_bounded_under_constant_churn(clock):
    store = MemoryCodeStore(prune_floor=64, clock=clock)
    sizes = []
    for n in range(20_000):
        issue(store, n, ttl=10, cooldown=5)
        clock.now += 1  # about 10 codes and 5 cooldowns are alive at any time
        sizes.append(len(store))

    assert max(sizes) <= 2 * 64


def test_pruning_keeps_live_codes_and_cooldowns(clock):
    store = MemoryCodeStore(prune_floor=8, clock=clock)
    issue(store, 0, ttl=600, cooldown=300)
    clock.now += 100
    for n in range(1, 50):
        issue(store, n, ttl=1, cooldown=1)
        clock.now += 2

    assert store.attempt("code:s0") == (1, "digest0")
    assert store.issue("code:s0", "cooldown:s0", "other", 600, 300) > 0  # the cooldown still runs
    assert store.consume("code:s0", "cooldown:s0", "digest0") is True


def test_pruning_is_amortized_not_on_every_issue(clock, monkeypatch):
    store = MemoryCodeStore(prune_floor=32, clock=clock)
    prunes = []
    real_prune = store._prune
    monkeypatch.setattr(store, "_prune", lambda now: (prunes.append(now), real_prune(now)))

    for n in range(1000):
        issue(store, n)  # all alive: nothing to drop, the store just grows

    assert len(store) == 2000
    assert 1 <= len(prunes) <= 10  # the threshold doubles with what is alive
