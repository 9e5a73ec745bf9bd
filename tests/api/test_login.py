"""POST /user/login/: a username, an e-mail address or a phone number, and the password."""

import pytest
from django.contrib.auth.hashers import make_password
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from tests.api.conftest import PHONE, assert_error
from tests.factories import PASSWORD, PendingUserFactory, PhoneUserFactory, UserFactory
from users.models import AuthStatus


def login_response(api, user_input: str, password: str = PASSWORD):
    return api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password})


@pytest.mark.parametrize("user_input", ["jane", "JANE", "jane@example.com", "Jane@EXAMPLE.com", " jane "])
def test_login_by_username_or_email_in_any_case(api, user, user_input):
    response = login_response(api, user_input)

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"access", "refresh", "auth_status"}
    assert body["auth_status"] == "done"
    assert AccessToken(body["access"])["user_id"] == str(user.id)
    assert RefreshToken(body["refresh"])["user_id"] == str(user.id)


@pytest.mark.parametrize("user_input", ["(202) 555-0143", "202-555-0143", "+1 202 555 0143", "+12025550143"])
def test_login_by_phone_in_any_usual_format(api, settings, user_input):
    settings.DEFAULT_PHONE_REGION = "US"
    phone_user = PhoneUserFactory(phone_number=PHONE, username="phoney")

    response = login_response(api, user_input)

    assert response.status_code == 200, response.content
    assert AccessToken(response.json()["access"])["user_id"] == str(phone_user.id)


def test_login_access_token_opens_normal_endpoints(api, user):
    access = login_response(api, "jane").json()["access"]

    response = api.bearer(access).patch("/user/change-user-info/", {"bio": "logged in"})

    assert response.status_code == 200, response.content


def test_login_failures_are_indistinguishable(api, user):
    UserFactory(username="halfway", email="halfway@example.com", auth_status=AuthStatus.CODE_VERIFIED)

    unknown = login_response(api, "nobody")
    unknown_email = login_response(api, "nobody@example.com")
    wrong_password = login_response(api, "jane", "not-the-password")
    unfinished = login_response(api, "halfway")  # right password, sign-up not finished

    assert_error(unknown, 401, "invalid_credentials")
    bodies = {r.content for r in (unknown, unknown_email, wrong_password, unfinished)}
    assert len(bodies) == 1
    assert {r.status_code for r in (unknown_email, wrong_password, unfinished)} == {401}


def test_login_of_pending_sign_up_with_any_password_is_refused_like_an_unknown_user(api):
    PendingUserFactory(email="pending@example.com")

    pending = login_response(api, "pending@example.com", "whatever-I-guess")
    unknown = login_response(api, "nobody@example.com", "whatever-I-guess")

    assert pending.status_code == 401
    assert pending.content == unknown.content


def test_login_of_inactive_account_is_refused_like_a_wrong_password(api):
    UserFactory(username="gone", is_active=False)

    inactive = login_response(api, "gone")
    unknown = login_response(api, "nobody")

    assert inactive.status_code == 401
    assert inactive.content == unknown.content


def test_login_password_is_not_trimmed(api, user):
    assert_error(login_response(api, "jane", f" {PASSWORD} "), 401, "invalid_credentials")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"password": PASSWORD}, "user_input"),
        ({"user_input": "jane"}, "password"),
        ({"user_input": ["jane"], "password": PASSWORD}, "user_input"),
        ({"user_input": "jane", "password": {"p": 1}}, "password"),
        ({"user_input": "x" * 255, "password": PASSWORD}, "user_input"),
    ],
    ids=["no-user-input", "no-password", "list-user-input", "object-password", "long-user-input"],
)
def test_login_refuses_malformed_input(api, user, payload, field):
    assert_error(api.post("/user/login/", payload), 400, "invalid", fields=(field,))


def test_login_ignores_a_bearer_token(api, user):
    response = api.bearer("garbage").post("/user/login/", {"user_input": "jane", "password": PASSWORD})

    assert response.status_code == 200, response.content


def test_username_that_looks_like_a_phone_number_cannot_take_over_the_phone_login(api, settings, login):
    settings.DEFAULT_PHONE_REGION = "US"
    # Ids fixed so that the other account is the first candidate a lookup in id order finds.
    UserFactory(id="00000000-0000-4000-8000-000000000000", username="other")
    owner = PhoneUserFactory(
        id="ffffffff-ffff-4fff-8fff-ffffffffffff",
        phone_number=PHONE,
        username="phone_owner",
        password=make_password("Phone-Owner-Secret-1"),
    )
    rename = api.bearer(login("other")["access"]).patch("/user/change-user-info/", {"username": "2025550143"})

    if rename.status_code == 200:
        # Accepted: the number, typed as usual, must still reach the account it belongs to.
        response = login_response(api, "2025550143", "Phone-Owner-Secret-1")
        assert response.status_code == 200, response.content
        assert AccessToken(response.json()["access"])["user_id"] == str(owner.id)
    else:
        assert_error(rename, 400, "invalid", fields=("username",))


# Look-alike letters are written as escapes: U+0131 dotless i, U+017F long s, U+0430 Cyrillic a.
@pytest.mark.parametrize(
    ("username", "typed"),
    [
        ("EXIST3p", "ex\u0131st3p"),
        ("EXIST3p", "exi\u017ft3p"),
        ("adminp", "\u0430dminp"),
        ("\u0430dminp", "ADMINP"),
        ("sisip", "\u017fi\u017fip"),
    ],
)
def test_a_look_alike_spelling_of_a_username_logs_in_to_the_one_account_it_collides_with(api, username, typed):
    owner = UserFactory(username=username)

    response = login_response(api, typed)

    assert response.status_code == 200, response.content
    assert AccessToken(response.json()["access"])["user_id"] == str(owner.id)


@pytest.mark.parametrize(
    "typed",
    [
        "casep@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",  # full-width domain
        "casep\uff20example.com",  # full-width at sign
        "CASEP@EXAMPLE.COM.",
    ],
)
def test_login_by_email_reads_the_address_in_its_canonical_form(api, typed):
    owner = UserFactory(username="casep", email="casep@example.com")

    response = login_response(api, typed)

    assert response.status_code == 200, response.content
    assert AccessToken(response.json()["access"])["user_id"] == str(owner.id)


def test_login_by_email_with_an_international_domain(api):
    owner = UserFactory(username="jane_b", email="jane@b\u00fccher.example")

    response = login_response(api, "Jane@B\u00dcCHER.example")

    assert owner.email == "jane@xn--bcher-kva.example"
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    "typed", ["jane@\u2603.com", "jane@xn--zz.com", "jane@exa\u200dmple.com", "ex\u0131st@example.com"]
)
def test_login_with_an_address_that_has_no_canonical_form_is_a_plain_401(api, user, typed):
    assert_error(login_response(api, typed), 401, "invalid_credentials")
