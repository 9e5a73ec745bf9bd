"""Rate limits (users/ratelimits.py): each named rule trips at its number and not before, answers 429
with Retry-After in the one error shape without naming the rule, and keys on what it says it keys on.

Windows are fixed (django-ratelimit), so the trip tests use hour-long windows: a test that takes
milliseconds cannot straddle a window edge. The "lock ends" tests use a 3-second window and first
wait for a fresh window to begin.
"""

import time

from django.core.checks import run_checks
from django.core.management import call_command

from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD, PendingUserFactory, PhoneUserFactory, UserFactory
from users.tokens import STAGE_NEW, SignupToken

RULES = (
    "signup_ip",
    "signup_identifier",
    "resend_account",
    "verify_ip",
    "login_ip",
    "login_account_failures",
    "profile_account",
    "admin_login_ip",
    "password_reset_ip",
    "password_reset_network",
    "password_reset_identifier",
    "login_code_ip",
    "login_code_identifier",
    "change_identifier_account",
    "sms_network_hour",
    "sms_network_day",
    "sms_prefix",
    "sms_country_day",
    "sms_daily_budget",
)


def assert_rate_limited(response, *, window: int) -> dict:
    """429 in the error shape, Retry-After within the window, and no rule named anywhere."""
    body = assert_error(response, 429, "rate_limited")
    assert body["fields"] == {}
    retry_after = int(response["Retry-After"])
    assert 0 < retry_after <= window
    text = response.content.decode()
    for rule in RULES:
        assert rule not in text
    for word in ("ip", "identifier", "account", "prefix", "budget", "login", "signup"):
        assert word not in body["detail"].lower().split()
    return body


def signup(api, identifier: str, **extra):
    return api.bearer(None).post("/user/signup/", {"email_phone_number": identifier}, **extra)


def login(api, user_input: str, password: str = PASSWORD, **extra):
    return api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password}, **extra)


def wait_for_fresh_window(period: int) -> float:
    """Sleep until a window of ``period`` seconds has just begun; return its end. Windows are
    aligned on the clock (users/ratelimits.py): they begin at the multiples of their period."""
    while True:
        end = (time.time() // period + 1) * period
        left = end - time.time()
        if left > period - 0.5:
            return end
        time.sleep(left + 0.02)


# --- sign-up ---------------------------------------------------------------------------------


def test_signup_ip_allows_its_number_then_answers_429(api, rates):
    rates(signup_ip="3/h")

    allowed = [signup(api, f"person{n}@example.com") for n in range(3)]
    limited = signup(api, "person3@example.com")

    assert [r.status_code for r in allowed] == [201, 201, 201]
    assert_rate_limited(limited, window=3600)


def test_invalid_sign_up_input_is_refused_before_anything_is_counted(api, rates):
    # Validation comes first: a request that can do nothing costs no Redis round trip, and the
    # limits of a valid one are counted with its code, in one step.
    rates(signup_ip="2/h")

    assert signup(api, "not an identifier").status_code == 400
    assert signup(api, "still not one").status_code == 400
    assert signup(api, "valid@example.com").status_code == 201
    assert signup(api, "valid2@example.com").status_code == 201
    assert_rate_limited(signup(api, "valid3@example.com"), window=3600)


def test_signup_ip_is_per_client_address(api, rates):
    rates(signup_ip="2/h")
    for n in range(2):
        assert signup(api, f"a{n}@example.com", REMOTE_ADDR="198.51.100.1").status_code == 201
    assert_rate_limited(signup(api, "a2@example.com", REMOTE_ADDR="198.51.100.1"), window=3600)

    assert signup(api, "b0@example.com", REMOTE_ADDR="198.51.100.2").status_code == 201


def test_signup_identifier_keeps_one_quota_per_identifier(api, rates):
    rates(signup_identifier="2/h")

    first = [signup(api, EMAIL) for _ in range(2)]
    # Capitals and spaces normalize to the same address: the same quota.
    limited = signup(api, "  JANE@Example.com ")
    other = signup(api, "john@example.com")

    assert [r.status_code for r in first] == [201, 201]
    assert_rate_limited(limited, window=3600)
    assert other.status_code == 201, other.content
    assert signup(api, "john@example.com").status_code == 201
    assert_rate_limited(signup(api, "john@example.com"), window=3600)


def test_signup_identifier_normalizes_phone_numbers(api, rates, settings):
    settings.DEFAULT_PHONE_REGION = "US"
    rates(signup_identifier="2/h")

    assert signup(api, "+1 202-555-0143").status_code == 201
    assert signup(api, "(202) 555-0143").status_code == 201
    assert_rate_limited(signup(api, "+12025550143"), window=3600)


def test_rate_limited_bodies_are_the_same_whatever_the_rule(api, rates):
    rates(signup_ip="1/h", signup_identifier="1/h")
    signup(api, EMAIL, REMOTE_ADDR="198.51.100.1")

    by_ip = signup(api, "other@example.com", REMOTE_ADDR="198.51.100.1")
    by_identifier = signup(api, EMAIL, REMOTE_ADDR="198.51.100.2")

    assert_rate_limited(by_ip, window=3600)
    assert_rate_limited(by_identifier, window=3600)
    assert by_ip.content == by_identifier.content


# --- the client address ----------------------------------------------------------------------


def test_rotating_x_forwarded_for_does_not_reset_the_ip_limit(api, rates, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    rates(signup_ip="3/h")

    statuses = [signup(api, f"p{n}@example.com", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)]
    limited = signup(api, "p9@example.com", HTTP_X_FORWARDED_FOR="203.0.113.99, 192.0.2.1")

    assert statuses == [201, 201, 201]
    assert_rate_limited(limited, window=3600)


def test_with_one_trusted_proxy_the_rightmost_forwarded_address_is_the_key(api, rates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates(signup_ip="2/h")
    proxy = {"REMOTE_ADDR": "10.0.0.5"}

    # The client rotates what it puts on the left; our proxy appended the real address on the right.
    for n in range(2):
        response = signup(api, f"q{n}@example.com", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, 203.0.113.7", **proxy)
        assert response.status_code == 201, response.content
    limited = signup(api, "q2@example.com", HTTP_X_FORWARDED_FOR="192.0.2.77, 203.0.113.7", **proxy)
    # Another client behind the same proxy (same REMOTE_ADDR) has its own quota.
    other_client = signup(api, "q3@example.com", HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.8", **proxy)

    assert_rate_limited(limited, window=3600)
    assert other_client.status_code == 201, other_client.content


def test_with_a_trusted_proxy_a_missing_or_garbage_forwarded_header_falls_back_to_remote_addr(api, rates, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates(signup_ip="2/h")

    assert signup(api, "r0@example.com", REMOTE_ADDR="10.0.0.9").status_code == 201
    assert signup(api, "r1@example.com", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR="garbage").status_code == 201
    assert_rate_limited(signup(api, "r2@example.com", REMOTE_ADDR="10.0.0.9"), window=3600)


def test_ipv6_clients_are_limited_per_64_network(api, rates):
    # Rotating the interface part of an IPv6 address (free for anyone with a /64) changes nothing.
    rates(signup_ip="2/h")

    assert signup(api, "s0@example.com", REMOTE_ADDR="2001:db8:1:2::1").status_code == 201
    assert signup(api, "s1@example.com", REMOTE_ADDR="2001:db8:1:2::abcd").status_code == 201
    assert_rate_limited(signup(api, "s2@example.com", REMOTE_ADDR="2001:db8:1:2:ffff::9"), window=3600)
    assert signup(api, "s3@example.com", REMOTE_ADDR="2001:db8:1:3::1").status_code == 201


# --- login -----------------------------------------------------------------------------------


def test_login_ip_allows_its_number_then_refuses_even_right_credentials(api, rates, user):
    rates(login_ip="3/h", login_account_failures="100/h")

    statuses = [login(api, "jane", "wrong password").status_code, login(api, "jane").status_code]
    statuses.append(login(api, "nobody", "whatever").status_code)
    limited = login(api, "jane")
    elsewhere = login(api, "jane", REMOTE_ADDR="198.51.100.3")

    assert statuses == [401, 200, 401]
    assert_rate_limited(limited, window=3600)
    assert elsewhere.status_code == 200, elsewhere.content


def test_failed_logins_slow_the_account_down_then_the_right_password_gets_429(api, rates, user):
    rates(login_account_failures="3/h", login_ip="100/h")

    failures = [login(api, "jane", f"wrong {n}").status_code for n in range(3)]
    limited = login(api, "jane")

    assert failures == [401, 401, 401]
    assert_rate_limited(limited, window=3600)


def test_failed_login_limit_counts_per_name_typed_and_client_address(api, rates):
    rates(login_account_failures="3/h", login_ip="100/h")
    PhoneUserFactory(username="jane", email="jane@example.com", phone_number="+12025550143")
    other = UserFactory()

    for typed in ("jane", "JANE", " jane "):  # one name however it is written
        assert login(api, typed, "wrong").status_code == 401
    limited = login(api, "jane")

    assert_rate_limited(limited, window=3600)
    # Another account is not slowed down.
    assert login(api, other.username).status_code == 200


def test_failed_logins_from_elsewhere_never_lock_the_owner_out(api, rates):
    rates(login_account_failures="3/h", login_ip="100/h")
    UserFactory(username="jane", email="jane@example.com")

    for _ in range(5):
        login(api, "jane", "wrong", REMOTE_ADDR="203.0.113.9")  # an attacker's address

    assert login(api, "jane", REMOTE_ADDR="198.51.100.7").status_code == 200


def test_failed_login_limit_does_not_link_the_names_of_one_account(api, rates):
    # Failures as "jane" must not slow down "jane@example.com": if they did, the 429 would tell a
    # stranger that the two names belong to one account.
    rates(login_account_failures="3/h", login_ip="100/h")
    UserFactory(username="jane", email="jane@example.com")
    for _ in range(3):
        login(api, "jane", "wrong")

    assert login(api, "jane@example.com", "wrong").status_code == 401
    assert login(api, "nobody@example.com", "wrong").status_code == 401


def test_successful_logins_do_not_count_as_failures(api, rates, user):
    rates(login_account_failures="2/h", login_ip="100/h")

    for _ in range(4):
        assert login(api, "jane").status_code == 200


def test_unknown_user_names_are_limited_like_real_accounts(api, rates, user):
    rates(login_account_failures="3/h", login_ip="100/h")

    real = [login(api, "jane", "wrong").status_code for _ in range(3)] + [login(api, "jane").status_code]
    unknown = [login(api, "ghost@example.com", "wrong").status_code for _ in range(3)]
    unknown.append(login(api, "Ghost@Example.com", "wrong").status_code)

    assert real == [401, 401, 401, 429]
    assert unknown == [401, 401, 401, 429]


def test_unfinished_signups_are_limited_like_real_accounts(api, rates):
    rates(login_account_failures="2/h", login_ip="100/h")
    PendingUserFactory(email="pending@example.com")

    statuses = [login(api, "pending@example.com", "anything").status_code for _ in range(3)]

    assert statuses == [401, 401, 429]


def test_account_lock_ends_when_its_window_ends(api, rates, user):
    period = 3
    rates(login_account_failures=f"2/{period}s", login_ip="100/h")
    window_end = wait_for_fresh_window(period)

    failures = [login(api, "jane", "wrong").status_code for _ in range(2)]
    limited = login(api, "jane")
    assert time.time() < window_end, "the requests straddled the window; the machine is too slow"
    time.sleep(window_end - time.time() + 0.05)
    after = login(api, "jane")

    assert failures == [401, 401]
    assert_rate_limited(limited, window=period)
    assert after.status_code == 200, after.content


def test_unknown_name_lock_ends_when_its_window_ends(api, rates):
    period = 3
    rates(login_account_failures=f"1/{period}s", login_ip="100/h")
    window_end = wait_for_fresh_window(period)

    first = login(api, "ghost@example.com", "wrong")
    limited = login(api, "ghost@example.com", "wrong")
    assert time.time() < window_end
    time.sleep(window_end - time.time() + 0.05)
    after = login(api, "ghost@example.com", "wrong")

    assert first.status_code == 401
    assert_rate_limited(limited, window=period)
    assert after.status_code == 401, after.content


# --- verify, resend, refresh -----------------------------------------------------------------


def test_verify_ip_allows_its_number_then_refuses_even_the_right_code(api, rates, next_codes):
    rates(verify_ip="3/h")
    next_codes("123456")
    token = signup(api, EMAIL).json()["access"]

    wrong = [api.bearer(token).post("/user/verify/", {"code": f"00000{n}"}).status_code for n in range(3)]
    limited = api.bearer(token).post("/user/verify/", {"code": "123456"})
    elsewhere = api.bearer(token).post("/user/verify/", {"code": "123456"}, REMOTE_ADDR="198.51.100.4")

    assert wrong == [400, 400, 400]
    assert_rate_limited(limited, window=3600)
    assert elsewhere.status_code == 200, elsewhere.content


def test_verify_ip_counts_across_sign_ups(api, rates):
    # Spreading guesses over many sign-ups does not give one address more guesses.
    rates(verify_ip="2/h")
    tokens = [signup(api, f"v{n}@example.com").json()["access"] for n in range(3)]

    statuses = [api.bearer(t).post("/user/verify/", {"code": "000000"}).status_code for t in tokens[:2]]

    assert statuses == [400, 400]
    assert_rate_limited(api.bearer(tokens[2]).post("/user/verify/", {"code": "000000"}), window=3600)


def test_resend_cap_per_account(api, rates, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0  # the cooldown would hide the cap
    rates(resend_account="2/h")
    token = signup(api, EMAIL).json()["access"]
    other = signup(api, "john@example.com").json()["access"]

    allowed = [api.bearer(token).get("/user/new-verify/").status_code for _ in range(2)]
    limited = api.bearer(token).get("/user/new-verify/")
    other_account = api.bearer(other).get("/user/new-verify/")

    assert allowed == [200, 200]
    assert_rate_limited(limited, window=3600)
    assert other_account.status_code == 200, other_account.content


def test_resend_cap_counts_per_account_not_per_token(api, rates, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    rates(resend_account="2/h")
    user = PendingUserFactory(email=EMAIL)
    # Fresh tokens for the same account share its quota.
    tokens = [str(SignupToken.for_subject(user.id, stage=STAGE_NEW)) for _ in range(3)]

    statuses = [api.bearer(t).get("/user/new-verify/").status_code for t in tokens[:2]]

    assert statuses == [200, 200]
    assert_rate_limited(api.bearer(tokens[2]).get("/user/new-verify/"), window=3600)


def test_a_rule_set_to_empty_is_off(api, rates):
    rates(signup_ip="", signup_identifier="")

    assert all(signup(api, EMAIL).status_code == 201 for _ in range(25))


def test_profile_changes_are_limited_per_account(api, rates, tokens):
    # A stolen access token cannot guess old_password without end.
    rates(profile_account="2/h")
    api.bearer(tokens["access"])
    change = {"password": "N3w-pass-phrase!", "confirm_password": "N3w-pass-phrase!", "old_password": "guess"}

    for _ in range(2):
        assert api.patch("/user/change-user-info/", change).status_code == 400

    assert_rate_limited(api.patch("/user/change-user-info/", change), window=3600)


# --- configuration ---------------------------------------------------------------------------


def test_every_default_rule_parses_and_is_commented_in_one_table():
    from project.settings import base

    assert set(base.RATE_LIMITS) == set(RULES)
    for rate in base.RATE_LIMITS.values():
        count, _, period = rate.partition("/")
        assert int(count) > 0
        assert period


def test_django_ratelimit_system_checks_pass_with_the_test_settings():
    call_command("check")
    messages = [m for m in run_checks(include_deployment_checks=False) if m.id and m.id.startswith("django_ratelimit")]
    assert messages == []


def test_django_ratelimit_system_checks_would_catch_a_per_process_cache(settings):
    # Guards the check above: it does look at the cache the limits use.
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    ids = {m.id for m in run_checks() if m.id}
    assert "django_ratelimit.E003" in ids


def test_signup_identifier_is_one_quota_for_every_spelling_of_an_address(api, rates):
    rates(signup_identifier="2/h")
    assert signup(api, "casep@example.com").status_code == 201
    assert signup(api, "casep@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com").status_code == 201  # full-width

    assert_rate_limited(signup(api, "casep\uff20example.com"), window=3600)  # full-width at sign
    assert_rate_limited(signup(api, "CASEP@EXAMPLE.COM."), window=3600)
