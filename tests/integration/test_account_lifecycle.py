"""The rest of an account's life, as a client sees it: a black-box client over HTTP against a live
server, reading its codes from the messages that really went out, e-mail through an SMTP server and
SMS through the real twilio client to a fake Twilio API (tests/support/). The deliveries run in the
server's own process (eager Celery), through the real channels.

One account: it signs up by e-mail, forgets its password and resets it by e-mail, takes a phone
number, resets its password again by SMS, logs in by code by e-mail and by phone, lists its two
sessions and ends one, changes its e-mail address and then its number (the old ones stop working
for login), logs out everywhere, deletes itself, and signs up again with its address.
"""

import re
from email.message import EmailMessage

import pytest
import requests

pytestmark = [pytest.mark.integration]

EMAIL = "jane@example.com"
NEW_EMAIL = "jane.new@example.com"
PHONE = "+12025550143"
NEW_PHONE = "+12025550199"
PASSWORDS = ["Corr3ct-Horse-Battery", "Ano7her-Horse-Battery", "Th1rd-Horse-Battery"]
SIX_DIGITS = re.compile(r"\b(\d{6})\b")


class Client:
    """What a mobile app or a web page does: JSON over HTTP, with a bearer token when it has one."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.http.headers["User-Agent"] = "lifecycle-test"

    def call(self, method: str, path: str, token: str | None = None, body: dict | None = None, **headers: str):
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, f"{self.base_url}{path}", json=body, headers=headers, timeout=30)

    def ok(self, method: str, path: str, token: str | None = None, body: dict | None = None, status: int = 200):
        response = self.call(method, path, token, body)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json() if response.content else None

    def refused(self, method: str, path: str, token: str | None = None, body: dict | None = None, status: int = 401):
        response = self.call(method, path, token, body)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        return response.json()

    def login(self, user_input: str, password: str) -> dict:
        return self.ok("POST", "/user/login/", body={"user_input": user_input, "password": password})

    def login_fails(self, user_input: str, password: str) -> None:
        body = self.refused("POST", "/user/login/", body={"user_input": user_input, "password": password})
        assert body["code"] == "invalid_credentials"

    def assert_session_ended(self, pair: dict) -> None:
        """Both tokens of a session are dead."""
        assert self.refused("GET", "/user/me/", pair["access"])["code"] == "token_not_valid"
        assert (
            self.refused("POST", "/user/login-refresh/", body={"refresh": pair["refresh"]})["code"] == "token_not_valid"
        )


class Inbox:
    """The messages that really went out, read in the order they were sent."""

    def __init__(self, smtp_server, fake_twilio) -> None:
        self.smtp = smtp_server
        self.twilio = fake_twilio
        self.emails_read = 0
        self.sms_read = 0

    def email(self, to: str) -> EmailMessage:
        received = self.smtp.wait_for_messages(self.emails_read + 1)[self.emails_read]
        self.emails_read += 1
        assert received.rcpt_tos == [to], received.rcpt_tos
        return received.message

    def email_text(self, to: str) -> str:
        return self.email(to).get_body(("plain",)).get_content()

    def email_code(self, to: str) -> str:
        message = self.email(to)
        text = message.get_body(("plain",)).get_content()
        assert SIX_DIGITS.search(message.get_body(("html",)).get_content())
        return SIX_DIGITS.search(text).group(1)

    def sms(self, to: str) -> str:
        message = self.twilio.wait_for_messages(self.sms_read + 1)[self.sms_read]
        self.sms_read += 1
        assert message["To"] == to, message
        return message["Body"]

    def sms_code(self, to: str) -> str:
        return SIX_DIGITS.search(self.sms(to)).group(1)

    def assert_nothing_new(self) -> None:
        assert len(self.smtp.messages) == self.emails_read, [m.rcpt_tos for m in self.smtp.messages]
        assert len(self.twilio.messages) == self.sms_read, self.twilio.messages


@pytest.fixture
def client(live_server, transactional_db, smtp_server, fake_twilio, settings) -> Client:
    # Asking for a code by e-mail and then by phone within the minute would meet the cooldown of
    # the first (one code per account and purpose); the cooldown itself is tested in tests/api/.
    settings.VERIFICATION_RESEND_COOLDOWN = 0
    return Client(live_server.url)


@pytest.fixture
def inbox(smtp_server, fake_twilio) -> Inbox:
    return Inbox(smtp_server, fake_twilio)


def sign_up(client: Client, inbox: Inbox, identifier: str, username: str, password: str) -> dict:
    """Sign up, verify with the code that arrived, complete the profile; returns the profile."""
    signup = client.ok("POST", "/user/signup/", body={"email_phone_number": identifier}, status=201)
    code = inbox.email_code(identifier) if "@" in identifier else inbox.sms_code(identifier)
    verified = client.ok("POST", "/user/verify/", signup["access"], {"code": code})
    profile = {"username": username, "first_name": "Jane", "password": password, "confirm_password": password}
    return client.ok("PATCH", "/user/change-user-info/", verified["access"], profile)


def reset_password(client: Client, read_code, identifier: str, password: str, *, new_code: bool = False) -> None:
    reset = client.ok("POST", "/user/password-reset/", body={"email_phone_number": identifier}, status=202)
    code = read_code()
    if new_code:  # the first one did not come: ask again; only the newest code works
        sent = client.ok("GET", "/user/password-reset/new-code/", reset["access"])
        assert set(sent) == {"detail", "retry_after"}
        old, code = code, read_code()
        body = {"code": old, "password": password, "confirm_password": password}
        if old != code:
            assert client.refused("POST", "/user/password-reset/confirm/", reset["access"], body, 400)["code"] == (
                "code_invalid"
            )
    body = {"code": code, "password": password, "confirm_password": password}
    client.ok("POST", "/user/password-reset/confirm/", reset["access"], body)


def login_by_code(client: Client, user_input: str, read_code) -> dict:
    flow = client.ok("POST", "/user/login-code/", body={"user_input": user_input}, status=202)
    pair = client.ok("POST", "/user/login-code/confirm/", flow["access"], {"code": read_code()})
    assert pair["auth_status"] == "done"
    return pair


def change_identifier(client: Client, access: str, identifier: str, password: str, read_code) -> dict:
    body = {"email_phone_number": identifier, "password": password}
    client.ok("POST", "/user/change-identifier/", access, body, status=202)
    return client.ok("POST", "/user/change-identifier/confirm/", access, {"code": read_code()})


def assert_password_changed_notice(inbox: Inbox, to: str) -> None:
    notice = inbox.email(to)
    assert "password was changed" in notice["Subject"].lower()
    assert not SIX_DIGITS.search(notice.get_body(("plain",)).get_content())


def test_an_account_lives_its_whole_life_over_http(client, inbox):
    # Sign up by e-mail, and log in.
    profile = sign_up(client, inbox, EMAIL, "jane", PASSWORDS[0])
    account_id = profile["id"]
    laptop = client.login("jane", PASSWORDS[0])
    assert client.ok("GET", "/user/me/", laptop["access"])["email"] == EMAIL

    # Forgets the password and resets it by e-mail: every session ends, a notice arrives.
    reset_password(client, lambda: inbox.email_code(EMAIL), EMAIL, PASSWORDS[1])
    assert_password_changed_notice(inbox, EMAIL)
    client.assert_session_ended(laptop)
    client.login_fails("jane", PASSWORDS[0])
    laptop = client.login(EMAIL, PASSWORDS[1])

    # Takes a phone number (a code by SMS to it, a notice to the address).
    profile = change_identifier(client, laptop["access"], PHONE, PASSWORDS[1], lambda: inbox.sms_code(PHONE))
    assert profile["phone_number"] == PHONE
    assert not SIX_DIGITS.search(inbox.email_text(EMAIL))  # a notice to the account's address
    assert client.login(PHONE, PASSWORDS[1])["auth_status"] == "done"

    # Forgets the password again and resets it by SMS, asking for a second code on the way.
    reset_password(client, lambda: inbox.sms_code(PHONE), PHONE, PASSWORDS[2], new_code=True)
    assert_password_changed_notice(inbox, EMAIL)  # to the address the account signed up with
    client.assert_session_ended(laptop)
    client.login_fails(PHONE, PASSWORDS[1])
    inbox.assert_nothing_new()

    # Logs in by code: by e-mail, then by phone (typing its number another way).
    by_email = login_by_code(client, EMAIL, lambda: inbox.email_code(EMAIL))
    by_phone = login_by_code(client, "(202) 555-0143", lambda: inbox.sms_code(PHONE))
    assert client.ok("GET", "/user/me/", by_phone["access"])["id"] == account_id

    # Two sessions; one ends the other.
    sessions = client.ok("GET", "/user/sessions/", by_email["access"])
    assert len(sessions) == 2
    assert [s["current"] for s in sessions].count(True) == 1
    assert {s["method"] for s in sessions} == {"code"}
    assert {s["user_agent"] for s in sessions} == {"lifecycle-test"}
    current = next(s for s in sessions if s["current"])
    other = next(s for s in sessions if not s["current"])
    client.ok("DELETE", f"/user/sessions/{other['id']}/", by_email["access"], status=204)
    client.assert_session_ended(by_phone)
    assert [s["id"] for s in client.ok("GET", "/user/sessions/", by_email["access"])] == [current["id"]]

    # Changes the e-mail address: a code to the new one, a notice to the old one.
    body = {"email_phone_number": NEW_EMAIL, "password": PASSWORDS[2]}
    client.ok("POST", "/user/change-identifier/", by_email["access"], body, status=202)
    code = inbox.email_code(NEW_EMAIL)
    assert not SIX_DIGITS.search(inbox.email_text(EMAIL))  # the notice
    profile = client.ok("POST", "/user/change-identifier/confirm/", by_email["access"], {"code": code})
    assert profile["email"] == NEW_EMAIL
    client.login_fails(EMAIL, PASSWORDS[2])
    old_address = client.ok("POST", "/user/login-code/", body={"user_input": EMAIL}, status=202)
    inbox.assert_nothing_new()  # the old address is nobody's now: its login code goes nowhere
    refused = client.refused("POST", "/user/login-code/confirm/", old_address["access"], {"code": code}, 400)
    assert refused["code"] == "code_invalid"
    assert client.login(NEW_EMAIL, PASSWORDS[2])["auth_status"] == "done"

    # Then the phone number: a code by SMS to the new one, a notice by SMS to the old one.
    body = {"email_phone_number": NEW_PHONE, "password": PASSWORDS[2]}
    client.ok("POST", "/user/change-identifier/", by_email["access"], body, status=202)
    code = inbox.sms_code(NEW_PHONE)
    assert not SIX_DIGITS.search(inbox.sms(PHONE))
    assert client.ok("POST", "/user/change-identifier/confirm/", by_email["access"], {"code": code})[
        "phone_number"
    ] == (NEW_PHONE)
    client.login_fails(PHONE, PASSWORDS[2])
    by_new_phone = login_by_code(client, NEW_PHONE, lambda: inbox.sms_code(NEW_PHONE))

    # Logs out everywhere: every session ends, the caller's too.
    by_password = client.login("jane", PASSWORDS[2])
    client.ok("POST", "/user/logout-all/", by_password["access"])
    for pair in (by_email, by_new_phone, by_password):
        client.assert_session_ended(pair)

    # Deletes the account, and signs up again with the same address: a new account like anyone's.
    last = client.login(NEW_EMAIL, PASSWORDS[2])
    client.ok("DELETE", "/user/me/", last["access"], {"password": PASSWORDS[2]}, status=204)
    client.assert_session_ended(last)
    client.login_fails(NEW_EMAIL, PASSWORDS[2])
    client.login_fails("jane", PASSWORDS[2])
    again = sign_up(client, inbox, NEW_EMAIL, "jane", PASSWORDS[0])
    assert again["id"] != account_id
    assert again["phone_number"] is None
    assert client.login(NEW_EMAIL, PASSWORDS[0])["auth_status"] == "done"
    inbox.assert_nothing_new()


def test_a_phone_account_resets_its_password_and_logs_in_by_code_by_sms(client, inbox):
    # The same over SMS alone, for an account that signed up with its number.
    sign_up(client, inbox, PHONE, "joe", PASSWORDS[0])
    session = client.login("joe", PASSWORDS[0])

    reset_password(client, lambda: inbox.sms_code(PHONE), PHONE, PASSWORDS[1])
    notice = inbox.sms(PHONE)
    assert "password" in notice.lower()
    assert not SIX_DIGITS.search(notice)
    client.assert_session_ended(session)

    by_username = login_by_code(client, "joe", lambda: inbox.sms_code(PHONE))  # to the number it signed up with
    assert client.ok("GET", "/user/me/", by_username["access"])["phone_number"] == PHONE
    assert client.login(PHONE, PASSWORDS[1])["auth_status"] == "done"
    inbox.assert_nothing_new()
