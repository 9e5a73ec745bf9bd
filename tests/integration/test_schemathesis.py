"""Fuzzing with Schemathesis over every operation of /api/schema/: valid and invalid data, checked
for server errors, responses that match the schema (status, content type, body) and rejection of
invalid data. Deterministic (derandomized Hypothesis) and bounded (MAX_EXAMPLES per operation).

Each example gets the token its operation needs, minted for a fresh account, so the fuzzer reaches
the code behind authentication instead of stopping at 401. Every other valid example also gets
real values in the fields that random strings never get right (an e-mail address, a user's
password, the code that was issued, a live refresh token, a Twilio signature), so the success
paths are fuzzed in all their other fields too.
"""

import itertools

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, settings
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
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
from tests.factories import PASSWORD, PendingUserFactory, UserFactory
from users.codes import code_issue
from users.models import AuthStatus
from users.tokens import STAGE_NEW, STAGE_VERIFIED, SignupToken

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

NO_TOKEN = {"/user/signup/", "/user/login/", "/user/login-refresh/", "/notifications/twilio/status/"}
SIGNUP_TOKEN = {"/user/verify/", "/user/new-verify/", "/user/delivery-status/"}

_examples = itertools.count()


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
    elif path == "/user/change-user-info/":
        if n % 3 == 0:  # both kinds this endpoint takes: a verified sign-up token or an access token
            pending = PendingUserFactory(auth_status=AuthStatus.CODE_VERIFIED)
            headers["Authorization"] = f"Bearer {SignupToken.for_subject(pending.id, stage=STAGE_VERIFIED)}"
        else:
            headers["Authorization"] = f"Bearer {AccessToken.for_user(UserFactory())}"
        if realistic and "password" in body:
            body.update(old_password=PASSWORD, confirm_password=body["password"])
    elif path not in NO_TOKEN:
        user = UserFactory()
        headers["Authorization"] = f"Bearer {AccessToken.for_user(user)}"
        if realistic and path == "/user/logout/":
            body["refresh"] = str(RefreshToken.for_user(user))
    elif realistic and path == "/user/signup/":
        body["email_phone_number"] = f"fuzz{n}@example.com" if n % 4 == 0 else f"+1202555{n % 10000:04d}"
    elif realistic and path == "/user/login/":
        user = UserFactory()
        body.update(user_input=user.username if n % 4 == 0 else user.email, password=PASSWORD)
    elif realistic and path == "/user/login-refresh/":
        body["refresh"] = str(RefreshToken.for_user(UserFactory()))
    elif realistic and path == "/notifications/twilio/status/":
        url = f"{live_server_url}{path}"
        params = {key: str(value) for key, value in body.items()}
        body.clear()
        body.update(params)
        headers["X-Twilio-Signature"] = RequestValidator(TWILIO_TOKEN).compute_signature(url, params)
    return headers


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
    }
    assert expected <= operations
