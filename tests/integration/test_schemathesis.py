"""Fuzzing with Schemathesis over every operation of /api/schema/: valid and invalid data, checked
for server errors, responses that match the schema (status, content type, body) and rejection of
invalid data. Deterministic (derandomized Hypothesis) and bounded (MAX_EXAMPLES per operation).

Each example gets the token its operation needs, minted for a fresh account (an access token of a
live session, a sign-up, password-reset or login-code token), so the fuzzer reaches the code behind
authentication instead of stopping at 401. Every other valid example also gets
real values in the fields that random strings never get right (an e-mail address, a user's
password, the code that was issued, a live refresh token, a Twilio signature), so the success
paths are fuzzed in all their other fields too.
"""

import itertools
import uuid

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from twilio.request_validator import RequestValidator

from notifications.models import Channel, Delivery, DeliveryStatus
from tests.factories import PASSWORD, PendingUserFactory, PhoneUserFactory, UserFactory, session_tokens
from users.codes import code_issue
from users.identifiers import Identifier
from users.models import AuthStatus, AuthType, User
from users.services.password import password_reset_token
from users.tokens import STAGE_NEW, STAGE_VERIFIED, LoginCodeToken, RefreshToken, SignupToken

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 25
TWILIO_TOKEN = "fuzz-twilio-auth-token"

schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
# Loaded from the WSGI app, called over HTTP against the live server: requests then run outside
# any test transaction and deliveries are published inside the request, as in production.
schema.app = None

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

NO_TOKEN = {
    "/user/signup/",
    "/user/login/",
    "/user/login-refresh/",
    "/user/password-reset/",
    "/user/login-code/",
    "/notifications/twilio/status/",
}
SIGNUP_TOKEN = {"/user/verify/", "/user/new-verify/", "/user/delivery-status/"}
RESET_TOKEN = {"/user/password-reset/new-code/", "/user/password-reset/confirm/"}
LOGIN_CODE_TOKEN = {"/user/login-code/confirm/"}
NEW_PASSWORD = "Ano7her-Horse-Battery"

_examples = itertools.count()


def _flow_subject(n: int):
    """The subject of a flow token: mostly a finished account, sometimes a decoy's (any other id)."""
    return uuid.uuid4() if n % 5 == 4 else (UserFactory() if n % 3 else PhoneUserFactory()).id


def _realistic(case, n: int, live_server_url: str) -> dict[str, str]:
    """Headers for the case; on every other valid example, real values in its body."""
    path = case.path
    body = case.body if isinstance(case.body, dict) else None
    mode = case.meta.generation.mode if case.meta else None
    realistic = mode == GenerationMode.POSITIVE and body is not None and n % 2 == 0
    headers: dict[str, str] = {}

    if path in SIGNUP_TOKEN:
        pending = PendingUserFactory()
        headers["Authorization"] = f"Bearer {SignupToken.for_subject(pending.id, stage=STAGE_NEW)}"
        if realistic and path == "/user/verify/":
            body["code"] = code_issue(purpose="signup", subject=str(pending.id)).code
        if path == "/user/delivery-status/" and n % 2 == 0:
            statuses = [s for s, _ in DeliveryStatus.choices]
            Delivery.objects.create(
                subject=pending.id,
                channel=Channel.SMS if n % 4 else Channel.EMAIL,
                recipient_masked="+1******0143" if n % 4 else "j***@example.com",
                purpose="signup",
                status=statuses[n % len(statuses)],
            )
    elif path in RESET_TOKEN:
        subject = _flow_subject(n)
        named = Identifier(AuthType.EMAIL, "fuzz@example.com") if n % 3 else Identifier(AuthType.PHONE, "+12025550143")
        token = password_reset_token(subject=subject, identifier=named)
        headers["Authorization"] = f"Bearer {token}"
        if realistic:  # the confirm step: the code that was issued, and matching passwords
            body["code"] = code_issue(purpose="password_reset", subject=str(subject)).code
            if n % 4 == 0:
                body["password"] = NEW_PASSWORD
            body["confirm_password"] = body["password"]
    elif path in LOGIN_CODE_TOKEN:
        subject = _flow_subject(n)
        headers["Authorization"] = f"Bearer {LoginCodeToken.for_subject(subject)}"
        if realistic:
            body["code"] = code_issue(purpose="login_code", subject=str(subject)).code
    elif path == "/user/change-user-info/":
        if n % 3 == 0:  # both kinds this endpoint takes: a verified sign-up token or an access token
            pending = PendingUserFactory(auth_status=AuthStatus.CODE_VERIFIED)
            headers["Authorization"] = f"Bearer {SignupToken.for_subject(pending.id, stage=STAGE_VERIFIED)}"
        else:
            headers["Authorization"] = f"Bearer {session_tokens(UserFactory())['access']}"
        if realistic and "password" in body:
            body.update(old_password=PASSWORD, confirm_password=body["password"])
    elif path not in NO_TOKEN:  # an access token of a live session
        user = UserFactory()
        tokens = session_tokens(user)
        headers["Authorization"] = f"Bearer {tokens['access']}"
        if path == "/user/sessions/{session_id}/" and n % 2 == 0 and mode == GenerationMode.POSITIVE:
            case.path_parameters = {"session_id": str(RefreshToken(tokens["refresh"]).session_id)}
        if realistic:
            _realistic_account_body(path, case.method.upper(), body, user, tokens, n)
    elif realistic and path == "/user/signup/":
        body["email_phone_number"] = f"fuzz{n}@example.com" if n % 4 == 0 else f"+1202555{n % 10000:04d}"
    elif realistic and path == "/user/password-reset/":
        choices = [UserFactory().email, f"fuzz-nobody{n}@example.com", f"+1202555{n % 10000:04d}"]
        body["email_phone_number"] = choices[n % 3]
    elif realistic and path == "/user/login-code/":
        user = UserFactory()
        body["user_input"] = [user.username, user.email, f"fuzz-nobody{n}"][n % 3]
    elif realistic and path == "/user/login/":
        user = UserFactory()
        body.update(user_input=user.username if n % 4 == 0 else user.email, password=PASSWORD)
    elif realistic and path == "/user/login-refresh/":
        body["refresh"] = session_tokens(UserFactory())["refresh"]
    elif realistic and path == "/notifications/twilio/status/":
        url = f"{live_server_url}{path}"
        params = {key: str(value) for key, value in body.items()}
        body.clear()
        body.update(params)
        headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return headers


def _realistic_account_body(path: str, method: str, body: dict, user, tokens: dict[str, str], n: int) -> None:
    """Real values for the endpoints of a logged-in account."""
    if path == "/user/logout/":
        body["refresh"] = tokens["refresh"]
    elif path == "/user/me/" and method == "PATCH" and "password" in body:
        body.update(old_password=PASSWORD, confirm_password=body["password"])
    elif path == "/user/me/" and method == "DELETE":
        body.pop("code", None)  # an account with a password proves it with the password
        body["password"] = PASSWORD
    elif path == "/user/change-identifier/":
        body.update(email_phone_number=f"fuzz-new{n}@example.com", password=PASSWORD)
    elif path == "/user/change-identifier/confirm/":
        User.objects.filter(pk=user.pk).update(
            pending_identifier_kind=AuthType.EMAIL, pending_identifier=f"fuzz-new{n}@example.com"
        )
        body["code"] = code_issue(purpose="change_identifier", subject=str(user.pk)).code


@pytest.fixture
def _fuzz_settings(settings, live_server):
    # Limits would turn most examples into 429s after a few requests; they are tested elsewhere.
    settings.RATE_LIMITS = {name: "" for name in settings.RATE_LIMITS}
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    settings.TWILIO_AUTH_TOKEN = TWILIO_TOKEN
    settings.TWILIO_STATUS_CALLBACK_URL = f"{live_server.url}/notifications/twilio/status/"


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
@pytest.mark.usefixtures("_fuzz_settings")
def test_api_conforms_to_its_schema(case, live_server):
    headers = _realistic(case, next(_examples), live_server.url)

    case.call_and_validate(base_url=live_server.url, headers=headers, checks=CHECKS, timeout=30)


def test_the_fuzzer_gets_through_authentication_on_every_operation_that_needs_a_token(live_server):
    # The cases above get a token for their operation; were it the wrong kind (or an access token
    # without a live session), every example would stop at 401 and fuzz nothing behind it.
    for operation in schema.get_all_operations():
        operation = operation.ok()
        if operation.path in NO_TOKEN:
            continue
        case = operation.Case(path_parameters={"session_id": str(uuid.uuid4())} if "{" in operation.path else None)
        headers = _realistic(case, 1, live_server.url)

        response = case.call(base_url=live_server.url, headers=headers, timeout=30)

        assert response.status_code != 401, (operation.method, operation.path, response.content)


def test_the_fuzzed_schema_covers_every_user_operation():
    operations = {(op.ok().method.upper(), op.ok().path) for op in schema.get_all_operations()}
    expected = {
        ("POST", "/user/signup/"),
        ("POST", "/user/verify/"),
        ("GET", "/user/new-verify/"),
        ("PATCH", "/user/change-user-info/"),
        ("POST", "/user/login/"),
        ("POST", "/user/logout/"),
        ("POST", "/user/login-refresh/"),
        ("POST", "/user/password-reset/"),
        ("GET", "/user/password-reset/new-code/"),
        ("POST", "/user/password-reset/confirm/"),
        ("POST", "/user/login-code/"),
        ("POST", "/user/login-code/confirm/"),
        ("GET", "/user/me/"),
        ("PATCH", "/user/me/"),
        ("DELETE", "/user/me/"),
        ("POST", "/user/change-identifier/"),
        ("POST", "/user/change-identifier/confirm/"),
        ("GET", "/user/sessions/"),
        ("DELETE", "/user/sessions/{session_id}/"),
        ("POST", "/user/logout-all/"),
    }
    assert expected <= operations
