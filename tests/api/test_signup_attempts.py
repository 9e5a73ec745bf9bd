"""Each sign-up is an attempt of its own: the seed README's client keeps the token from sign-up
throughout and completes its profile with it once its own code is verified, while the token of
anyone else who started a sign-up of the same identifier (before or after) can complete nothing."""

import pytest

from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PASSWORD
from users.models import AuthStatus, User
from users.tokens import STAGE_NEW, SignupToken

PROFILE = {
    "fistname": "jone",
    "username": "jone123",
    "bio": "some bio",
    "gender": "men",
    "password": PASSWORD,
    "confirm_password": PASSWORD,
}


@pytest.fixture(autouse=True)
def _no_cooldown(settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0


@pytest.mark.parametrize("identifier", [EMAIL, PHONE])
def test_the_seed_readme_client_completes_its_sign_up_with_one_token(api, identifier, email_code, sms_code):
    token = api.post("/user/signup/", {"email_phone_number": identifier}).json()["access"]
    code = email_code() if "@" in identifier else sms_code()
    api.bearer(token)

    assert api.post("/user/verify/", {"code": int(code)}).status_code == 200
    completed = api.patch("/user/change-user-info/", PROFILE)
    assert completed.status_code == 200, completed.content
    assert completed.json()["auth_status"] == AuthStatus.DONE

    login = api.bearer(None).post("/user/login/", {"user_input": "jone123", "password": PASSWORD})
    assert login.status_code == 200, login.content


def test_two_sign_ups_of_one_address_are_two_attempts(signup):
    first, second = SignupToken(signup()), SignupToken(signup())

    assert first["user_id"] == second["user_id"]  # one pending account...
    assert first.attempt != second.attempt  # ...two attempts


def test_an_earlier_attempt_cannot_complete_after_the_owner_verifies(signup, verify, email_code, change_info):
    attacker = signup()  # starts a sign-up of the victim's address first
    victim = signup()
    assert verify(victim, email_code()).status_code == 200

    assert_error(change_info(attacker, **PROFILE), 403, "verification_required")
    assert User.objects.get().auth_status == AuthStatus.CODE_VERIFIED
    assert change_info(victim, **PROFILE).status_code == 200


def test_a_later_attempt_cannot_complete_after_the_owner_verifies(signup, verify, email_code, change_info):
    victim = signup()
    assert verify(victim, email_code()).status_code == 200
    attacker = signup()  # a fresh attempt once the address is verified

    assert_error(change_info(attacker, **PROFILE), 403, "verification_required")
    assert User.objects.get().username is None
    assert change_info(victim, **PROFILE).status_code == 200


def test_the_verified_stage_token_still_completes(signup, verify, email_code, change_info):
    response = verify(signup(), email_code())
    verified = response.json()["access"]
    signup()  # someone else starts a sign-up of the address meanwhile

    assert change_info(verified, **PROFILE).status_code == 200


def test_a_new_stage_token_without_an_attempt_cannot_complete(api, signup, verify, email_code, change_info):
    assert verify(signup(), email_code()).status_code == 200
    user = User.objects.get()
    legacy = SignupToken.for_subject(user.id, stage=STAGE_NEW)
    del legacy.payload["attempt"]

    assert_error(change_info(str(legacy), **PROFILE), 403, "verification_required")


def test_verifying_again_moves_completion_to_the_newer_attempt(signup, verify, email_code, change_info):
    first = signup()
    assert verify(first, email_code()).status_code == 200
    second = signup()  # the owner again, from another device, with a new code
    assert verify(second, email_code()).status_code == 200

    assert_error(change_info(first, **PROFILE), 403, "verification_required")
    assert change_info(second, **PROFILE).status_code == 200
