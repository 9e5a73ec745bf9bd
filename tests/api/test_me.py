"""GET /user/me/: the logged-in user's profile, with a normal access token only."""

from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD, PhoneUserFactory
from users.models import AuthStatus, AuthType

PROFILE_KEYS = {"id", "username", "first_name", "bio", "gender", "email", "phone_number", "auth_type", "auth_status"}
NEW_PASSWORD = "Purple-Otter-Lantern-7"


def me(api, token: str | None):
    return api.bearer(token).get("/user/me/")


def test_me_answers_with_the_profile_of_the_logged_in_user(api, user, tokens):
    user.first_name, user.bio, user.gender = "Jane", "Writes tests.", "female"
    user.save(update_fields=["first_name", "bio", "gender"])

    response = me(api, tokens["access"])

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PROFILE_KEYS
    assert body == {
        "id": str(user.id),
        "username": "jane",
        "first_name": "Jane",
        "bio": "Writes tests.",
        "gender": "female",
        "email": EMAIL,
        "phone_number": None,
        "auth_type": AuthType.EMAIL,
        "auth_status": AuthStatus.DONE,
    }


def test_me_never_shows_a_password(api, user, tokens):
    response = me(api, tokens["access"])

    assert not {"password", "confirm_password", "old_password"} & set(response.json())
    assert PASSWORD not in response.content.decode()
    assert user.password not in response.content.decode()


def test_me_answers_with_the_phone_number_of_a_phone_account(api, login):
    PhoneUserFactory(username="phone_jane", phone_number="+12025550143")

    body = me(api, login("phone_jane")["access"]).json()

    assert body["phone_number"] == "+12025550143"
    assert body["email"] is None
    assert body["auth_type"] == AuthType.PHONE


def test_me_requires_a_token(api, user):
    assert_error(me(api, None), 401, "not_authenticated")


def test_me_refuses_a_signup_token(api, signup):
    assert_error(me(api, signup("new.person@example.com")), 401, "token_not_valid")


def test_me_refuses_a_refresh_token(api, tokens):
    assert_error(me(api, tokens["refresh"]), 401, "token_not_valid")


def test_me_refuses_the_old_access_token_after_a_password_change(api, tokens, change_info):
    changed = change_info(tokens["access"], old_password=PASSWORD, password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)
    assert changed.status_code == 200, changed.content

    response = me(api, tokens["access"])

    assert_error(response, 401, "token_not_valid")
