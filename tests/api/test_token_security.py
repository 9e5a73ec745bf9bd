"""Token security: atomic refresh rotation, reuse detection, revocation on logout, password change
and deactivation, and a tampering matrix of forged and misused tokens, all refused with 401."""

import base64
import json
from datetime import timedelta

import jwt
import pytest
import requests
from django.conf import settings as django_settings
from django.utils import timezone
from django_redis import get_redis_connection
from rest_framework_simplejwt.settings import api_settings

from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD, PendingUserFactory, UserFactory, session_tokens
from tests.support.parallel import in_parallel, outcome
from users.models import Session
from users.services import sessions as services
from users.tokens import STAGE_NEW, STAGE_VERIFIED, AccessToken, RefreshToken, SignupToken

# The matrix forges an HS512 token with the (shorter than 64 bytes) signing key on purpose.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

# What the README promises for a token that is missing, forged, of the wrong kind, expired or revoked.
REFUSED_TOKEN_CODES = {"token_not_valid", "not_authenticated"}
NEW_PASSWORD = "Ano7her-Horse-Battery"


def login(api, user_input: str = "jane", password: str = PASSWORD) -> dict:
    response = api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def refresh_with(api, refresh: str):
    return api.bearer(None).post("/user/login-refresh/", {"refresh": refresh})


def logout(api, access: str, refresh: str):
    return api.bearer(access).post("/user/logout/", {"refresh": refresh})


def assert_token_refused(response, *, documented_code: bool = True) -> dict:
    """401 in the error shape; with ``documented_code``, also one of the README's token codes and a
    plain sentence as ``detail`` (the revocation tests leave that to the dedicated test below)."""
    assert response.status_code == 401, response.content
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}, body
    if documented_code:
        assert body["code"] in REFUSED_TOKEN_CODES, body
        assert "code:" not in body["detail"], body
        assert "detail:" not in body["detail"], body
    return body


# --- rotation --------------------------------------------------------------------------------


def test_ten_parallel_refreshes_of_one_token_give_exactly_one_success(live_server, transactional_db):
    user = UserFactory(username="jane", email=EMAIL)
    refresh = session_tokens(user)["refresh"]
    url = f"{live_server.url}/user/login-refresh/"

    def attempt(_: int) -> tuple[int, dict]:
        with requests.Session() as session:
            response = session.post(url, json={"refresh": refresh}, timeout=30)
        return response.status_code, response.json()

    results = in_parallel(10, attempt)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [401] * 9, results
    assert all(body["code"] == "token_not_valid" for status, body in results if status == 401)


def test_parallel_rotation_in_services_is_atomic(transactional_db):
    # The same race one level down, each thread on its own database connection.
    user = UserFactory(username="jane", email=EMAIL)
    refresh = session_tokens(user)["refresh"]
    outcomes = in_parallel(
        10, lambda _: outcome(lambda: services.session_refresh(refresh=refresh), refused=services.RefreshTokenInvalid)
    )

    assert sorted(outcomes) == ["ok"] + ["refused"] * 9


def test_reuse_of_a_rotated_refresh_token_ends_its_session(api, user, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0  # the replay comes after the grace period
    laptop = login(api)
    phone = login(api, EMAIL)
    rotated = refresh_with(api, laptop["refresh"]).json()

    reuse = refresh_with(api, laptop["refresh"])  # a stolen copy is replayed

    assert_error(reuse, 401, "token_not_valid")
    assert_token_refused(refresh_with(api, rotated["refresh"]))  # the newest one of the family too
    assert_token_refused(api.bearer(rotated["access"]).get("/user/me/"))  # and its access token
    assert refresh_with(api, phone["refresh"]).status_code == 200  # another session is not touched
    assert login(api)["refresh"]  # the owner can log in again
    assert Session.objects.get(end_reason="reuse").ended_at is not None


def test_reuse_of_a_logged_out_token_is_refused_without_revoking_other_sessions(api, user):
    laptop = login(api)
    phone = login(api, EMAIL)
    assert logout(api, laptop["access"], laptop["refresh"]).status_code == 200

    reuse = refresh_with(api, laptop["refresh"])

    assert_error(reuse, 401, "token_not_valid")
    assert refresh_with(api, phone["refresh"]).status_code == 200


def test_reuse_of_a_logged_out_token_after_the_marker_is_gone_still_refused(api, user):
    laptop = login(api)
    logout(api, laptop["access"], laptop["refresh"])
    get_redis_connection("default").flushdb()  # the logout marker lives in Redis only

    assert_token_refused(refresh_with(api, laptop["refresh"]))


# --- revocation ------------------------------------------------------------------------------


def test_password_change_revokes_refresh_tokens_and_old_access_tokens(api, user):
    current = login(api)
    other_session = login(api, EMAIL)

    changed = api.bearer(current["access"]).patch(
        "/user/change-user-info/",
        {"old_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )

    assert changed.status_code == 200, changed.content
    assert_token_refused(refresh_with(api, current["refresh"]))
    assert_token_refused(refresh_with(api, other_session["refresh"]))
    assert_token_refused(
        api.bearer(current["access"]).patch("/user/change-user-info/", {"bio": "x"}), documented_code=False
    )
    assert_token_refused(logout(api, other_session["access"], other_session["refresh"]), documented_code=False)
    fresh = login(api, "jane", NEW_PASSWORD)
    assert api.bearer(fresh["access"]).patch("/user/change-user-info/", {"bio": "x"}).status_code == 200
    assert refresh_with(api, fresh["refresh"]).status_code == 200


def test_profile_change_without_password_keeps_sessions(api, user):
    current = login(api)

    assert api.bearer(current["access"]).patch("/user/change-user-info/", {"bio": "new bio"}).status_code == 200

    assert refresh_with(api, current["refresh"]).status_code == 200
    assert api.bearer(current["access"]).patch("/user/change-user-info/", {"bio": "again"}).status_code == 200


def test_inactive_user_is_refused_at_login_refresh_and_with_an_existing_access_token(api, user):
    tokens = login(api)
    user.is_active = False
    user.save()

    assert_error(
        api.bearer(None).post("/user/login/", {"user_input": "jane", "password": PASSWORD}), 401, "invalid_credentials"
    )
    assert_token_refused(refresh_with(api, tokens["refresh"]))
    assert_token_refused(
        api.bearer(tokens["access"]).patch("/user/change-user-info/", {"bio": "x"}), documented_code=False
    )
    assert_token_refused(logout(api, tokens["access"], tokens["refresh"]), documented_code=False)


def test_refused_access_tokens_answer_with_a_documented_code_and_a_plain_detail(api, user):
    """Every refused token answers like the README says: code token_not_valid or not_authenticated
    and a sentence as detail (simplejwt's AuthenticationFailed carries a dict as its detail)."""
    changed = login(api)
    inactive_user = UserFactory(username="gone")
    inactive = login(api, "gone")
    inactive_user.is_active = False
    inactive_user.save()
    user.set_password(NEW_PASSWORD)
    user.save()

    answers = {
        "password changed": api.bearer(changed["access"]).patch("/user/change-user-info/", {"bio": "x"}),
        "user inactive": api.bearer(inactive["access"]).patch("/user/change-user-info/", {"bio": "x"}),
        "empty bearer": with_bearer(api, "").post("/user/logout/", {"refresh": changed["refresh"]}),
        "three-part header": with_bearer(api, "a b").post("/user/logout/", {"refresh": changed["refresh"]}),
    }

    bodies = {name: response.json() for name, response in answers.items()}
    assert all(r.status_code == 401 for r in answers.values()), bodies
    wrong = {
        name: body
        for name, body in bodies.items()
        if body["code"] not in REFUSED_TOKEN_CODES or "code:" in body["detail"] or "detail:" in body["detail"]
    }
    assert wrong == {}, json.dumps(wrong, indent=1)


# --- tampering matrix ------------------------------------------------------------------------


def with_bearer(api, token: str):
    """Send exactly ``Bearer <token>``, even an empty one."""
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return api


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


def _payload(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _forge(token: str, *, key: str, algorithm: str = "HS256", **changes) -> str:
    return jwt.encode({**_payload(token), **changes}, key, algorithm=algorithm)


def _alg_none(token: str, **changes) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64({**_payload(token), **changes})}."


def _edit_payload(token: str, **changes) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{_b64({**_payload(token), **changes})}.{signature}"


def _without(token: str, claim: str) -> str:
    payload = _payload(token)
    payload.pop(claim)
    return jwt.encode(payload, django_settings.SIMPLE_JWT["SIGNING_KEY"], algorithm="HS256")


WRONG_KEY = "a-perfectly-random-but-wrong-key-0123456789-abcdefghijklmnop"


def forged_access_tokens(victim, other) -> dict[str, str]:
    """Ways to get past JWTAuthentication as ``victim`` without a valid access token of theirs."""
    good = session_tokens(victim)["access"]
    signing_key = django_settings.SIMPLE_JWT["SIGNING_KEY"]
    expired = AccessToken(session_tokens(victim)["access"])
    expired.set_exp(lifetime=-timedelta(seconds=5))
    return {
        "alg none": _alg_none(good),
        "alg none, no dot": _alg_none(good)[:-1],
        "wrong key": _forge(good, key=WRONG_KEY),
        "signed with SECRET_KEY": _forge(good, key=django_settings.SECRET_KEY),
        "HS512 with the right key": _forge(good, key=signing_key, algorithm="HS512"),
        "edited payload: user_id flipped": _edit_payload(session_tokens(other)["access"], user_id=str(victim.id)),
        "edited payload: exp pushed back": _edit_payload(str(expired), exp=_payload(good)["exp"] + 3600),
        "expired": str(expired),
        "refresh token as access": session_tokens(victim)["refresh"],
        "sign-up token (verified stage)": str(SignupToken.for_subject(victim.id, stage=STAGE_VERIFIED)),
        "no token_type": _without(good, "token_type"),
        "token_type changed to signup, re-signed with a wrong key": _forge(good, key=WRONG_KEY, token_type="signup"),
        "garbage": "not.a.jwt",
    }


@pytest.fixture
def victim_and_other(db):
    return UserFactory(username="jane", email=EMAIL), UserFactory(username="mallory")


ACCESS_MATRIX = [
    "alg none",
    "alg none, no dot",
    "wrong key",
    "signed with SECRET_KEY",
    "HS512 with the right key",
    "edited payload: user_id flipped",
    "edited payload: exp pushed back",
    "expired",
    "refresh token as access",
    "sign-up token (verified stage)",
    "no token_type",
    "token_type changed to signup, re-signed with a wrong key",
    "garbage",
]


@pytest.mark.parametrize("case", ACCESS_MATRIX)
def test_logout_refuses_forged_access_tokens(api, victim_and_other, case):
    victim, other = victim_and_other
    victim_refresh = session_tokens(victim)["refresh"]
    forged = forged_access_tokens(victim, other)[case]

    response = with_bearer(api, forged).post("/user/logout/", {"refresh": victim_refresh})

    assert_token_refused(response)
    assert refresh_with(api, victim_refresh).status_code == 200  # the victim's session still works


@pytest.mark.parametrize("case", [c for c in ACCESS_MATRIX if not c.startswith("sign-up token")])
def test_change_user_info_refuses_forged_access_tokens(api, victim_and_other, case):
    victim, other = victim_and_other
    forged = forged_access_tokens(victim, other)[case]

    response = with_bearer(api, forged).patch("/user/change-user-info/", {"bio": "pwned"})

    assert_token_refused(response)
    victim.refresh_from_db()
    assert victim.bio != "pwned"


def forged_signup_tokens(pending) -> dict[str, str]:
    """Ways to pass a sign-up step for ``pending`` without the token verify handed out."""
    new = str(SignupToken.for_subject(pending.id, stage=STAGE_NEW))
    expired = SignupToken.for_subject(pending.id, stage=STAGE_VERIFIED)
    expired.set_exp(lifetime=-timedelta(seconds=5))
    return {
        "stage edited to verified": _edit_payload(new, stage=STAGE_VERIFIED),
        "alg none, verified": _alg_none(new, stage=STAGE_VERIFIED),
        "wrong key, verified": _forge(new, key=WRONG_KEY, stage=STAGE_VERIFIED),
        "signed with SECRET_KEY, verified": _forge(new, key=django_settings.SECRET_KEY, stage=STAGE_VERIFIED),
        "expired verified token": str(expired),
        "access token with a stage claim, wrong key": _forge(
            session_tokens(pending)["access"], key=WRONG_KEY, stage=STAGE_VERIFIED
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "stage edited to verified",
        "alg none, verified",
        "wrong key, verified",
        "signed with SECRET_KEY, verified",
        "expired verified token",
        "access token with a stage claim, wrong key",
    ],
)
def test_change_user_info_refuses_forged_signup_tokens(api, case):
    pending = PendingUserFactory(email=EMAIL, auth_status="code_verified")
    forged = forged_signup_tokens(pending)[case]
    change = {"username": "intruder", "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}

    response = api.bearer(forged).patch("/user/change-user-info/", change)

    assert_token_refused(response)
    pending.refresh_from_db()
    assert pending.username is None
    assert pending.auth_status == "code_verified"


@pytest.mark.parametrize("kind", ["access", "refresh", "wrong key", "alg none"])
def test_verify_refuses_anything_but_a_genuine_signup_token(api, kind):
    pending = PendingUserFactory(email=EMAIL)
    new = str(SignupToken.for_subject(pending.id, stage=STAGE_NEW))
    token = {
        "access": session_tokens(pending)["access"],
        "refresh": session_tokens(pending)["refresh"],
        "wrong key": _forge(new, key=WRONG_KEY),
        "alg none": _alg_none(new),
    }[kind]

    assert_token_refused(api.bearer(token).post("/user/verify/", {"code": "123456"}))


def test_signup_token_is_refused_as_a_refresh_token(api, user):
    token = str(SignupToken.for_subject(user.id, stage=STAGE_VERIFIED))

    assert_token_refused(refresh_with(api, token))


@pytest.mark.parametrize("kind", ["alg none", "wrong key", "signed with SECRET_KEY", "user_id flipped", "expired"])
def test_refresh_refuses_forged_refresh_tokens(api, victim_and_other, kind):
    victim, other = victim_and_other
    good = session_tokens(victim)["refresh"]
    expired = RefreshToken(session_tokens(victim)["refresh"])
    expired.set_exp(lifetime=-timedelta(seconds=5))
    token = {
        "alg none": _alg_none(good),
        "wrong key": _forge(good, key=WRONG_KEY),
        "signed with SECRET_KEY": _forge(good, key=django_settings.SECRET_KEY),
        "user_id flipped": _edit_payload(session_tokens(other)["refresh"], user_id=str(victim.id)),
        "expired": str(expired),
    }[kind]

    assert_token_refused(refresh_with(api, token))


def test_jwt_signing_key_is_not_the_secret_key():
    key = django_settings.SIMPLE_JWT["SIGNING_KEY"]
    assert key
    assert key != django_settings.SECRET_KEY
    assert api_settings.SIGNING_KEY == key  # what simplejwt actually signs with
    assert api_settings.ALGORITHM == "HS256"


def test_reuse_within_the_grace_period_is_refused_without_revoking_the_new_token(api, user, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 10
    laptop = login(api)
    phone = login(api, EMAIL)
    rotated = refresh_with(api, laptop["refresh"]).json()

    retry = refresh_with(api, laptop["refresh"])  # a client retrying a refresh that timed out

    assert_error(retry, 401, "token_not_valid")
    assert refresh_with(api, rotated["refresh"]).status_code == 200
    assert refresh_with(api, phone["refresh"]).status_code == 200


def test_reuse_after_the_grace_period_revokes_the_family(api, user, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 10
    laptop = login(api)
    rotated = refresh_with(api, laptop["refresh"]).json()
    Session.objects.update(rotated_at=timezone.now() - timedelta(seconds=11))

    assert_error(refresh_with(api, laptop["refresh"]), 401, "token_not_valid")
    assert_token_refused(refresh_with(api, rotated["refresh"]))


def test_refresh_token_from_before_a_password_change_is_refused_without_revoking_the_new_session(api, user, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    stale = login(api)  # another device, before the change
    fresh = login(api)
    api.bearer(fresh["access"]).patch(
        "/user/change-user-info/",
        {"old_password": PASSWORD, "password": "An0ther-pass-phrase", "confirm_password": "An0ther-pass-phrase"},
    )
    api.bearer(None)
    after = api.post("/user/login/", {"user_input": "jane", "password": "An0ther-pass-phrase"}).json()

    assert_error(refresh_with(api, stale["refresh"]), 401, "token_not_valid")
    assert refresh_with(api, after["refresh"]).status_code == 200  # not taken for a stolen token
