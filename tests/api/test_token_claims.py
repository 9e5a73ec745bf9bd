"""Tokens correctly signed with the real key but carrying malformed claims (a user_id that is not a
UUID, a jti that is a list, a stage that is a number...) are refused like any other bad token:
401 token_not_valid on every endpoint that reads a token, never a 500. And no string committed to
the repository signs a token that the service accepts."""

import re
import subprocess
import uuid

import jwt
import pytest
from django.conf import settings as django_settings

from tests.api.conftest import assert_error
from tests.factories import PendingUserFactory, UserFactory, session_tokens
from tests.support.processes import ROOT
from users.tokens import STAGE_NEW, AccessToken, RefreshToken, SignupToken

pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")

BAD_VALUES = {
    "not a uuid": "not-a-uuid",
    "integer": 12345,
    "list": ["a", "b"],
    "object": {"$ne": None},
    "null": None,
    "huge string": "9" * 5000,
    "boolean": True,
}


def malformed(*claims: str) -> list:
    """(claim, value name) pairs that are malformed: any value for a UUID claim, and anything but
    a plain short string for the others (a string jti is well-formed, merely unknown)."""
    return [
        pytest.param(claim, value, id=f"{claim}-{value}")
        for claim in claims
        for value in BAD_VALUES
        if not (claim in ("jti", "token_type", "hash_password") and value == "not a uuid")
        and (claim, value) != ("gen", "integer")  # a generation, merely not the current one
    ]


def sign(payload: dict, key: str | None = None) -> str:
    return jwt.encode(payload, django_settings.SIMPLE_JWT["SIGNING_KEY"] if key is None else key, algorithm="HS256")


def with_claim(token, claim: str, value) -> str:
    return sign({**token.payload, claim: value})


@pytest.fixture
def user(db):
    return UserFactory(username="jane")


ACCESS_ENDPOINTS = [("get", "/user/me/"), ("patch", "/user/change-user-info/"), ("post", "/user/logout/")]
SIGNUP_ENDPOINTS = [("post", "/user/verify/"), ("get", "/user/new-verify/"), ("get", "/user/delivery-status/")]


@pytest.mark.parametrize(("claim", "value"), malformed("user_id", "jti", "token_type", "sid"))
@pytest.mark.parametrize(("method", "path"), ACCESS_ENDPOINTS)
def test_an_access_token_with_a_malformed_claim_is_refused(api, user, claim, value, method, path):
    token = with_claim(AccessToken(session_tokens(user)["access"]), claim, BAD_VALUES[value])
    api.raise_request_exception = False

    response = getattr(api.bearer(token), method)(path, {"refresh": "x"})

    assert_error(response, 401, "token_not_valid")


@pytest.mark.parametrize(("claim", "value"), malformed("user_id", "jti", "stage", "attempt"))
@pytest.mark.parametrize(("method", "path"), [*SIGNUP_ENDPOINTS, ("patch", "/user/change-user-info/")])
def test_a_signup_token_with_a_malformed_claim_is_refused(api, db, claim, value, method, path):
    pending = PendingUserFactory()
    token = with_claim(SignupToken.for_subject(pending.id, stage=STAGE_NEW), claim, BAD_VALUES[value])
    api.raise_request_exception = False

    response = getattr(api.bearer(token), method)(path, {"code": "123456"})

    assert_error(response, 401, "token_not_valid")


@pytest.mark.parametrize(("claim", "value"), malformed("user_id", "jti", "sid", "gen"))
def test_a_refresh_token_with_a_malformed_claim_is_refused(api, user, claim, value):
    tokens = session_tokens(user)
    forged = with_claim(RefreshToken(tokens["refresh"]), claim, BAD_VALUES[value])
    api.raise_request_exception = False

    refreshed = api.bearer(None).post("/user/login-refresh/", {"refresh": forged})
    logout = api.bearer(tokens["access"]).post("/user/logout/", {"refresh": forged})

    if value == "huge string":  # longer than any token: refused as input before it is read
        assert_error(refreshed, 400, "invalid", fields=("refresh",))
        assert_error(logout, 400, "invalid", fields=("refresh",))
    else:
        assert_error(refreshed, 401, "token_not_valid")
        assert_error(logout, 400, "invalid", fields=("refresh",))
    assert api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]}).status_code == 200


# --- no committed string is a key ------------------------------------------------------------------


def committed_strings() -> set[str]:
    """Every quoted literal and every whitespace-separated word of every text file in git."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    found: set[str] = {""}
    for name in filter(None, files):
        try:
            text = (ROOT / name.decode()).read_text()
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
        found.update(re.findall(r'"([^"\n]{1,300})"', text))
        found.update(re.findall(r"'([^'\n]{1,300})'", text))
        for word in text.split():
            found.add(word)
            found.update(part for part in re.split(r"[=:,;()\[\]{}<>`|]", word) if part)
    return found


def test_no_string_committed_to_the_repository_signs_an_accepted_token(api, user):
    candidates = committed_strings()
    assert len(candidates) > 5000  # the whole repository was read
    assert "project.settings.production" in candidates
    template = {**AccessToken(session_tokens(user)["access"]).payload, "jti": uuid.uuid4().hex}
    signup_template = SignupToken.for_subject(PendingUserFactory().id, stage=STAGE_NEW).payload

    accepted = []
    for key in candidates:
        for payload in (template, signup_template):
            try:
                (AccessToken if payload is template else SignupToken)(sign(payload, key))
            except Exception:
                continue
            accepted.append(key)
    assert accepted == []

    # And through the API, for the strings most likely to be tried: the old committed defaults.
    for key in ("insecure-local-only-jwt-key-change-me-0123456789abcdef", "change-me"):
        forged = sign(template, key)
        assert_error(api.bearer(forged).get("/user/me/"), 401, "token_not_valid")


def test_the_signing_keys_in_use_are_not_committed():
    candidates = committed_strings()

    assert django_settings.SECRET_KEY not in candidates
    assert django_settings.SIMPLE_JWT["SIGNING_KEY"] not in candidates
