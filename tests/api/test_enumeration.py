"""Enumeration safety: nobody can tell from the API whether an e-mail address, a phone number or a
user name belongs to an account. Sign-up for a finished account answers like a new sign-up (the
owner gets a notice instead of a code, and the token is a decoy nothing can complete); login
answers the same for every failure, in the same time.
"""

import re
import statistics
import time

import jwt
import pytest
from django.contrib.auth.hashers import make_password
from django.core import mail

from notifications.channels import LocmemSms
from project.settings import base as base_settings
from tests.api.conftest import EMAIL, PHONE, assert_error
from tests.factories import PASSWORD, PendingUserFactory, PhoneUserFactory, UserFactory
from users.models import AuthStatus, AuthType, User
from users.tokens import STAGE_NEW, SignupToken

SIX_DIGITS = re.compile(r"\b\d{6}\b")
SAMPLES = 50
MAX_MEDIAN_GAP = 0.050  # seconds


@pytest.fixture(autouse=True)
def _no_limits(settings):
    # The comparisons send many requests from one address; limits are tested in test_ratelimits.
    settings.RATE_LIMITS = {name: "" for name in settings.RATE_LIMITS}


def signup(api, identifier: str):
    return api.bearer(None).post("/user/signup/", {"email_phone_number": identifier})


def login(api, user_input: str, password: str):
    return api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password})


def shape(response) -> tuple:
    """What a client can compare between two sign-up answers, short of the token itself."""
    body = response.json()
    token = SignupToken(body["access"])
    return (
        response.status_code,
        sorted(body),
        body["auth_type"],
        body["auth_status"],
        sorted(token.payload),
        token["token_type"],
        token["stage"],
        len(body["access"].split(".")),
        sorted(h for h in response.headers if h.lower() != "content-length"),
    )


def no_code_in(text: str) -> bool:
    return SIX_DIGITS.search(text) is None


# --- sign-up ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_owner", "existing", "new"),
    [
        (lambda: UserFactory(email=EMAIL), EMAIL, "newcomer@example.com"),
        (lambda: PhoneUserFactory(phone_number=PHONE), PHONE, "+13105550100"),
    ],
    ids=["email", "phone"],
)
def test_signup_for_a_finished_account_answers_exactly_like_a_new_one(api, make_owner, existing, new):
    owner = make_owner()

    for_new = signup(api, new)
    for_existing = signup(api, existing)

    assert for_existing.status_code == for_new.status_code == 201
    assert shape(for_existing) == shape(for_new)
    decoy = SignupToken(for_existing.json()["access"])
    assert decoy["user_id"] != str(owner.id)
    assert decoy["stage"] == STAGE_NEW
    assert not User.objects.filter(pk=decoy["user_id"]).exists()
    assert User.objects.filter(auth_status=AuthStatus.DONE).count() == 1  # nothing changed for the owner
    owner.refresh_from_db()
    assert owner.auth_status == AuthStatus.DONE
    assert owner.check_password(PASSWORD)


def test_owner_gets_a_notice_without_a_code_by_email(api):
    UserFactory(email=EMAIL)

    signup(api, EMAIL)

    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == [EMAIL]
    assert "tried" in notice.body.lower()
    html = notice.alternatives[0][0] if notice.alternatives else ""
    visible_html = re.sub(r"<[^>]*>", " ", html)  # tags carry colours like #566173, not codes
    assert no_code_in(notice.subject)
    assert no_code_in(notice.body)
    assert no_code_in(visible_html)


def test_owner_gets_a_notice_without_a_code_by_sms(api):
    PhoneUserFactory(phone_number=PHONE)

    signup(api, PHONE)

    assert [m["to"] for m in LocmemSms.outbox] == [PHONE]
    body = LocmemSms.outbox[0]["body"]
    assert "tried" in body.lower()
    assert no_code_in(body)


def test_decoy_verify_answers_like_a_wrong_code_for_a_real_sign_up(api):
    UserFactory(email=EMAIL)
    real = signup(api, "newcomer@example.com").json()["access"]
    decoy = signup(api, EMAIL).json()["access"]

    # Six guesses each: wrong codes, then the attempts run out, the same way for both.
    real_answers = [api.bearer(real).post("/user/verify/", {"code": "000000"}) for _ in range(6)]
    decoy_answers = [api.bearer(decoy).post("/user/verify/", {"code": "000000"}) for _ in range(6)]

    assert_error(real_answers[0], 400, "code_invalid")
    assert [(r.status_code, r.content) for r in decoy_answers] == [(r.status_code, r.content) for r in real_answers]


def test_decoy_never_verifies_even_with_the_code_it_was_issued(api, next_codes):
    UserFactory(email=EMAIL)
    next_codes("424242")
    decoy = signup(api, EMAIL).json()["access"]

    response = api.bearer(decoy).post("/user/verify/", {"code": "424242"})

    assert_error(response, 400, "code_invalid")


def test_decoy_cannot_change_user_info_and_is_refused_like_an_unverified_sign_up(api):
    owner = UserFactory(email=EMAIL)
    real = signup(api, "newcomer@example.com").json()["access"]
    decoy = signup(api, EMAIL).json()["access"]
    change = {"username": "hijack", "password": "An0ther-long-pass", "confirm_password": "An0ther-long-pass"}

    for_real = api.bearer(real).patch("/user/change-user-info/", change)
    for_decoy = api.bearer(decoy).patch("/user/change-user-info/", change)

    assert_error(for_decoy, 403, "verification_required")
    assert (for_decoy.status_code, for_decoy.content) == (for_real.status_code, for_real.content)
    owner.refresh_from_db()
    assert owner.username != "hijack"
    assert owner.check_password(PASSWORD)
    assert not User.objects.filter(username="hijack").exists()


def test_decoy_new_verify_within_the_cooldown_answers_like_a_real_one(api):
    UserFactory(email=EMAIL)
    real = signup(api, "newcomer@example.com").json()["access"]
    decoy = signup(api, EMAIL).json()["access"]

    for_real, for_decoy = (api.bearer(t).get("/user/new-verify/") for t in (real, decoy))

    assert for_real.status_code == for_decoy.status_code == 429
    assert for_real.content == for_decoy.content
    assert abs(int(for_real["Retry-After"]) - int(for_decoy["Retry-After"])) <= 1


def test_decoy_new_verify_after_the_cooldown_answers_like_a_real_one(api, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    UserFactory(email=EMAIL)
    real = signup(api, "newcomer@example.com").json()["access"]
    decoy = signup(api, EMAIL).json()["access"]

    for_real, for_decoy = (api.bearer(t).get("/user/new-verify/") for t in (real, decoy))

    assert for_real.status_code == for_decoy.status_code == 200
    assert for_real.content == for_decoy.content


def test_decoy_delivery_status_answers_like_a_real_one(api):
    UserFactory(email=EMAIL)
    real = signup(api, "newcomer@example.com").json()["access"]
    decoy = signup(api, EMAIL).json()["access"]

    for_real = api.bearer(real).get("/user/delivery-status/")
    for_decoy = api.bearer(decoy).get("/user/delivery-status/")

    assert for_real.status_code == for_decoy.status_code == 200
    a, b = for_real.json(), for_decoy.json()
    assert set(a) == set(b)
    assert {k: v for k, v in a.items() if k not in ("recipient", "updated_at")} == {
        k: v for k, v in b.items() if k not in ("recipient", "updated_at")
    }


def test_repeated_signup_delivery_status_answers_like_a_real_one(api):
    # An attacker signs up twice with the same address and asks for the second token's delivery.
    # A new address reuses its pending account, whose first delivery is there; an existing one must
    # answer the same even though the second notice was held back by the cooldown.
    UserFactory(email=EMAIL)
    signup(api, "newcomer@example.com")
    signup(api, EMAIL)
    real_again = signup(api, "newcomer@example.com").json()["access"]
    decoy_again = signup(api, EMAIL).json()["access"]

    for_real = api.bearer(real_again).get("/user/delivery-status/")
    for_decoy = api.bearer(decoy_again).get("/user/delivery-status/")

    assert for_real.status_code == 200, for_real.content
    assert for_decoy.status_code == for_real.status_code, (
        "the delivery-status of a repeated sign-up tells an existing account from a new one: "
        f"new address -> {for_real.status_code}, existing account -> {for_decoy.status_code} {for_decoy.content!r}"
    )


# --- login -----------------------------------------------------------------------------------


def test_login_failures_are_byte_identical(api):
    UserFactory(username="jane", email=EMAIL)
    PendingUserFactory(email="pending@example.com")
    User.objects.create(
        username="halfway",
        email="halfway@example.com",
        auth_status=AuthStatus.CODE_VERIFIED,
        password=make_password(PASSWORD),
    )
    UserFactory(username="gone", email="gone@example.com", is_active=False)

    answers = {
        "unknown user": login(api, "nobody", PASSWORD),
        "unknown e-mail": login(api, "nobody@example.com", PASSWORD),
        "wrong password": login(api, "jane", "wrong password"),
        "wrong password by e-mail": login(api, EMAIL, "wrong password"),
        "unfinished sign-up": login(api, "pending@example.com", PASSWORD),
        "verified but no profile, right password": login(api, "halfway@example.com", PASSWORD),
        "inactive, right password": login(api, "gone", PASSWORD),
    }

    for response in answers.values():
        assert_error(response, 401, "invalid_credentials")
    reference = answers["unknown user"]
    for name, response in answers.items():
        assert response.content == reference.content, name
        assert sorted(response.headers) == sorted(reference.headers), name


def _medians(cases: dict, samples: int = SAMPLES) -> dict[str, float]:
    """Run the cases round-robin (so drift hits them alike) and return each one's median time."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for call in cases.values():  # warm-up: first-call costs (imports, dummy hash) are not the point
        call(-1)
    for i in range(samples):
        for name, call in cases.items():
            started = time.perf_counter()
            call(i)
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def test_login_takes_the_same_time_for_unknown_user_wrong_password_and_unfinished_sign_up(
    api, settings, monkeypatch, capsys
):
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS  # the real Argon2id, not the test MD5
    monkeypatch.setattr("users.backends._dummy_hash", None)  # made with the hasher of this test
    user = UserFactory(username="jane", email=EMAIL)
    PendingUserFactory(email="pending@example.com")
    assert user.password.startswith("argon2$argon2id$")

    def expect_401(response):
        assert response.status_code == 401, response.content

    cases = {
        "unknown user": lambda i: expect_401(login(api, f"nobody{i}", PASSWORD)),
        "wrong password": lambda i: expect_401(login(api, "jane", f"wrong password {i}")),
        "unfinished sign-up": lambda i: expect_401(login(api, "pending@example.com", PASSWORD)),
    }
    medians = _medians(cases)

    from users import backends as services

    assert services._dummy_hash.startswith("argon2$argon2id$"), "unknown users must cost an Argon2 check"
    with capsys.disabled():
        print("\nlogin medians (ms):", {k: round(v * 1000, 2) for k, v in medians.items()})
    assert min(medians.values()) > 0.005, f"Argon2 did not run: {medians}"
    assert max(medians.values()) - min(medians.values()) < MAX_MEDIAN_GAP, medians


def test_signup_takes_the_same_time_for_a_new_identifier_and_an_existing_account(api, capsys):
    existing = [UserFactory().email for _ in range(SAMPLES + 1)]

    def expect_201(response):
        assert response.status_code == 201, response.content

    cases = {
        "new": lambda i: expect_201(signup(api, f"brand-new-{i + 1}@example.com")),
        "existing": lambda i: expect_201(signup(api, existing[i + 1])),
    }
    medians = _medians(cases)

    with capsys.disabled():
        print("\nsign-up medians (ms):", {k: round(v * 1000, 2) for k, v in medians.items()})
    assert abs(medians["new"] - medians["existing"]) < MAX_MEDIAN_GAP, medians
    assert len(mail.outbox) == 2 * (SAMPLES + 1)  # a code to each newcomer, a notice to each owner


# --- password reset and login by code ----------------------------------------------------------
# Unknown identifiers, unfinished sign-ups (and deactivated accounts) get a flow decoy: the same
# answers as a finished account, in the same time, and a code that never confirms.

NEW_PASSWORD = "Ano7her-Horse-Battery"


def reset_request(api, identifier: str):
    return api.bearer(None).post("/user/password-reset/", {"email_phone_number": identifier})


def login_code_request(api, user_input: str):
    return api.bearer(None).post("/user/login-code/", {"user_input": user_input})


def reset_confirm(api, token: str, code: str, password: str = NEW_PASSWORD, confirm_password: str | None = None):
    confirm_password = password if confirm_password is None else confirm_password
    body = {"code": code, "password": password, "confirm_password": confirm_password}
    return api.bearer(token).post("/user/password-reset/confirm/", body)


def login_code_confirm(api, token: str, code: str):
    return api.bearer(token).post("/user/login-code/confirm/", {"code": code})


def flow_shape(response) -> tuple:
    """Everything a client sees of a flow request's answer but the token's own values: the body
    with the token blanked, its claims and their types, and the headers with their values (the
    length too: a decoy's token is exactly as long)."""
    body = response.json()
    payload = jwt_payload(body["access"])
    return (
        response.status_code,
        {**body, "access": "<token>"},
        sorted((name, type(value).__name__) for name, value in payload.items()),
        payload["token_type"],
        len(body["access"]),
        # The request id differs for every request alike: its presence is compared, not its value.
        sorted((name, "<id>" if name == "X-Request-ID" else value) for name, value in response.headers.items()),
    )


def jwt_payload(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture
def flow_people(db):
    """A finished account, an unfinished sign-up and a deactivated account, by e-mail and by phone."""
    UserFactory(username="jane", email=EMAIL)
    PhoneUserFactory(username="joe", phone_number=PHONE)
    PendingUserFactory(email="pending@example.com")
    PendingUserFactory(email=None, phone_number="+13105550111", auth_type=AuthType.PHONE)
    UserFactory(username="gone", email="gone@example.com", is_active=False)


RESET_CASES = {
    "finished, e-mail": EMAIL,
    "unknown e-mail": "nobody@example.com",
    "unfinished sign-up, e-mail": "pending@example.com",
    "deactivated account": "gone@example.com",
    "finished, phone": PHONE,
    "unknown phone": "+13105550100",
    "unfinished sign-up, phone": "+13105550111",
}
LOGIN_CODE_CASES = {
    **RESET_CASES,
    "finished, username": "jane",
    "unknown username": "nobody",
    "deactivated, username": "gone",
}


@pytest.mark.parametrize(
    ("endpoint", "cases"), [("reset", RESET_CASES), ("login code", LOGIN_CODE_CASES)], ids=["reset", "login code"]
)
def test_flow_requests_answer_alike_for_every_identifier(api, flow_people, endpoint, cases):
    request = reset_request if endpoint == "reset" else login_code_request

    answers = {name: request(api, typed) for name, typed in cases.items()}

    for name, response in answers.items():
        assert response.status_code == 202, (name, response.content)
    reference = flow_shape(answers["finished, e-mail"])
    for name, response in answers.items():
        assert flow_shape(response) == reference, name  # e-mail or phone alike: the way is sealed


@pytest.mark.parametrize("endpoint", ["reset", "login code"])
def test_flow_decoys_are_stable_like_accounts(api, flow_people, settings, endpoint):
    # Asking twice for one identifier names the same subject, for an account as for a decoy.
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    request = reset_request if endpoint == "reset" else login_code_request

    for typed in (EMAIL, "nobody@example.com", "pending@example.com"):
        first, second = (jwt_payload(request(api, typed).json()["access"])["user_id"] for _ in range(2))
        assert first == second, typed


def _tokens(api, request, people: dict[str, str]) -> dict[str, str]:
    return {name: request(api, typed).json()["access"] for name, typed in people.items()}


@pytest.mark.parametrize("endpoint", ["reset", "login code"])
def test_wrong_codes_answer_alike_for_decoys_and_accounts(api, flow_people, next_codes, endpoint):
    next_codes("424242")
    request, confirm = (
        (reset_request, reset_confirm) if endpoint == "reset" else (login_code_request, login_code_confirm)
    )
    tokens = _tokens(
        api, request, {"finished": EMAIL, "unknown": "nobody@example.com", "unfinished": "pending@example.com"}
    )

    # Six guesses each: wrong codes, then the attempts run out, the same way for all.
    answers = {name: [confirm(api, token, "000000") for _ in range(6)] for name, token in tokens.items()}
    right = {name: confirm(api, token, "424242") for name, token in tokens.items()}

    assert_error(answers["finished"][0], 400, "code_invalid")
    assert_error(answers["finished"][5], 400, "code_attempts_exceeded")
    reference = [(r.status_code, r.content) for r in answers["finished"]]
    for name in ("unknown", "unfinished"):
        assert [(r.status_code, r.content) for r in answers[name]] == reference, name
    assert right["unknown"].content == right["unfinished"].content == right["finished"].content  # exhausted, all


@pytest.mark.parametrize(
    ("password", "confirm_password"),
    [
        ("short1!", "short1!"),
        ("password123", "password123"),
        (NEW_PASSWORD, NEW_PASSWORD + "!"),
        ("jane.doe.writer@example.com", "jane.doe.writer@example.com"),  # the account's own address
        ("janedoewriter", "janedoewriter"),  # its username
    ],
    ids=["short", "common", "mismatch", "like the address", "like the username"],
)
def test_reset_confirm_answers_a_password_alike_for_decoys_and_accounts(api, password, confirm_password):
    # Whoever asks for a reset knows the address, and may guess the username: what is said of a
    # password before the code is proven must not depend on the account behind the token.
    UserFactory(username="janedoewriter", email="jane.doe.writer@example.com")
    tokens = {
        "finished": reset_request(api, "jane.doe.writer@example.com").json()["access"],
        "unknown": reset_request(api, "jane.doe.reader@example.com").json()["access"],
    }

    answers = {name: reset_confirm(api, token, "000000", password, confirm_password) for name, token in tokens.items()}

    assert answers["finished"].status_code == 400
    assert (answers["unknown"].status_code, answers["unknown"].content) == (
        answers["finished"].status_code,
        answers["finished"].content,
    )


def _reset_tokens(api, via: str) -> dict[str, str]:
    unknown = "nobody@example.com" if "@" in via else "+13105550100"
    pending = "pending@example.com" if "@" in via else "+13105550111"
    return _tokens(api, reset_request, {"finished": via, "unknown": unknown, "unfinished": pending})


@pytest.mark.parametrize("via", [EMAIL, PHONE])
def test_reset_new_code_within_the_cooldown_answers_alike_for_decoys_and_accounts(api, flow_people, via):
    tokens = _reset_tokens(api, via)

    answers = {name: api.bearer(token).get("/user/password-reset/new-code/") for name, token in tokens.items()}

    assert answers["finished"].status_code == 429
    for name in ("unknown", "unfinished"):
        assert answers[name].content == answers["finished"].content, name
        assert abs(int(answers[name]["Retry-After"]) - int(answers["finished"]["Retry-After"])) <= 1, name


@pytest.mark.parametrize("via", [EMAIL, PHONE])
def test_reset_new_code_after_the_cooldown_answers_alike_for_decoys_and_accounts(api, flow_people, settings, via):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    tokens = _reset_tokens(api, via)

    answers = {name: api.bearer(token).get("/user/password-reset/new-code/") for name, token in tokens.items()}

    assert answers["finished"].status_code == 200
    for name in ("unknown", "unfinished"):
        assert (answers[name].status_code, answers[name].content) == (200, answers["finished"].content), name


def _flow_medians(api, request, people: dict[str, list[str]]) -> dict[str, float]:
    def expect_202(response):
        assert response.status_code == 202, response.content

    # A new identifier for each sample, as with sign-up: a repeat would only meet the cooldown.
    return _medians({name: (lambda i, t=typed: expect_202(request(api, t[i + 1]))) for name, typed in people.items()})


def _many_people(prefix: str) -> dict[str, list[str]]:
    count = SAMPLES + 1
    return {
        "unknown": [f"{prefix}-nobody-{i}@example.com" for i in range(count)],
        "unfinished": [PendingUserFactory(email=f"{prefix}-pending-{i}@example.com").email for i in range(count)],
        "finished": [UserFactory(email=f"{prefix}-jane-{i}@example.com").email for i in range(count)],
    }


def test_reset_request_takes_the_same_time_for_unknown_unfinished_and_finished(api, capsys):
    medians = _flow_medians(api, reset_request, _many_people("reset"))

    with capsys.disabled():
        print("\npassword-reset medians (ms):", {k: round(v * 1000, 2) for k, v in medians.items()})
    assert max(medians.values()) - min(medians.values()) < MAX_MEDIAN_GAP, medians
    assert len(mail.outbox) == SAMPLES + 1  # a code to each finished account, nothing to anyone else


def test_login_code_request_takes_the_same_time_for_unknown_unfinished_and_finished(api, capsys):
    people = _many_people("code")
    people["unknown username"] = [f"nobody{i}" for i in range(SAMPLES + 1)]
    people["finished, username"] = [UserFactory(username=f"code-jane-{i}").username for i in range(SAMPLES + 1)]

    medians = _flow_medians(api, login_code_request, people)

    with capsys.disabled():
        print("\nlogin-code medians (ms):", {k: round(v * 1000, 2) for k, v in medians.items()})
    assert max(medians.values()) - min(medians.values()) < MAX_MEDIAN_GAP, medians
    assert len(mail.outbox) == 2 * (SAMPLES + 1)


@pytest.mark.parametrize("endpoint", ["reset", "login code"])
def test_confirm_takes_the_same_time_for_unknown_unfinished_and_finished(api, settings, capsys, endpoint):
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS  # the real Argon2id, as at login
    request, confirm = (
        (reset_request, reset_confirm) if endpoint == "reset" else (login_code_request, login_code_confirm)
    )
    tokens = {
        name: [request(api, typed).json()["access"] for typed in identifiers]
        for name, identifiers in _many_people(endpoint.replace(" ", "-")).items()
    }

    def expect_wrong(response):
        assert response.json()["code"] == "code_invalid", response.content

    # A wrong code on a fresh token each time: the answer any guesser gets.
    medians = _medians(
        {name: (lambda i, t=issued: expect_wrong(confirm(api, t[i + 1], "000000"))) for name, issued in tokens.items()}
    )

    with capsys.disabled():
        print(f"\n{endpoint} confirm medians (ms):", {k: round(v * 1000, 2) for k, v in medians.items()})
    assert max(medians.values()) - min(medians.values()) < MAX_MEDIAN_GAP, medians
