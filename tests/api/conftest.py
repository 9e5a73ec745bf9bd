"""Steps of the sign-up flow as fixtures, so each API test starts from the state it is about."""

import pytest

from tests.factories import PASSWORD, UserFactory

EMAIL = "jane@example.com"
PHONE = "+12025550143"
# What GET /user/me/ and a profile change answer with.
PROFILE_KEYS = {
    "id",
    "username",
    "first_name",
    "bio",
    "gender",
    "language",
    "email",
    "phone_number",
    "auth_type",
    "auth_status",
}


def assert_error(response, status: int, code: str, fields: tuple[str, ...] = ()) -> dict:
    """The one error shape, with the given status, code and (at least) these fields."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}, body
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    for name in fields:
        assert body["fields"].get(name), body
    return body


@pytest.fixture
def rates(settings):
    """Set some rate-limit rules (``rates(signup_ip="3/h")``); the others keep theirs."""

    def _rates(**rules: str) -> None:
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rules}

    return _rates


@pytest.fixture
def signup(api):
    """POST /user/signup/ and return the sign-up token."""

    def _signup(identifier: str = EMAIL) -> str:
        response = api.bearer(None).post("/user/signup/", {"email_phone_number": identifier})
        assert response.status_code == 201, response.content
        return response.json()["access"]

    return _signup


@pytest.fixture
def verify(api):
    """POST /user/verify/ with a sign-up token; returns the response."""

    def _verify(token: str, code):
        return api.bearer(token).post("/user/verify/", {"code": code})

    return _verify


@pytest.fixture
def verified(signup, verify, email_code, sms_code):
    """Sign up and verify with the code that was sent; returns the verified sign-up token."""

    def _verified(identifier: str = EMAIL) -> str:
        token = signup(identifier)
        code = email_code() if "@" in identifier else sms_code()
        response = verify(token, code)
        assert response.status_code == 200, response.content
        return response.json()["access"]

    return _verified


@pytest.fixture
def change_info(api):
    """PATCH /user/change-user-info/ with a token; returns the response."""

    def _change_info(token: str, **data):
        return api.bearer(token).patch("/user/change-user-info/", data)

    return _change_info


@pytest.fixture
def login(api):
    """POST /user/login/ and return the token pair."""

    def _login(user_input: str, password: str = PASSWORD) -> dict:
        response = api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password})
        assert response.status_code == 200, response.content
        return response.json()

    return _login


@pytest.fixture
def user(db):
    return UserFactory(username="jane", email=EMAIL)


@pytest.fixture
def tokens(user, login):
    """A token pair of `user` from a real login."""
    return login("jane")
