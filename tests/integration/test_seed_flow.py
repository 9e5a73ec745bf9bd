"""The seed README's flow, step by step through the HTTP client, with the seed's own payloads:
sign-up, verify, profile, login, refresh, logout, and a refresh refused after logout."""

import pytest

SEED_PROFILE = {
    "fistname": "jone",
    "username": "jone123",
    "bio": "some bio",
    "gender": "men",
    "password": "some password",
    "confirm_password": "some password",
}


def run_seed_flow(api, identifier: str, read_code, *, code_as_int: bool) -> None:
    # Initial step: sign up with an e-mail address or a phone number.
    response = api.bearer(None).post("/user/signup/", {"email_phone_number": identifier})
    assert response.status_code == 201, response.content
    signup = response.json()
    assert signup["auth_status"] == "new"

    # Second step: the code from the message, with the sign-up token as bearer.
    code = read_code()
    response = api.bearer(signup["access"]).post("/user/verify/", {"code": int(code) if code_as_int else code})
    assert response.status_code == 200, response.content
    verified = response.json()
    assert verified["auth_status"] == "code_verified"

    # Third step: the profile, with the token returned by verify.
    response = api.bearer(verified["access"]).patch("/user/change-user-info/", SEED_PROFILE)
    assert response.status_code == 200, response.content
    profile = response.json()
    assert profile["username"] == "jone123"
    assert profile["first_name"] == "jone"
    assert profile["bio"] == "some bio"
    assert profile["gender"] == "male"
    assert profile["auth_status"] == "done"
    assert "password" not in profile

    # Final step: log in with the username.
    response = api.bearer(None).post("/user/login/", {"user_input": "jone123", "password": "some password"})
    assert response.status_code == 200, response.content
    login = response.json()
    assert login["auth_status"] == "done"

    # Refresh, sending both tokens as the seed does.
    response = api.bearer(None).post("/user/login-refresh/", {"access": login["access"], "refresh": login["refresh"]})
    assert response.status_code == 200, response.content
    refreshed = response.json()
    assert refreshed["refresh"] != login["refresh"]

    # Logout: the refresh token in the body, an access token as bearer.
    response = api.bearer(refreshed["access"]).post("/user/logout/", {"refresh": refreshed["refresh"]})
    assert response.status_code == 200, response.content

    # A refresh after logout is refused.
    response = api.bearer(None).post(
        "/user/login-refresh/", {"access": refreshed["access"], "refresh": refreshed["refresh"]}
    )
    assert response.status_code == 401, response.content
    assert response.json()["code"] == "token_not_valid"

    # The rotated-away token is refused too.
    response = api.bearer(None).post("/user/login-refresh/", {"refresh": login["refresh"]})
    assert response.status_code == 401, response.content


def test_seed_flow_by_email(api, email_code):
    run_seed_flow(api, "testuser@gmail.com", email_code, code_as_int=True)


@pytest.mark.parametrize("typed", ["+1 202-555-0143", "(202) 555-0143"])
def test_seed_flow_by_phone(api, settings, sms_code, typed):
    settings.DEFAULT_PHONE_REGION = "US"

    run_seed_flow(api, typed, sms_code, code_as_int=False)

    response = api.bearer(None).post("/user/login/", {"user_input": "202.555.0143", "password": "some password"})
    assert response.status_code == 200, response.content


def test_seed_flow_by_email_in_capitals_then_login_by_email(api, email_code):
    run_seed_flow(api, "TestUser@Gmail.com", email_code, code_as_int=False)

    response = api.bearer(None).post("/user/login/", {"user_input": "testuser@GMAIL.com", "password": "some password"})

    assert response.status_code == 200, response.content
