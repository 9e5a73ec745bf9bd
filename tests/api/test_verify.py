"""POST /user/verify/: confirm the one-time code with the sign-up token."""

import time
from datetime import timedelta

import pytest

from tests.api.conftest import PHONE, assert_error
from tests.factories import PASSWORD
from users.models import AuthStatus, User
from users.tokens import STAGE_VERIFIED, SignupToken


def test_verify_accepts_the_code_as_a_string(signup, verify, email_code):
    token = signup()

    response = verify(token, email_code())

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"auth_status", "access"}
    assert body["auth_status"] == "code_verified"
    assert User.objects.get().auth_status == AuthStatus.CODE_VERIFIED


def test_verify_answers_with_a_fresh_verified_signup_token(signup, verify, email_code):
    token = signup()

    access = verify(token, email_code()).json()["access"]

    assert access != token
    verified = SignupToken(access)
    assert verified["stage"] == STAGE_VERIFIED
    assert verified["user_id"] == str(User.objects.get().id)


def test_verify_accepts_the_code_sent_by_sms(settings, signup, verify, sms_code):
    settings.DEFAULT_PHONE_REGION = "US"
    token = signup("+1 202-555-0143")

    response = verify(token, sms_code())

    assert response.status_code == 200, response.content
    assert User.objects.get(phone_number=PHONE).auth_status == AuthStatus.CODE_VERIFIED


def test_verify_accepts_the_code_as_an_integer(signup, verify, email_code):
    token = signup()

    response = verify(token, int(email_code()))

    assert response.status_code == 200, response.content


def test_verify_zero_pads_an_integer_code(next_codes, signup, verify):
    next_codes("012345")
    token = signup()

    response = verify(token, 12345)

    assert response.status_code == 200, response.content
    assert response.json()["auth_status"] == "code_verified"


def test_verify_accepts_a_string_code_with_surrounding_spaces(next_codes, signup, verify):
    next_codes("012345")
    token = signup()

    assert verify(token, " 012345 ").status_code == 200


def test_verify_refuses_a_wrong_code(next_codes, signup, verify):
    next_codes("123456")
    token = signup()

    response = verify(token, "654321")

    assert_error(response, 400, "code_invalid", fields=("code",))
    assert User.objects.get().auth_status == AuthStatus.NEW


def test_verify_rejects_right_code_after_five_wrong_guesses(next_codes, signup, verify):
    next_codes("123456")
    token = signup()
    for guess in range(5):
        assert_error(verify(token, f"00000{guess}"), 400, "code_invalid")

    response = verify(token, "123456")

    body = assert_error(response, 400, "code_attempts_exceeded", fields=("code",))
    assert "new one" in body["detail"]  # tells the client to ask for another code
    assert User.objects.get().auth_status == AuthStatus.NEW


def test_verify_accepts_right_code_after_four_wrong_guesses(next_codes, signup, verify):
    next_codes("123456")
    token = signup()
    for guess in range(4):
        verify(token, f"00000{guess}")

    assert verify(token, "123456").status_code == 200


def test_verify_refuses_an_expired_code(settings, signup, verify, email_code):
    settings.VERIFICATION_CODE_TTL = 1
    token = signup()
    code = email_code()

    time.sleep(1.1)
    response = verify(token, code)

    body = assert_error(response, 400, "code_expired", fields=("code",))
    assert "new one" in body["detail"]


def test_verify_refuses_a_code_already_used(signup, verify, email_code):
    token = signup()
    code = email_code()
    assert verify(token, code).status_code == 200

    assert_error(verify(token, code), 400, "code_expired")


def test_verify_refuses_the_code_of_another_sign_up(signup, verify, email_code):
    signup("first@example.com")
    first_code = email_code()
    second_token = signup("second@example.com")

    assert_error(verify(second_token, first_code), 400, "code_invalid")


@pytest.mark.parametrize(
    "code",
    ["12345", "1234567", "12a456", "", "١٢٣٤٥٦", 1_000_000, -1, 12345.0, True, None, ["123456"], {"code": 1}],
    ids=repr,
)
def test_verify_refuses_malformed_codes_without_spending_an_attempt(next_codes, signup, verify, code):
    next_codes("123456")
    token = signup()

    assert_error(verify(token, code), 400, "invalid", fields=("code",))
    for _ in range(4):
        verify(token, "000000")
    assert verify(token, "123456").status_code == 200  # the malformed try was not counted


def test_verify_requires_the_code(api, signup):
    token = signup()

    response = api.bearer(token).post("/user/verify/", {})

    assert_error(response, 400, "invalid", fields=("code",))


def test_verify_requires_a_token(api, signup, email_code):
    signup()

    response = api.bearer(None).post("/user/verify/", {"code": email_code()})

    assert_error(response, 401, "not_authenticated")
    assert User.objects.get().auth_status == AuthStatus.NEW


def test_verify_refuses_a_normal_access_token(api, signup, email_code, user, tokens):
    signup("other@example.com")

    response = api.bearer(tokens["access"]).post("/user/verify/", {"code": email_code()})

    assert_error(response, 401, "token_not_valid")


def test_verify_refuses_a_garbage_token(api):
    response = api.bearer("not.a.token").post("/user/verify/", {"code": "123456"})

    assert_error(response, 401, "token_not_valid")


def test_verify_refuses_an_expired_signup_token(settings, api, signup, email_code):
    settings.SIGNUP_TOKEN_LIFETIME = timedelta(seconds=1)
    token = signup()

    time.sleep(1.1)
    response = api.bearer(token).post("/user/verify/", {"code": email_code()})

    assert_error(response, 401, "token_not_valid")


def test_verify_refuses_the_signup_token_after_the_profile_is_finished(verified, verify, change_info):
    token = verified()
    completed = change_info(token, username="jane", password=PASSWORD, confirm_password=PASSWORD)
    assert completed.status_code == 200, completed.content

    # Refused like a decoy's token (a wrong or used code), never a success.
    response = verify(token, "123456")
    assert response.status_code == 400
    assert response.json()["code"] in ("code_invalid", "code_expired")
