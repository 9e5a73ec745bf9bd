"""GET /user/new-verify/: a new code replaces the previous one, after a resend cooldown."""

import re

import pytest
from django.core import mail
from django_redis import get_redis_connection

from notifications.channels import LocmemSms
from tests.api.conftest import PHONE, assert_error
from tests.factories import UserFactory
from users.ratelimits import store_key
from users.tokens import SignupToken


@pytest.fixture
def no_cooldown(settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0


def test_new_verify_sends_a_new_code_that_works(api, no_cooldown, next_codes, signup, verify):
    next_codes("111111", "222222")
    token = signup()

    response = api.bearer(token).get("/user/new-verify/")

    assert response.status_code == 200, response.content
    assert response.json()["auth_status"] == "new"
    assert len(mail.outbox) == 2
    assert "222222" in mail.outbox[-1].body
    assert verify(token, "222222").status_code == 200


def test_new_verify_makes_the_old_code_stop_working(api, no_cooldown, next_codes, signup, verify):
    next_codes("111111", "222222")
    token = signup()
    api.bearer(token).get("/user/new-verify/")

    assert_error(verify(token, "111111"), 400, "code_invalid")


def test_new_verify_gives_fresh_attempts_after_the_old_code_was_exhausted(api, no_cooldown, next_codes, signup, verify):
    next_codes("111111", "222222")
    token = signup()
    for _ in range(5):
        verify(token, "000000")
    assert_error(verify(token, "111111"), 400, "code_attempts_exceeded")

    api.bearer(token).get("/user/new-verify/")

    assert verify(token, "222222").status_code == 200


def test_new_verify_texts_the_code_to_a_phone_sign_up(api, settings, no_cooldown, next_codes, signup):
    settings.DEFAULT_PHONE_REGION = "US"
    next_codes("111111", "222222")
    token = signup("(202) 555-0143")

    api.bearer(token).get("/user/new-verify/")

    assert [sms["to"] for sms in LocmemSms.outbox] == [PHONE, PHONE]
    assert "222222" in LocmemSms.outbox[-1]["body"]


def test_new_verify_within_cooldown_is_refused_with_retry_after(api, settings, signup):
    settings.VERIFICATION_RESEND_COOLDOWN = 60
    token = signup()

    response = api.bearer(token).get("/user/new-verify/")

    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert len(mail.outbox) == 1


def test_new_verify_answers_with_the_next_cooldown(api, settings, signup):
    settings.VERIFICATION_RESEND_COOLDOWN = 60
    token = signup()
    # Let the cooldown of the sign-up's code run out without waiting a minute.
    get_redis_connection("default").delete(store_key(f"code-cooldown:signup:{SignupToken(token)['ck']}"))

    response = api.bearer(token).get("/user/new-verify/")

    assert response.status_code == 200, response.content
    assert response.json()["retry_after"] == 60
    assert len(mail.outbox) == 2


def test_new_verify_within_cooldown_keeps_the_current_code(api, signup, verify, email_code):
    token = signup()
    api.bearer(token).get("/user/new-verify/")

    assert verify(token, email_code()).status_code == 200


def test_new_verify_requires_a_token(api):
    assert_error(api.bearer(None).get("/user/new-verify/"), 401, "not_authenticated")


def test_new_verify_refuses_a_normal_access_token(api, user, tokens):
    assert_error(api.bearer(tokens["access"]).get("/user/new-verify/"), 401, "token_not_valid")


def test_new_verify_for_finished_account_sends_the_owner_a_notice_and_no_code(api, no_cooldown):
    UserFactory(email="done@example.com")
    token = api.post("/user/signup/", {"email_phone_number": "done@example.com"}).json()["access"]
    mail.outbox.clear()

    response = api.bearer(token).get("/user/new-verify/")

    assert response.status_code == 200  # looks like any other sign-up
    assert [message.to for message in mail.outbox] == [["done@example.com"]]
    assert "tried to sign up" in mail.outbox[0].subject
    assert not re.search(r"\b\d{6}\b", mail.outbox[0].body)


def test_new_verify_within_cooldown_does_not_say_which_limit_fired(api, signup, settings):
    token = signup()

    cooldown = api.bearer(token).get("/user/new-verify/")
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "resend_account": "1/h"}
    api.bearer(token).get("/user/new-verify/")
    rule = api.bearer(token).get("/user/new-verify/")

    assert cooldown.status_code == rule.status_code == 429
    # Alike but for the wait, which Retry-After tells anyway: no rule is named.
    assert {**cooldown.json(), "detail": ""} == {**rule.json(), "detail": ""}
    for answer in (cooldown, rule):
        assert answer.json()["detail"].startswith("Too many requests. Try again in ")
        assert "resend" not in answer.json()["detail"]


def test_new_verify_answers_new_to_a_stranger_whose_sign_up_the_owner_already_verified(
    api, no_cooldown, verified, signup
):
    verified()  # the owner of jane@example.com verified, and has not finished the profile yet
    stranger = signup()  # someone else signs up with the same address

    response = api.bearer(stranger).get("/user/new-verify/")

    assert response.status_code == 200
    assert response.json()["auth_status"] == "new"
