"""Log hygiene: through whole flows at DEBUG level, no code, token or password reaches a log record,
and e-mail addresses and phone numbers only appear masked (``l***@example.com``, ``+1******0143``).

Every record of every logger is captured (root and the project's, Django's and Celery's loggers set
to DEBUG), and each record is searched whole: the formatted line, its traceback and every extra
attribute a structured (JSON) formatter would print. ``django.db.backends`` keeps the level the
settings give it on purpose (SQL parameters hold personal data); with DEBUG off it logs no SQL.
"""

import logging
import re

import pytest
from django.core import mail

from notifications.channels import LocmemSms

pytestmark = pytest.mark.integration

EMAIL = "lucinda.grey@example.com"
PHONE = "+12025550143"
PHONE_FORMS = ("+12025550143", "12025550143", "2025550143", "202-555-0143", "(202) 555-0143", "202 555 0143")
PASSWORD = "Lucinda-Secret-Phrase-9"
NEW_PASSWORD = "Another-Secret-Phrase-8"
WRONG_PASSWORD = "Wrong-Guess-Phrase-7"
SIX_DIGITS = re.compile(r"\b(\d{6})\b")

LOGGERS = ("", "users", "notifications", "project", "web", "django", "django.request", "celery", "kombu", "twilio")


@pytest.fixture
def all_logs(caplog):
    """Every record at DEBUG and above, from every logger, including non-propagating ones."""
    for name in LOGGERS:
        caplog.set_level(logging.DEBUG, logger=name)
    attached = []
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and not logger.propagate and caplog.handler not in logger.handlers:
            logger.addHandler(caplog.handler)
            attached.append(logger)
            if name.startswith(("celery", "users", "notifications", "project")):
                logger.setLevel(logging.DEBUG)
    yield caplog
    for logger in attached:
        logger.removeHandler(caplog.handler)


def record_text(record: logging.LogRecord) -> str:
    """Everything about a record that a formatter, plain or structured, could write out."""
    formatted = logging.Formatter("%(name)s %(levelname)s %(message)s").format(record)
    extras = {k: v for k, v in record.__dict__.items() if k not in ("msg", "args", "message")}
    return f"{formatted}\n{extras!r}\n{record.args!r}"


def sent_codes() -> list[str]:
    texts = [m.body for m in mail.outbox] + [m["body"] for m in LocmemSms.outbox]
    return [match for text in texts for match in SIX_DIGITS.findall(text)]


def assert_clean(logs, secrets: dict[str, list[str]]) -> str:
    records = logs.records
    assert records, "nothing was logged: the capture is broken"
    text = "\n".join(record_text(r) for r in records)
    found = {}
    for kind, values in secrets.items():
        for value in values:
            if kind == "code":
                leaked = re.search(rf"(?<![0-9A-Za-z]){value}(?![0-9A-Za-z])", text)
            else:
                leaked = value.lower() in text.lower()
            if leaked:
                lines = [record_text(r) for r in records if value.lower() in record_text(r).lower()]
                found.setdefault(kind, []).append((value[:40], lines[:2]))
    assert found == {}, found
    return text


def test_no_secret_or_full_identifier_in_any_log_line_through_whole_flows(api, all_logs, settings):
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    settings.DEFAULT_PHONE_REGION = "US"
    tokens: list[str] = []
    logging.getLogger("users.services").debug("log hygiene sentinel")
    assert any(r.getMessage() == "log hygiene sentinel" for r in all_logs.records), "DEBUG is not captured"

    # E-mail sign-up, a resend, a wrong code, then the right one.
    signup = api.post("/user/signup/", {"email_phone_number": EMAIL.upper()})
    assert signup.status_code == 201
    tokens.append(signup.json()["access"])
    assert api.bearer(tokens[0]).get("/user/new-verify/").status_code == 200
    assert api.bearer(tokens[0]).post("/user/verify/", {"code": "000000"}).status_code == 400
    code = SIX_DIGITS.search(mail.outbox[-1].body).group(1)
    verified = api.bearer(tokens[0]).post("/user/verify/", {"code": code})
    assert verified.status_code == 200
    tokens.append(verified.json()["access"])

    # Profile, with a weak password refused first.
    weak = api.bearer(tokens[1]).patch(
        "/user/change-user-info/",
        {"username": "lucy_g", "password": "lucinda.grey", "confirm_password": "lucinda.grey"},
    )
    assert weak.status_code == 400
    profile = api.bearer(tokens[1]).patch(
        "/user/change-user-info/",
        {"username": "lucy_g", "first_name": "Lucinda", "password": PASSWORD, "confirm_password": PASSWORD},
    )
    assert profile.status_code == 200, profile.content

    # Login: a failure, by e-mail, then by user name; refresh, a replayed refresh, logout.
    assert api.bearer(None).post("/user/login/", {"user_input": EMAIL, "password": WRONG_PASSWORD}).status_code == 401
    login = api.post("/user/login/", {"user_input": EMAIL, "password": PASSWORD})
    assert login.status_code == 200
    pair = login.json()
    tokens += [pair["access"], pair["refresh"]]
    refreshed = api.post("/user/login-refresh/", {"refresh": pair["refresh"]}).json()
    tokens += [refreshed["access"], refreshed["refresh"]]
    assert api.post("/user/login-refresh/", {"refresh": pair["refresh"]}).status_code == 401  # reuse
    again = api.post("/user/login/", {"user_input": "lucy_g", "password": PASSWORD}).json()
    tokens += [again["access"], again["refresh"]]
    changed = api.bearer(again["access"]).patch(
        "/user/change-user-info/",
        {"old_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    last = api.bearer(None).post("/user/login/", {"user_input": EMAIL, "password": NEW_PASSWORD}).json()
    tokens += [last["access"], last["refresh"]]
    assert api.bearer(last["access"]).post("/user/logout/", {"refresh": last["refresh"]}).status_code == 200
    assert api.bearer(None).post("/user/login-refresh/", {"refresh": last["refresh"]}).status_code == 401

    # Sign-up again with the finished address (a notice goes out) and a phone sign-up.
    decoy = api.bearer(None).post("/user/signup/", {"email_phone_number": EMAIL})
    tokens.append(decoy.json()["access"])
    phone = api.post("/user/signup/", {"email_phone_number": "(202) 555-0143"})
    assert phone.status_code == 201
    tokens.append(phone.json()["access"])
    sms_code = SIX_DIGITS.search(LocmemSms.outbox[-1]["body"]).group(1)
    phone_verified = api.bearer(tokens[-1]).post("/user/verify/", {"code": sms_code})
    assert phone_verified.status_code == 200
    tokens.append(phone_verified.json()["access"])

    codes = sent_codes()
    assert len(codes) >= 3
    signatures = [t.rsplit(".", 1)[-1] for t in tokens]  # a token cut short still leaks its signature
    text = assert_clean(
        all_logs,
        {
            "code": codes,
            "token": tokens + signatures,
            "password": [PASSWORD, NEW_PASSWORD, WRONG_PASSWORD, "lucinda.grey"],
            "e-mail": [EMAIL, EMAIL.split("@")[0]],
            "phone": list(PHONE_FORMS),
        },
    )
    # The identifiers do appear, masked: operators can still follow a sign-up.
    assert "l***@example.com" in text
    assert "+1******0143" in text
    assert len(all_logs.records) > 20


def test_no_secret_in_logs_when_things_fail(api, all_logs, settings):
    # Failure paths log more (warnings, errors, rate limits, the SMS guard): they must be clean too.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "signup_identifier": "1/h", "sms_prefix": "1/h"}
    settings.DEFAULT_PHONE_REGION = "US"

    assert api.post("/user/signup/", {"email_phone_number": EMAIL}).status_code == 201
    assert api.post("/user/signup/", {"email_phone_number": EMAIL}).status_code == 429
    assert api.post("/user/signup/", {"email_phone_number": PHONE}).status_code == 201
    assert api.post("/user/signup/", {"email_phone_number": "+12025550199"}).status_code == 400  # same range
    assert api.post("/user/signup/", {"email_phone_number": "+442079460958"}).status_code == 400  # fixed line
    token = api.post("/user/login/", {"user_input": EMAIL, "password": WRONG_PASSWORD})
    assert token.status_code == 401

    assert_clean(
        all_logs,
        {
            "code": sent_codes(),
            "password": [WRONG_PASSWORD],
            "e-mail": [EMAIL, EMAIL.split("@")[0]],
            "phone": [*PHONE_FORMS, "+12025550199", "12025550199", "+442079460958", "2079460958"],
        },
    )
