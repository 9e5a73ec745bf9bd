"""The SMS-pumping guard (users/sms_guard.py): country allowlist, line type, limits per client
network, number prefix and destination country, and last a global daily budget. Each refusal
happens before the provider is called and before an account is written, every reason looks the
same to the client, and a refused request spends no budget."""

import logging
import time

import pytest
from django.core import mail

from notifications.channels import LocmemSms
from tests.api.conftest import assert_error
from tests.factories import PhoneUserFactory
from users.models import User
from users.ratelimits import Hit, limit_usage

ALLOWED_MOBILE = "+447400123456"  # GB mobile
US_NUMBER = "+12025550143"  # US numbers are FIXED_LINE_OR_MOBILE


@pytest.fixture(autouse=True)
def _guard_settings(settings):
    settings.SMS_ALLOWED_COUNTRIES = ["US", "CA", "GB"]
    settings.DEFAULT_PHONE_REGION = "US"
    # Limits not under test stay out of the way.
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "signup_ip": "1000/h",
        "signup_identifier": "1000/h",
        "sms_network_hour": "1000/h",
        "sms_network_day": "1000/d",
        "sms_prefix": "1000/h",
        "sms_country_day": "1000/d",
        "sms_daily_budget": "1000/d",
    }


def signup(api, number: str, **extra):
    return api.bearer(None).post("/user/signup/", {"email_phone_number": number}, **extra)


def budget_spent() -> int:
    return limit_usage(Hit("sms_daily_budget", "all"))[0]


def wait_for_fresh_window(period: int) -> float:
    """Sleep until a window of the SMS rules (aligned on the clock) has just begun; return its end."""
    while True:
        end = (time.time() // period + 1) * period
        left = end - time.time()
        if left > period - 0.5:
            return end
        time.sleep(left + 0.02)


def assert_refused_before_anything(api, number: str, **extra) -> bytes:
    """Refused with the generic answer; no SMS, no account, no delivery. Returns the body."""
    sent_before = len(LocmemSms.outbox)

    response = signup(api, number, **extra)

    body = assert_error(response, 400, "sms_unavailable", fields=("email_phone_number",))
    assert number not in response.content.decode()
    assert "country" not in body["detail"].lower()
    assert len(LocmemSms.outbox) == sent_before
    assert not User.objects.filter(phone_number=number).exists()
    return response.content


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+4915123456789", "DE mobile: country not allowed"),
        ("+33612345678", "FR mobile: country not allowed"),
        ("+442079460958", "GB fixed line"),
        ("+448001234567", "GB toll-free"),
        ("+18005550199", "US toll-free"),
        ("+19005550123", "US premium rate"),
        ("+449012345678", "GB premium rate"),
        ("+447012345678", "GB personal number"),
        ("+445612345678", "GB VoIP"),
        ("+447640123456", "GB pager"),
    ],
)
def test_numbers_that_cannot_or_may_not_receive_sms_are_refused(api, number, reason):
    assert_refused_before_anything(api, number)
    assert LocmemSms.outbox == []


@pytest.mark.parametrize("number", [ALLOWED_MOBILE, US_NUMBER, "+16135550123"])
def test_mobile_numbers_in_allowed_countries_get_their_code(api, number):
    response = signup(api, number)

    assert response.status_code == 201, response.content
    assert [m["to"] for m in LocmemSms.outbox] == [number]


def test_the_allowlist_is_a_setting(api, settings):
    settings.SMS_ALLOWED_COUNTRIES = ["DE"]

    assert signup(api, "+4915123456789").status_code == 201
    assert_refused_before_anything(api, ALLOWED_MOBILE)


def test_an_empty_allowlist_allows_every_country_but_still_checks_the_line_type(api, settings):
    settings.SMS_ALLOWED_COUNTRIES = []

    assert signup(api, "+4915123456789").status_code == 201
    assert_refused_before_anything(api, "+4930123456")  # DE fixed line


def test_prefix_velocity_trips_for_numbers_equal_but_for_the_last_three_digits(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_prefix": "3/h"}
    same_range = ["+12025550101", "+12025550234", "+12025550999"]

    statuses = [signup(api, number).status_code for number in same_range]
    assert_refused_before_anything(api, "+12025550555")

    assert statuses == [201, 201, 201]
    assert len(LocmemSms.outbox) == 3
    # Another range is not affected.
    assert signup(api, "+12025551234").status_code == 201


def test_prefix_velocity_also_guards_resends(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_prefix": "2/h"}
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = signup(api, "+12025550101").json()["access"]
    assert signup(api, "+12025550102").status_code == 201
    sent = len(LocmemSms.outbox)

    response = api.bearer(token).get("/user/new-verify/")

    assert_error(response, 400, "sms_unavailable")
    assert len(LocmemSms.outbox) == sent


def test_daily_budget_trips_the_breaker_logs_an_error_and_refuses_later_sms(api, settings, caplog):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": "2/d"}
    caplog.set_level(logging.INFO)

    assert signup(api, "+12025550143").status_code == 201
    assert signup(api, "+13105550100").status_code == 201
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]

    assert_refused_before_anything(api, "+12125550100")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors, "the breaker must tell operators"
    assert any("budget" in r.getMessage().lower() for r in errors)

    # Later SMS, to any number and for resends, are refused too; e-mail is not affected.
    assert_refused_before_anything(api, ALLOWED_MOBILE)
    assert len(LocmemSms.outbox) == 2
    assert signup(api, "someone@example.com").status_code == 201
    assert len(mail.outbox) == 1


def test_spent_budget_also_refuses_resends(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": "1/d"}
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = signup(api, US_NUMBER).json()["access"]

    response = api.bearer(token).get("/user/new-verify/")

    assert response.status_code != 200
    assert_error(response, 400, "sms_unavailable")
    assert len(LocmemSms.outbox) == 1


def test_sign_up_for_an_existing_phone_account_is_guarded_too(api, settings):
    # The notice to an existing account is an SMS as well: it must count against the budget.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": "1/d"}
    PhoneUserFactory(phone_number=US_NUMBER)

    assert signup(api, US_NUMBER).status_code == 201
    assert len(LocmemSms.outbox) == 1
    response = signup(api, US_NUMBER)
    assert_error(response, 400, "sms_unavailable")
    assert len(LocmemSms.outbox) == 1


def test_every_refusal_reason_gives_the_same_body(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_prefix": "1/h", "sms_daily_budget": "3/d"}
    bodies = {
        "country": assert_refused_before_anything(api, "+4915123456789"),
        "fixed line": assert_refused_before_anything(api, "+442079460958"),
        "toll free": assert_refused_before_anything(api, "+18005550199"),
        "premium": assert_refused_before_anything(api, "+19005550123"),
    }
    assert signup(api, "+12025550101").status_code == 201
    bodies["prefix"] = assert_refused_before_anything(api, "+12025550102")
    assert signup(api, "+13105550100").status_code == 201
    assert signup(api, "+12125550100").status_code == 201
    bodies["budget"] = assert_refused_before_anything(api, "+14155550100")

    assert len(set(bodies.values())) == 1, bodies


def test_spent_daily_budget_lifts_when_its_window_ends(api, settings):
    period = 3
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_daily_budget": f"1/{period}s"}
    window_end = wait_for_fresh_window(period)

    spent = signup(api, "+12025550143")
    refused = signup(api, "+13105550100")
    assert time.time() < window_end, "the requests straddled the window; the machine is too slow"
    time.sleep(window_end - time.time() + 0.05)
    after = signup(api, "+12125550100")

    assert spent.status_code == 201, spent.content
    assert_error(refused, 400, "sms_unavailable")
    assert after.status_code == 201, after.content
    assert [m["to"] for m in LocmemSms.outbox] == ["+12025550143", "+12125550100"]


# --- per client network ----------------------------------------------------------------------


def test_ipv4_clients_share_the_sms_limits_of_their_24_network(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "3/h"}
    # Three addresses of one /24 (rotating addresses gains nothing), three different ranges.
    allowed = [
        signup(api, "+12025550143", REMOTE_ADDR="198.51.100.1"),
        signup(api, "+13105550100", REMOTE_ADDR="198.51.100.77"),
        signup(api, "+12125550100", REMOTE_ADDR="198.51.100.254"),
    ]

    refused = signup(api, "+14155550100", REMOTE_ADDR="198.51.100.9")
    next_network = signup(api, "+14155550100", REMOTE_ADDR="198.51.101.9")

    assert [r.status_code for r in allowed] == [201, 201, 201]
    assert_error(refused, 400, "sms_unavailable", fields=("email_phone_number",))
    assert next_network.status_code == 201, next_network.content
    assert len(LocmemSms.outbox) == 4


def test_ipv6_clients_share_the_sms_limits_of_their_48_network(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "2/h"}

    first = signup(api, "+12025550143", REMOTE_ADDR="2001:db8:aa:1::1")
    second = signup(api, "+13105550100", REMOTE_ADDR="2001:db8:aa:ffff:1:2:3:4")  # another /64, same /48
    refused = signup(api, "+12125550100", REMOTE_ADDR="2001:db8:aa:42::9")
    next_network = signup(api, "+12125550100", REMOTE_ADDR="2001:db8:ab::9")

    assert [first.status_code, second.status_code] == [201, 201]
    assert_error(refused, 400, "sms_unavailable")
    assert next_network.status_code == 201, next_network.content


def test_ipv4_written_as_ipv6_counts_as_its_ipv4_network(api, settings):
    # A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they must not all share "::/48".
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "1/h"}

    assert signup(api, "+12025550143", REMOTE_ADDR="::ffff:198.51.100.1").status_code == 201
    assert_error(signup(api, "+13105550100", REMOTE_ADDR="198.51.100.2"), 400, "sms_unavailable")
    assert signup(api, "+13105550100", REMOTE_ADDR="::ffff:203.0.113.1").status_code == 201


def test_the_daily_network_rule_holds_when_the_hourly_one_does_not(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "100/h", "sms_network_day": "2/d"}

    statuses = [signup(api, n, REMOTE_ADDR="198.51.100.1").status_code for n in ("+12025550143", "+13105550100")]
    refused = signup(api, "+12125550100", REMOTE_ADDR="198.51.100.2")

    assert statuses == [201, 201]
    assert_error(refused, 400, "sms_unavailable")


def test_resends_count_against_the_network_of_the_client_asking(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "1/h"}
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    token = signup(api, US_NUMBER, REMOTE_ADDR="198.51.100.1").json()["access"]

    same_network = api.bearer(token).get("/user/new-verify/", REMOTE_ADDR="198.51.100.2")
    other_network = api.bearer(token).get("/user/new-verify/", REMOTE_ADDR="203.0.113.5")

    assert_error(same_network, 400, "sms_unavailable")
    assert other_network.status_code == 200, other_network.content
    assert len(LocmemSms.outbox) == 2


# --- per destination country -----------------------------------------------------------------


def test_sms_are_counted_per_destination_country(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_country_day": "2/d"}

    us = [signup(api, n, REMOTE_ADDR=f"198.51.{n[-3:]}.1").status_code for n in ("+12025550143", "+13105550100")]
    us_refused = signup(api, "+12125550100", REMOTE_ADDR="203.0.113.1")
    gb = signup(api, ALLOWED_MOBILE, REMOTE_ADDR="203.0.113.2")
    ca = signup(api, "+16135550123", REMOTE_ADDR="203.0.113.3")

    assert us == [201, 201]
    assert_error(us_refused, 400, "sms_unavailable")
    assert gb.status_code == 201, gb.content
    assert ca.status_code == 201, ca.content


# --- the breaker is last: refusals spend no budget -------------------------------------------


def test_requests_refused_by_the_network_rules_spend_no_budget(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "2/h", "sms_daily_budget": "5/d"}
    numbers = [f"+1202555{n:04d}" for n in range(100, 2100, 100)]  # 20 distinct numbers

    from_one_network = [
        signup(api, number, REMOTE_ADDR=f"198.51.100.{n}").status_code for n, number in enumerate(numbers[:10], start=1)
    ]

    assert from_one_network == [201, 201] + [400] * 8
    assert budget_spent() == 2
    # The budget those eight refusals did not spend is still there for other networks.
    others = [signup(api, number, REMOTE_ADDR=f"203.0.{n}.1").status_code for n, number in enumerate(numbers[10:14])]
    assert others == [201, 201, 201, 400]
    assert budget_spent() == 5
    assert len(LocmemSms.outbox) == 5


def test_requests_refused_by_the_prefix_and_country_rules_spend_no_budget(api, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_prefix": "1/h", "sms_country_day": "2/d"}

    assert signup(api, "+12025550101").status_code == 201
    assert_error(signup(api, "+12025550102"), 400, "sms_unavailable")  # same range
    assert signup(api, "+13105550100").status_code == 201
    assert_error(signup(api, "+12125550100"), 400, "sms_unavailable")  # third US number of the day

    assert budget_spent() == 2


def test_refusals_spend_nothing_on_the_rules_before_the_one_that_refused(api, settings):
    # The request the country rule refuses is not counted against its client's network either.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_country_day": "1/d", "sms_network_hour": "2/h"}

    assert signup(api, "+12025550143", REMOTE_ADDR="198.51.100.1").status_code == 201
    for _ in range(3):
        assert_error(signup(api, "+13105550100", REMOTE_ADDR="198.51.100.1"), 400, "sms_unavailable")
    gb = signup(api, ALLOWED_MOBILE, REMOTE_ADDR="198.51.100.1")

    assert gb.status_code == 201, gb.content
    assert limit_usage(Hit("sms_network_hour", "198.51.100.0/24")) == (2, 2)


def test_the_breaker_is_the_last_rule_asked(api, settings, caplog):
    # With both the budget and a client's network spent, that client is refused by its network's
    # rule: the budget's error only ever reports SMS that every other rule would have let through.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "1/h", "sms_daily_budget": "2/d"}
    assert signup(api, "+12025550143", REMOTE_ADDR="198.51.100.1").status_code == 201
    assert signup(api, "+13105550100", REMOTE_ADDR="203.0.113.1").status_code == 201
    caplog.set_level(logging.WARNING, logger="users.sms_guard")
    caplog.clear()

    assert_refused_before_anything(api, "+12125550100", REMOTE_ADDR="198.51.100.2")
    by_network = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "users.sms_guard"]
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "sms_network_hour": "100/h"}
    caplog.clear()
    assert_refused_before_anything(api, "+14155550100", REMOTE_ADDR="198.51.100.2")
    by_budget = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "users.sms_guard"]

    assert by_network[0][0] == logging.WARNING
    assert "sms_network_hour" in by_network[0][1]
    assert by_budget[0][0] == logging.ERROR
    assert "budget" in by_budget[0][1]
