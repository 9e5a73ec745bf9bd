"""The password-reset and login-code tokens open only their own steps, and no other token opens
them: each is refused (401) everywhere else, and sign-up, access and refresh tokens, or the other
flow's token, are refused on their steps. Forged, expired or edited flow tokens are refused too."""

from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings

from tests.api.conftest import EMAIL
from tests.factories import PendingUserFactory, UserFactory, session_tokens
from users.models import AuthStatus
from users.tokens import STAGE_NEW, STAGE_VERIFIED, LoginCodeToken, PasswordResetToken, SignupToken

REFUSED = {"token_not_valid", "not_authenticated"}
SESSION = "00000000-0000-4000-8000-000000000000"
WRONG_KEY = "a-perfectly-random-but-wrong-key-0123456789-abcdefghijklmnop"

# Every endpoint that reads a bearer token, with a body it would take.
BEARER_ENDPOINTS = {
    "verify": ("post", "/user/verify/", {"code": "123456"}),
    "new-verify": ("get", "/user/new-verify/", None),
    "delivery-status": ("get", "/user/delivery-status/", None),
    "change-user-info": ("patch", "/user/change-user-info/", {"bio": "x"}),
    "me": ("get", "/user/me/", None),
    "me patch": ("patch", "/user/me/", {"bio": "x"}),
    "me delete": ("delete", "/user/me/", {"password": "Corr3ct-Horse-Battery"}),
    "logout": ("post", "/user/logout/", {"refresh": "x"}),
    "logout-all": ("post", "/user/logout-all/", {}),
    "sessions": ("get", "/user/sessions/", None),
    "session delete": ("delete", f"/user/sessions/{SESSION}/", None),
    "change-identifier": ("post", "/user/change-identifier/", {"email_phone_number": "new@example.com"}),
    "change-identifier confirm": ("post", "/user/change-identifier/confirm/", {"code": "123456"}),
    "password-reset new-code": ("get", "/user/password-reset/new-code/", None),
    "password-reset confirm": (
        "post",
        "/user/password-reset/confirm/",
        {"code": "123456", "password": "Ano7her-Horse-Battery", "confirm_password": "Ano7her-Horse-Battery"},
    ),
    "login-code confirm": ("post", "/user/login-code/confirm/", {"code": "123456"}),
}
RESET_STEPS = {"password-reset new-code", "password-reset confirm"}
LOGIN_CODE_STEPS = {"login-code confirm"}


def call(api, token: str, endpoint: str):
    method, path, body = BEARER_ENDPOINTS[endpoint]
    client = api.bearer(token)
    return getattr(client, method)(path, body) if body is not None else getattr(client, method)(path)


def assert_refused(response) -> None:
    assert response.status_code == 401, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}, body
    assert body["code"] in REFUSED, body


@pytest.fixture
def account(db):
    return UserFactory(username="jane", email=EMAIL)


@pytest.fixture
def flow_tokens(api, account, next_codes) -> dict[str, str]:
    """A genuine reset token and login-code token of a finished account, from the API."""
    next_codes("999999")  # never the code the requests below send
    reset = api.post("/user/password-reset/", {"email_phone_number": EMAIL})
    login_code = api.post("/user/login-code/", {"user_input": EMAIL})
    assert reset.status_code == login_code.status_code == 202
    return {"reset": reset.json()["access"], "login code": login_code.json()["access"]}


def test_each_flow_token_opens_its_own_steps(api, flow_tokens):
    # The refusals below are about the token, not the requests: with its own token each step answers.
    assert call(api, flow_tokens["reset"], "password-reset new-code").status_code == 429  # the cooldown
    assert call(api, flow_tokens["reset"], "password-reset confirm").json()["code"] == "code_invalid"
    assert call(api, flow_tokens["login code"], "login-code confirm").json()["code"] == "code_invalid"


@pytest.mark.parametrize("endpoint", sorted(set(BEARER_ENDPOINTS) - RESET_STEPS))
def test_a_reset_token_is_refused_everywhere_but_its_own_steps(api, flow_tokens, endpoint):
    assert_refused(call(api, flow_tokens["reset"], endpoint))


@pytest.mark.parametrize("endpoint", sorted(set(BEARER_ENDPOINTS) - LOGIN_CODE_STEPS))
def test_a_login_code_token_is_refused_everywhere_but_its_own_step(api, flow_tokens, endpoint):
    assert_refused(call(api, flow_tokens["login code"], endpoint))


@pytest.mark.parametrize("kind", ["reset", "login code"])
def test_a_flow_token_is_no_refresh_token(api, flow_tokens, account, kind):
    refreshed = api.bearer(None).post("/user/login-refresh/", {"refresh": flow_tokens[kind]})
    access = session_tokens(account)["access"]
    logout = api.bearer(access).post("/user/logout/", {"refresh": flow_tokens[kind]})

    assert_refused(refreshed)
    assert logout.status_code == 400, logout.content
    assert logout.json()["fields"].get("refresh")


def _other_tokens(account, flow_tokens) -> dict[str, str]:
    pending = PendingUserFactory(auth_status=AuthStatus.CODE_VERIFIED)
    pair = session_tokens(account)
    return {
        "access": pair["access"],
        "refresh": pair["refresh"],
        "sign-up": str(SignupToken.for_subject(pending.id, stage=STAGE_NEW)),
        "verified sign-up": str(SignupToken.for_subject(pending.id, stage=STAGE_VERIFIED)),
        **flow_tokens,
    }


@pytest.mark.parametrize("endpoint", sorted(RESET_STEPS))
@pytest.mark.parametrize("kind", ["access", "refresh", "sign-up", "verified sign-up", "login code"])
def test_the_reset_steps_refuse_every_other_token(api, account, flow_tokens, endpoint, kind):
    assert_refused(call(api, _other_tokens(account, flow_tokens)[kind], endpoint))


@pytest.mark.parametrize("kind", ["access", "refresh", "sign-up", "verified sign-up", "reset"])
def test_login_code_confirm_refuses_every_other_token(api, account, flow_tokens, kind):
    assert_refused(call(api, _other_tokens(account, flow_tokens)[kind], "login-code confirm"))


@pytest.mark.parametrize("endpoint", sorted(RESET_STEPS | LOGIN_CODE_STEPS))
def test_the_flow_steps_need_a_token(api, endpoint):
    assert_refused(call(api, None, endpoint))


def _edited(token: str, key: str, **changes) -> str:
    payload = jwt.decode(token, options={"verify_signature": False})
    return jwt.encode({**payload, **changes}, key, algorithm="HS256")


@pytest.mark.parametrize("kind", ["reset", "login code"])
def test_forged_edited_and_expired_flow_tokens_are_refused(api, flow_tokens, account, kind):
    token = flow_tokens[kind]
    own_step = "password-reset confirm" if kind == "reset" else "login-code confirm"
    other_type = "login_code" if kind == "reset" else "password_reset"
    token_class = PasswordResetToken if kind == "reset" else LoginCodeToken
    expired = token_class.for_subject(account.id)
    expired.set_exp(lifetime=-timedelta(seconds=5))
    header, _, signature = token.split(".")
    other_payload = _edited(token, WRONG_KEY, token_type=other_type).split(".")[1]
    signing_key = django_settings.SIMPLE_JWT["SIGNING_KEY"]

    forged = {
        "wrong key": _edited(token, WRONG_KEY),
        "signed with SECRET_KEY": _edited(token, django_settings.SECRET_KEY),
        "token_type edited, old signature": f"{header}.{other_payload}.{signature}",
        "expired": str(expired),
        "malformed user_id": _edited(token, signing_key, user_id="not-a-uuid"),
    }

    for name, bad in forged.items():
        response = call(api, bad, own_step)
        assert response.status_code == 401, (name, response.content)
        assert response.json()["code"] in REFUSED, name


def test_a_flow_token_lives_flow_token_minutes(api, account, settings):
    settings.FLOW_TOKEN_LIFETIME = timedelta(minutes=15)
    token = PasswordResetToken(api.post("/user/password-reset/", {"email_phone_number": EMAIL}).json()["access"])

    assert token["exp"] - token["iat"] == 15 * 60
