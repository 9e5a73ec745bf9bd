"""Key rotation without logging everyone out: after SECRET_KEY and JWT_SIGNING_KEY change, with
the old keys in SECRET_KEY_FALLBACKS and JWT_SIGNING_KEY_FALLBACKS, what was made with the old
keys keeps working (codes already sent, sealed payloads, tokens already issued) while everything
new is made with the new keys; once the old keys leave the fallbacks, what they made stops working."""

import secrets

import jwt
import pytest

from project import sealing
from tests.api.conftest import assert_error

CODE = "480913"


def new_key() -> str:
    return secrets.token_urlsafe(48)


@pytest.fixture
def rotate_secret(settings):
    """Make SECRET_KEY a new key; keep the old one as a fallback or not; returns the old one."""

    def _rotate(*, keep_old: bool) -> str:
        old = settings.SECRET_KEY
        settings.SECRET_KEY = new_key()
        settings.SECRET_KEY_FALLBACKS = [old] if keep_old else []
        return old

    return _rotate


@pytest.fixture
def rotate_jwt_key(settings):
    def _rotate(*, keep_old: bool) -> str:
        old = settings.SIMPLE_JWT["SIGNING_KEY"]
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": new_key()}
        settings.JWT_SIGNING_KEY_FALLBACKS = [old] if keep_old else []
        return old

    return _rotate


# --- SECRET_KEY: codes and sealed payloads -------------------------------------------------------


def test_a_code_sent_before_a_rotation_is_still_good_after_it(signup, verify, next_codes, rotate_secret):
    next_codes(CODE)
    token = signup()

    rotate_secret(keep_old=True)

    assert verify(token, CODE).status_code == 200


def test_without_the_old_key_in_the_fallbacks_a_code_sent_before_the_rotation_is_wrong(
    signup, verify, next_codes, rotate_secret
):
    next_codes(CODE)
    token = signup()

    rotate_secret(keep_old=False)

    assert_error(verify(token, CODE), 400, "code_invalid", fields=("code",))


def test_a_code_sent_after_the_rotation_does_not_depend_on_the_old_key(
    signup, verify, next_codes, rotate_secret, settings
):
    rotate_secret(keep_old=True)
    next_codes(CODE)
    token = signup()

    settings.SECRET_KEY_FALLBACKS = []  # the old key retired: a new code needs only the new one

    assert verify(token, CODE).status_code == 200


def test_a_wrong_code_stays_wrong_with_fallbacks(signup, verify, next_codes, rotate_secret):
    next_codes(CODE)
    token = signup()
    rotate_secret(keep_old=True)

    assert_error(verify(token, "000000"), 400, "code_invalid", fields=("code",))
    assert verify(token, CODE).status_code == 200


def test_a_payload_sealed_before_a_rotation_opens_after_it_and_new_ones_use_the_new_key(rotate_secret, settings):
    before = sealing.seal(b"recipient and code", purpose="test")
    rotate_secret(keep_old=True)

    assert sealing.unseal(before, purpose="test") == b"recipient and code"
    after = sealing.seal(b"new", purpose="test")
    settings.SECRET_KEY_FALLBACKS = []
    assert sealing.unseal(after, purpose="test") == b"new"
    with pytest.raises(sealing.Unsealable):
        sealing.unseal(before, purpose="test")


# --- JWT_SIGNING_KEY: access and refresh tokens ------------------------------------------------


def test_tokens_issued_before_a_rotation_keep_working_and_new_ones_use_the_new_key(
    api, user, login, rotate_jwt_key, settings
):
    tokens = login("jane")
    old_key = rotate_jwt_key(keep_old=True)

    assert api.bearer(tokens["access"]).get("/user/me/").status_code == 200
    response = api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]})
    assert response.status_code == 200, response.content
    fresh = response.json()

    new_key = settings.SIMPLE_JWT["SIGNING_KEY"]
    for token in (fresh["access"], fresh["refresh"]):
        jwt.decode(token, new_key, algorithms=["HS256"])
        with pytest.raises(jwt.InvalidSignatureError):
            jwt.decode(token, old_key, algorithms=["HS256"])
    settings.JWT_SIGNING_KEY_FALLBACKS = []
    assert api.bearer(fresh["access"]).get("/user/me/").status_code == 200


def test_once_the_old_key_is_retired_its_tokens_are_refused(api, user, login, rotate_jwt_key):
    tokens = login("jane")

    rotate_jwt_key(keep_old=False)

    assert_error(api.bearer(tokens["access"]).get("/user/me/"), 401, "token_not_valid")
    assert_error(api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]}), 401, "token_not_valid")


def test_a_token_signed_by_an_unknown_key_is_refused_with_fallbacks_too(api, user, login, rotate_jwt_key, settings):
    tokens = login("jane")
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})
    forged = jwt.encode(payload, new_key(), algorithm="HS256")
    rotate_jwt_key(keep_old=True)

    assert_error(api.bearer(forged).get("/user/me/"), 401, "token_not_valid")


def test_an_expired_token_is_not_retried_with_the_old_keys(api, user, login, rotate_jwt_key, settings):
    tokens = login("jane")
    old_key = rotate_jwt_key(keep_old=True)
    payload = jwt.decode(tokens["access"], old_key, algorithms=["HS256"])
    expired = jwt.encode({**payload, "exp": payload["iat"] - 1}, old_key, algorithm="HS256")

    assert_error(api.bearer(expired).get("/user/me/"), 401, "token_not_valid")


def test_the_sign_up_tokens_survive_a_rotation_of_both_keys(signup, verify, next_codes, rotate_secret, rotate_jwt_key):
    next_codes(CODE)
    token = signup()

    rotate_secret(keep_old=True)
    rotate_jwt_key(keep_old=True)

    assert verify(token, CODE).status_code == 200


def test_fallback_keys_from_the_environment_are_checked_like_the_keys(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    from project.settings import base

    monkeypatch.setenv("SECRET_KEY_FALLBACKS", "too-short")
    try:
        with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FALLBACKS cannot be used"):
            importlib.reload(base)
    finally:
        monkeypatch.delenv("SECRET_KEY_FALLBACKS")
        importlib.reload(base)
