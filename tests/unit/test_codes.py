"""users/codes.py against both stores: Redis (the test settings' cache) and the in-process twin."""

import hashlib
import hmac
import time

import pytest
from django_redis import get_redis_connection

from users import codes
from users.codes import CheckResult, MemoryCodeStore, RedisCodeStore, code_check, code_consume, code_issue
from users.ratelimits import store_key

SUBJECT = "6f1c2a9e-0d4b-4c55-9a51-2f5e8f0c1d2e"
OTHER_SUBJECT = "0b7e4a8c-5f3d-4e21-8c6a-9d1f2e3a4b5c"


@pytest.fixture(params=["redis", "memory"])
def store(request, monkeypatch):
    """Runs a test once with the Redis store and once with a fresh in-process store."""
    if request.param == "memory":
        memory = MemoryCodeStore()
        monkeypatch.setattr(codes, "_store", lambda: memory)
        return memory
    assert isinstance(codes._store(), RedisCodeStore)  # the test settings' cache is django-redis
    return codes._store()


@pytest.fixture
def no_cooldown(settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0


def issue(subject: str = SUBJECT, purpose: str = "signup") -> str:
    issued = code_issue(purpose=purpose, subject=subject)
    assert issued.code is not None
    return issued.code


def check(code: str, subject: str = SUBJECT, purpose: str = "signup") -> CheckResult:
    return code_check(purpose=purpose, subject=subject, code=code)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"


def test_issued_code_is_six_digits_and_checks_ok(store):
    code = issue()

    assert len(code) == 6
    assert code.isdigit()
    assert check(code) is CheckResult.OK


def test_code_length_follows_setting(store, settings):
    settings.VERIFICATION_CODE_LENGTH = 8

    code = issue()

    assert len(code) == 8
    assert check(code) is CheckResult.OK


def test_wrong_code_is_refused(store):
    code = issue()

    assert check(wrong(code)) is CheckResult.WRONG


def test_wrong_guess_does_not_consume_the_code(store):
    code = issue()
    check(wrong(code))

    assert check(code) is CheckResult.OK


def test_code_is_single_use(store):
    code = issue()

    assert check(code) is CheckResult.OK
    assert check(code) is CheckResult.MISSING


def test_a_right_code_checked_without_consuming_stays_until_consumed_once(store):
    # The password reset checks the code, then the password against the account, then uses the code.
    code = issue()

    assert code_check(purpose="signup", subject=SUBJECT, code=code, consume=False) is CheckResult.OK
    assert code_check(purpose="signup", subject=SUBJECT, code=code, consume=False) is CheckResult.OK
    assert code_consume(purpose="signup", subject=SUBJECT, code=code) is True
    assert code_consume(purpose="signup", subject=SUBJECT, code=code) is False
    assert check(code) is CheckResult.MISSING


def test_a_check_without_consuming_still_counts_the_attempt(store, settings):
    code = issue()
    for _ in range(settings.VERIFICATION_MAX_ATTEMPTS):
        code_check(purpose="signup", subject=SUBJECT, code=code, consume=False)

    assert check(code) is CheckResult.EXHAUSTED


def test_only_the_current_code_can_be_consumed(store, no_cooldown):
    old = issue()
    new = issue()

    assert code_consume(purpose="signup", subject=SUBJECT, code=wrong(new)) is False
    assert old == new or code_consume(purpose="signup", subject=SUBJECT, code=old) is False
    assert check(new) is CheckResult.OK


def test_never_issued_code_is_missing(store):
    assert check("123456") is CheckResult.MISSING


def test_right_code_is_refused_after_max_wrong_guesses(store, settings):
    code = issue()

    results = [check(wrong(code)) for _ in range(settings.VERIFICATION_MAX_ATTEMPTS)]

    assert results == [CheckResult.WRONG] * 5
    assert check(code) is CheckResult.EXHAUSTED


def test_right_code_still_works_on_the_last_allowed_attempt(store, settings):
    code = issue()
    for _ in range(settings.VERIFICATION_MAX_ATTEMPTS - 1):
        check(wrong(code))

    assert check(code) is CheckResult.OK


def test_max_attempts_follows_setting(store, settings):
    settings.VERIFICATION_MAX_ATTEMPTS = 2
    code = issue()
    check(wrong(code))
    check(wrong(code))

    assert check(code) is CheckResult.EXHAUSTED


def test_code_expires_after_ttl(store, settings):
    settings.VERIFICATION_CODE_TTL = 1
    code = issue()

    time.sleep(1.1)

    assert check(code) is CheckResult.MISSING


def test_resend_within_cooldown_gives_no_code_and_time_to_wait(store, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 60
    first = code_issue(purpose="signup", subject=SUBJECT)

    second = code_issue(purpose="signup", subject=SUBJECT)

    assert first.code is not None
    assert first.retry_after == 60
    assert second.code is None
    assert 1 <= second.retry_after <= 60


def test_refused_resend_keeps_the_current_code(store, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 60
    code = issue()
    code_issue(purpose="signup", subject=SUBJECT)

    assert check(code) is CheckResult.OK


def test_cooldown_is_per_subject(store, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 60
    issue(SUBJECT)

    assert code_issue(purpose="signup", subject=OTHER_SUBJECT).code is not None


def test_new_code_replaces_the_old_one(store, no_cooldown, next_codes):
    next_codes("111111", "222222")
    old = issue()
    new = issue()

    assert check(old) is CheckResult.WRONG
    assert check(new) is CheckResult.OK


def test_new_code_resets_the_attempt_counter(store, no_cooldown, settings):
    old = issue()
    for _ in range(settings.VERIFICATION_MAX_ATTEMPTS):
        check(wrong(old))
    new = issue()

    assert check(new) is CheckResult.OK


def test_code_is_bound_to_its_subject(store, next_codes):
    next_codes("424242", "535353")
    code = issue(SUBJECT)
    issue(OTHER_SUBJECT)

    assert check(code, subject=OTHER_SUBJECT) is CheckResult.WRONG
    assert check(code, subject=SUBJECT) is CheckResult.OK


def test_code_is_bound_to_its_purpose(store, next_codes):
    next_codes("424242", "535353")
    code = issue(purpose="signup")
    issue(purpose="signup_notice")

    assert check(code, purpose="signup_notice") is CheckResult.WRONG
    assert check(code, purpose="other") is CheckResult.MISSING
    assert check(code, purpose="signup") is CheckResult.OK


def test_code_issued_with_a_binding_checks_only_with_it(store):
    code = code_issue(purpose="change_identifier", subject=SUBJECT, binding="via_email:new@example.com").code

    def bound(binding: str) -> CheckResult:
        return code_check(purpose="change_identifier", subject=SUBJECT, code=code, binding=binding)

    assert bound("via_email:other@example.com") is CheckResult.WRONG
    assert bound("") is CheckResult.WRONG
    assert bound("via_email:new@example.com") is CheckResult.OK


def test_redis_holds_no_plaintext_code(next_codes):
    next_codes("493817")
    code = issue()
    redis = get_redis_connection("default")

    stored = []
    for key in redis.scan_iter("*"):
        kind = redis.type(key).decode()
        if kind == "hash":
            stored += [item for pair in redis.hgetall(key).items() for item in pair]
        elif kind == "string":
            stored.append(redis.get(key))
        else:
            pytest.fail(f"unexpected Redis value type {kind} at {key!r}")
        stored.append(key)

    assert any(key.startswith(store_key("code:signup:").encode()) for key in redis.scan_iter("*"))
    assert all(code.encode() not in item for item in stored)


def test_redis_code_and_cooldown_keys_have_a_ttl(settings):
    settings.VERIFICATION_CODE_TTL = 600
    settings.VERIFICATION_RESEND_COOLDOWN = 60
    issue()
    redis = get_redis_connection("default")

    assert 590 <= redis.ttl(store_key(f"code:signup:{SUBJECT}")) <= 600
    assert 50 <= redis.ttl(store_key(f"code-cooldown:signup:{SUBJECT}")) <= 60


# --- how codes are made, kept and compared ---------------------------------------------------


def stored_digest(store, subject: str = SUBJECT, purpose: str = "signup") -> str:
    """The digest the store keeps for the current code (reading it counts one attempt)."""
    attempts, digest = store.attempt(store_key(f"code:{purpose}:{subject}"))
    assert attempts > 0, "no code stored"
    return digest


def test_stored_digest_is_keyed_not_a_plain_hash(store, next_codes):
    next_codes("493817")
    issue()

    digest = stored_digest(store)

    assert digest != hashlib.sha256(f"signup:{SUBJECT}:493817".encode()).hexdigest()
    assert "493817" not in digest


def test_stored_digest_changes_with_the_secret_key(store, no_cooldown, next_codes, settings):
    next_codes("493817")
    issue()
    first = stored_digest(store)

    settings.SECRET_KEY = "another-secret-key-" + "x" * 40
    issue()
    second = stored_digest(store)

    assert first != second


def test_codes_are_drawn_from_secrets(store, monkeypatch):
    calls = []

    def randbelow(upper: int) -> int:
        calls.append(upper)
        return 4217

    monkeypatch.setattr(codes.secrets, "randbelow", randbelow)

    issued = code_issue(purpose="signup", subject=SUBJECT)

    assert calls == [10**6]
    assert issued.code == "004217"


def test_codes_are_compared_with_compare_digest_once_per_check(store, monkeypatch):
    code = issue()
    compare = hmac.compare_digest
    calls = []

    def compare_digest(a, b):
        calls.append((a, b))
        return compare(a, b)

    monkeypatch.setattr(codes.hmac, "compare_digest", compare_digest)

    assert check(wrong(code)) is CheckResult.WRONG
    assert len(calls) == 1
    assert check(code) is CheckResult.OK
    assert len(calls) == 2
    assert check(code) is CheckResult.MISSING  # no code left: nothing to compare
    assert len(calls) == 2
