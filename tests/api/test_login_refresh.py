"""POST /user/login-refresh/: exchange a refresh token for a new pair, with rotation."""

from datetime import timedelta

import pytest
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.api.conftest import assert_error


def refresh_with(api, payload: dict):
    return api.bearer(None).post("/user/login-refresh/", payload)


def test_refresh_answers_with_a_new_pair(api, user, tokens):
    response = refresh_with(api, {"refresh": tokens["refresh"]})

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh"}
    assert body["refresh"] != tokens["refresh"]
    assert body["access"] != tokens["access"]
    assert AccessToken(body["access"])["user_id"] == str(user.id)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.id)


def test_refreshed_access_token_works(api, tokens):
    access = refresh_with(api, {"refresh": tokens["refresh"]}).json()["access"]

    response = api.bearer(access).patch("/user/change-user-info/", {"bio": "refreshed"})

    assert response.status_code == 200, response.content


def test_refreshed_refresh_token_can_be_refreshed_again(api, tokens):
    second = refresh_with(api, {"refresh": tokens["refresh"]}).json()

    assert refresh_with(api, {"refresh": second["refresh"]}).status_code == 200


@pytest.mark.parametrize("access", ["garbage", "", "tokens-access"])
def test_refresh_accepts_and_ignores_the_access_field(api, tokens, access):
    access = tokens["access"] if access == "tokens-access" else access

    response = refresh_with(api, {"refresh": tokens["refresh"], "access": access})

    assert response.status_code == 200, response.content


def test_refresh_refuses_a_rotated_refresh_token(api, tokens):
    refresh_with(api, {"refresh": tokens["refresh"]})

    response = refresh_with(api, {"refresh": tokens["refresh"]})

    assert_error(response, 401, "token_not_valid")


def test_reuse_of_a_rotated_refresh_token_revokes_the_new_one_too(api, tokens, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    rotated = refresh_with(api, {"refresh": tokens["refresh"]}).json()
    refresh_with(api, {"refresh": tokens["refresh"]})  # a stolen copy of the old token is replayed

    assert_error(refresh_with(api, {"refresh": rotated["refresh"]}), 401, "token_not_valid")


@pytest.mark.parametrize("refresh", ["garbage", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.e30.xxxx"])
def test_refresh_refuses_a_garbage_token(api, refresh):
    assert_error(refresh_with(api, {"refresh": refresh}), 401, "token_not_valid")


def test_refresh_refuses_an_expired_refresh_token(api, user):
    expired = RefreshToken.for_user(user)
    expired.set_exp(lifetime=-timedelta(seconds=1))

    assert_error(refresh_with(api, {"refresh": str(expired)}), 401, "token_not_valid")


def test_refresh_refuses_an_access_token(api, tokens):
    assert_error(refresh_with(api, {"refresh": tokens["access"]}), 401, "token_not_valid")


def test_refresh_refuses_a_signup_token(api, signup):
    assert_error(refresh_with(api, {"refresh": signup("new.person@example.com")}), 401, "token_not_valid")


def test_refresh_refuses_the_token_of_a_deactivated_user(api, user, tokens):
    user.is_active = False
    user.save()

    assert_error(refresh_with(api, {"refresh": tokens["refresh"]}), 401, "token_not_valid")


def test_refresh_requires_the_refresh_field(api, tokens):
    assert_error(refresh_with(api, {"access": tokens["access"]}), 400, "invalid", fields=("refresh",))
