"""users.codes under concurrency, against the real Redis of the test settings: the attempt counter
and single use hold when many requests check the same code at once."""

from collections import Counter
from collections.abc import Callable

import pytest
from django_redis import get_redis_connection

from tests.support.parallel import in_parallel
from users.codes import CheckResult, RedisCodeStore, _store, code_check, code_consume, code_issue
from users.ratelimits import store_key

PURPOSE = "signup"
SUBJECT = "3d0c5a52-8d1e-4f0b-9b7a-6c2e1f4a5b6c"


@pytest.fixture(autouse=True)
def _real_redis():
    assert isinstance(_store(), RedisCodeStore)


def attempts_counted() -> int:
    return int(get_redis_connection("default").hget(store_key(f"code:{PURPOSE}:{SUBJECT}"), "a"))


def issue(code: str, next_codes) -> None:
    next_codes(code)
    assert code_issue(purpose=PURPOSE, subject=SUBJECT).code == code
    assert attempts_counted() == 0


def check(code: str) -> Callable[..., CheckResult]:
    return lambda *_: code_check(purpose=PURPOSE, subject=SUBJECT, code=code)


@pytest.mark.parametrize("max_attempts", [5, 100], ids=["default-limit", "high-limit"])
def test_twenty_parallel_wrong_guesses_all_count(settings, next_codes, max_attempts):
    settings.VERIFICATION_MAX_ATTEMPTS = max_attempts
    issue("123456", next_codes)

    results = in_parallel(20, check("654321"))

    assert attempts_counted() == 20
    expected_wrong = min(20, max_attempts)
    assert Counter(results) == Counter({CheckResult.WRONG: expected_wrong, CheckResult.EXHAUSTED: 20 - expected_wrong})


def test_right_code_fails_after_twenty_parallel_wrong_guesses(settings, next_codes):
    assert settings.VERIFICATION_MAX_ATTEMPTS == 5
    issue("123456", next_codes)
    in_parallel(20, check("654321"))

    assert check("123456")() is CheckResult.EXHAUSTED
    assert attempts_counted() == 21


def test_ten_parallel_right_guesses_give_exactly_one_success(settings, next_codes):
    settings.VERIFICATION_MAX_ATTEMPTS = 100  # so that single use, not the counter, is what limits
    issue("123456", next_codes)

    results = in_parallel(10, check("123456"))

    assert Counter(results) == Counter({CheckResult.OK: 1, CheckResult.MISSING: 9})
    assert not get_redis_connection("default").exists(store_key(f"code:{PURPOSE}:{SUBJECT}"))


def test_ten_parallel_right_guesses_with_default_limit_give_exactly_one_success(settings, next_codes):
    assert settings.VERIFICATION_MAX_ATTEMPTS == 5
    issue("123456", next_codes)

    results = in_parallel(10, check("123456"))

    assert results.count(CheckResult.OK) == 1
    assert set(results) <= {CheckResult.OK, CheckResult.MISSING, CheckResult.EXHAUSTED}


def test_parallel_mix_of_right_and_wrong_guesses_gives_at_most_one_success(settings, next_codes):
    settings.VERIFICATION_MAX_ATTEMPTS = 100
    issue("123456", next_codes)
    guesses = ["123456"] * 5 + ["000000"] * 15

    results = in_parallel(20, lambda n: code_check(purpose=PURPOSE, subject=SUBJECT, code=guesses[n]))

    assert results.count(CheckResult.OK) == 1
    assert check("123456")() is CheckResult.MISSING  # consumed


def test_ten_parallel_uses_of_a_code_checked_without_consuming_give_exactly_one_success(settings, next_codes):
    # A password reset checks the code first and uses it up later: of parallel requests that all
    # found it right, exactly one uses it.
    settings.VERIFICATION_MAX_ATTEMPTS = 100
    issue("123456", next_codes)
    assert code_check(purpose=PURPOSE, subject=SUBJECT, code="123456", consume=False) is CheckResult.OK

    results = in_parallel(10, lambda _: code_consume(purpose=PURPOSE, subject=SUBJECT, code="123456"))

    assert sorted(results) == [False] * 9 + [True]
