"""/user/me/: the logged-in user's profile (GET), its changes (PATCH) and the account's deletion
(DELETE), with a normal access token only."""

import re

import pytest
from django.core import mail

from tests.api.conftest import EMAIL, PROFILE_KEYS, assert_error
from tests.factories import PASSWORD, PhoneUserFactory, UserFactory
from users.models import AuthStatus, AuthType, Session, User

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
        "language": "en",
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


# --- PATCH /user/me/ ---------------------------------------------------------------------------


def patch_me(api, token: str | None, **data):
    return api.bearer(token).patch("/user/me/", data)


def refresh_status(api, refresh: str) -> int:
    return api.bearer(None).post("/user/login-refresh/", {"refresh": refresh}).status_code


def test_patch_me_changes_the_profile_and_keeps_the_sessions(api, user, tokens):
    response = patch_me(api, tokens["access"], first_name="Jane", bio="Writes tests.", gender="women")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PROFILE_KEYS
    assert (body["first_name"], body["bio"], body["gender"], body["username"]) == (
        "Jane",
        "Writes tests.",
        "female",
        "jane",
    )
    user.refresh_from_db()
    assert (user.first_name, user.bio, user.gender) == ("Jane", "Writes tests.", "female")
    assert me(api, tokens["access"]).status_code == 200
    assert refresh_status(api, tokens["refresh"]) == 200


def test_patch_me_takes_the_seeds_fistname(api, user, tokens):
    assert patch_me(api, tokens["access"], fistname="Janet").json()["first_name"] == "Janet"


def test_patch_me_renames_and_the_new_username_logs_in(api, user, tokens):
    response = patch_me(api, tokens["access"], username="jane_doe")

    assert response.status_code == 200, response.content
    assert response.json()["username"] == "jane_doe"
    login = api.bearer(None).post("/user/login/", {"user_input": "jane_doe", "password": PASSWORD})
    assert login.status_code == 200
    assert_error(
        api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}), 401, "invalid_credentials"
    )


@pytest.mark.parametrize("taken", ["mallory", "MALLORY", "m\u0430llory"], ids=["same", "case", "cyrillic-a"])
def test_patch_me_refuses_a_username_taken_or_looking_like_one(api, user, tokens, taken):
    UserFactory(username="mallory")

    assert_error(patch_me(api, tokens["access"], username=taken), 400, "invalid", fields=("username",))

    user.refresh_from_db()
    assert user.username == "jane"


@pytest.mark.parametrize("username", ["someone@example.com", "+12025550143", "a b", ""])
def test_patch_me_refuses_a_username_change_user_info_would_refuse(api, user, tokens, username):
    assert_error(patch_me(api, tokens["access"], username=username), 400, "invalid", fields=("username",))

    user.refresh_from_db()
    assert user.username == "jane"


def test_patch_me_refuses_a_new_password_without_the_old_one(api, user, tokens):
    response = patch_me(api, tokens["access"], password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)

    assert_error(response, 400, "invalid", fields=("old_password",))
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert refresh_status(api, tokens["refresh"]) == 200
    assert mail.outbox == []


def test_patch_me_refuses_a_wrong_old_password_and_a_weak_new_one_at_once(api, user, tokens):
    response = patch_me(api, tokens["access"], old_password="wrong", password="12345678", confirm_password="12345678")

    assert_error(response, 400, "invalid", fields=("old_password", "password"))
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_patch_me_refuses_a_confirmation_that_differs(api, user, tokens):
    response = patch_me(
        api, tokens["access"], old_password=PASSWORD, password=NEW_PASSWORD, confirm_password=NEW_PASSWORD + "x"
    )

    assert_error(response, 400, "invalid", fields=("confirm_password",))


def test_patch_me_with_the_old_password_changes_it_and_ends_every_session(api, user, login):
    laptop, phone = login("jane"), login(EMAIL)

    response = patch_me(
        api, laptop["access"], bio="new", old_password=PASSWORD, password=NEW_PASSWORD, confirm_password=NEW_PASSWORD
    )

    assert response.status_code == 200, response.content
    assert response.json()["bio"] == "new"
    for session in (laptop, phone):
        assert_error(me(api, session["access"]), 401, "token_not_valid")
        assert refresh_status(api, session["refresh"]) == 401
    assert not Session.objects.filter(user=user, ended_at__isnull=True).exists()
    assert set(Session.objects.values_list("end_reason", flat=True)) == {"password"}
    fresh = login("jane", NEW_PASSWORD)
    assert me(api, fresh["access"]).status_code == 200
    old = api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD})
    assert_error(old, 401, "invalid_credentials")
    (notice,) = mail.outbox
    assert notice.to == [EMAIL]
    assert not re.search(r"\d{6}", notice.body)


def test_patch_me_needs_an_access_token(api, user, signup):
    assert_error(patch_me(api, None, bio="x"), 401, "not_authenticated")
    assert_error(patch_me(api, signup("new.person@example.com"), bio="x"), 401, "token_not_valid")
    user.refresh_from_db()
    assert user.bio == ""


def test_patch_me_is_rate_limited_per_account(api, settings, user, tokens):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "profile_account": "2/h"}
    assert patch_me(api, tokens["access"], bio="1").status_code == 200
    assert patch_me(api, tokens["access"], bio="2").status_code == 200

    response = patch_me(api, tokens["access"], bio="3")

    assert_error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    user.refresh_from_db()
    assert user.bio == "2"


# --- DELETE /user/me/ (more in test_account_deletion.py) --------------------------------------------


def test_delete_me_needs_an_access_token(api, user, signup):
    assert_error(api.bearer(None).delete("/user/me/", {"password": PASSWORD}), 401, "not_authenticated")
    refused = api.bearer(signup("new.person@example.com")).delete("/user/me/", {"password": PASSWORD})
    assert_error(refused, 401, "token_not_valid")
    assert User.objects.filter(pk=user.pk).exists()


def test_delete_me_answers_204_without_a_body(api, user, tokens):
    response = api.bearer(tokens["access"]).delete("/user/me/", {"password": PASSWORD})

    assert response.status_code == 204
    assert response.content == b""
    assert not User.objects.filter(pk=user.pk).exists()
