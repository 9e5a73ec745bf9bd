"""Accounts created in the Django admin are finished accounts: they log in through the API at once,
with the right ``auth_type`` for the address or number they were given."""

import io

import jwt
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from notifications.models import Delivery
from tests.api.conftest import EMAIL, PHONE
from users.models import AuthStatus, AuthType, Session, User

ADD_URL = "/admin/users/user/add/"
PASSWORD = "a long admin-made pass phrase"


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(username="root", email="root@example.com", password="x" * 20))
    return client


def admin_add(client: Client, **fields: str):
    data = {"usable_password": "true", "password1": PASSWORD, "password2": PASSWORD, "_save": "Save", **fields}
    return client.post(ADD_URL, data)


def test_the_add_form_offers_email_and_phone_number(admin_client):
    page = admin_client.get(ADD_URL).content.decode()

    assert 'name="email"' in page
    assert 'name="phone_number"' in page


@pytest.mark.parametrize(
    ("fields", "login_with", "auth_type"),
    [
        ({"email": "Jane@Example.com"}, EMAIL, AuthType.EMAIL),
        ({"phone_number": "(202) 555-0143"}, PHONE, AuthType.PHONE),
        ({"email": EMAIL, "phone_number": PHONE}, PHONE, AuthType.EMAIL),
    ],
)
def test_an_account_added_in_the_admin_is_finished_and_logs_in(admin_client, api, fields, login_with, auth_type):
    response = admin_add(admin_client, username="jane", **fields)

    assert response.status_code == 302, response.content.decode()[-3000:]
    user = User.objects.get(username="jane")
    assert user.auth_status == AuthStatus.DONE
    assert user.auth_type == auth_type
    for user_input in ("jane", login_with):
        login = api.post("/user/login/", {"user_input": user_input, "password": PASSWORD})
        assert login.status_code == 200, login.content
        assert login.json()["auth_status"] == "done"


def test_the_admin_stores_the_address_and_number_in_canonical_form(admin_client):
    admin_add(admin_client, username="jane", email=" Jane@Example.COM ", phone_number="(202) 555-0143")

    user = User.objects.get(username="jane")
    assert (user.email, user.phone_number) == (EMAIL, PHONE)


def test_the_add_form_requires_a_username_and_refuses_bad_identifiers(admin_client):
    no_username = admin_add(admin_client, email=EMAIL)
    bad_phone = admin_add(admin_client, username="jane", phone_number="12")
    bad_email = admin_add(admin_client, username="jane", email="not-an-address")

    for response in (no_username, bad_phone, bad_email):
        assert response.status_code == 200  # the form again, with its errors
    assert not User.objects.exclude(username="root").exists()


def test_the_add_form_refuses_an_address_taken_in_another_case(admin_client):
    User.objects.create_user(username="first", email=EMAIL, password=PASSWORD)

    response = admin_add(admin_client, username="second", email="JANE@example.com")

    assert response.status_code == 200
    assert not User.objects.filter(username="second").exists()


def test_the_change_form_takes_a_blank_username_and_normalizes_identifiers(admin_client):
    user = User.objects.create_user(username="jane", email=EMAIL, password=PASSWORD)
    data = {
        "username": "",
        "email": "JANE@example.com",
        "phone_number": "(202) 555-0143",
        "auth_type": AuthType.EMAIL,
        "auth_status": AuthStatus.DONE,
        "language": "es",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }

    response = admin_client.post(f"/admin/users/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[-3000:]
    user.refresh_from_db()
    assert (user.username, user.email, user.phone_number) == (None, EMAIL, PHONE)
    assert user.language == "es"  # staff can set an account's language


def test_the_delivery_list_and_page_show_the_recipient_masked(admin_client, api):
    assert api.post("/user/signup/", {"email_phone_number": PHONE}).status_code == 201
    delivery = Delivery.objects.get()

    listing = admin_client.get("/admin/notifications/delivery/")
    detail = admin_client.get(f"/admin/notifications/delivery/{delivery.pk}/change/")

    for response in (listing, detail):
        assert response.status_code == 200
        page = response.content.decode()
        assert "+1******0143" in page
        assert PHONE not in page
        assert "2025550143" not in page


# --- canonical forms in the admin and in createsuperuser -----------------------------------------


def test_the_add_form_refuses_a_username_that_looks_like_one_in_use(admin_client):
    User.objects.create_user(username="adminp", email=EMAIL, password=PASSWORD)

    response = admin_add(admin_client, username="\u0430dminp")  # Cyrillic a

    assert response.status_code == 200
    assert "looks like it" in response.content.decode()
    assert not User.objects.filter(username="\u0430dminp").exists()


def test_the_change_form_refuses_a_username_that_looks_like_another_one(admin_client):
    User.objects.create_user(username="sisip", password=PASSWORD)
    other = User.objects.create_user(username="other", password=PASSWORD)
    data = {
        "username": "s\u0131\u017fip",
        "auth_type": AuthType.EMAIL,
        "auth_status": AuthStatus.DONE,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }

    response = admin_client.post(f"/admin/users/user/{other.pk}/change/", data)

    assert response.status_code == 200
    other.refresh_from_db()
    assert other.username == "other"


def test_the_add_form_stores_the_canonical_address_and_username(admin_client):
    response = admin_add(admin_client, username="\uff2a\uff41\uff4e\uff45", email="Jane@B\u00dcCHER.example")

    assert response.status_code == 302, response.content.decode()[-3000:]
    user = User.objects.get(username="Jane")
    assert (user.email, user.username_key) == ("jane@xn--bcher-kva.example", "jane")


def test_the_add_form_refuses_an_address_with_an_invalid_domain(admin_client):
    response = admin_add(admin_client, username="jane", email="jane@\u2603.com")

    assert response.status_code == 200
    assert not User.objects.filter(username="jane").exists()


def test_createsuperuser_stores_canonical_values(db, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    call_command(
        "createsuperuser",
        "--noinput",
        username="\uff52\uff4f\uff4f\uff54",
        email="Root@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com",
        stdout=io.StringIO(),
    )

    root = User.objects.get(username="root")
    assert (root.email, root.username_key, root.auth_status) == ("root@example.com", "root", AuthStatus.DONE)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"username": "\u0430dminp", "email": "other@example.com"}, "already taken"),
        ({"username": "newroot", "email": "root@\u2603.com"}, "valid e-mail"),
        ({"username": "root@example.com", "email": "other@example.com"}, "cannot be an e-mail"),
    ],
    ids=["look-alike-username", "invalid-domain", "username-is-an-address"],
)
def test_createsuperuser_refuses_what_the_api_refuses(db, monkeypatch, fields, message):
    User.objects.create_superuser(username="adminp", email=EMAIL, password=PASSWORD)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)

    with pytest.raises(CommandError, match=message):
        call_command("createsuperuser", "--noinput", stdout=io.StringIO(), stderr=io.StringIO(), **fields)

    assert User.objects.count() == 1


def test_the_admin_log_in_finds_the_account_by_its_key(db):
    User.objects.create_superuser(username="root", email="root@example.com", password="x" * 20)

    response = Client().post("/admin/login/", {"username": "\uff32OOT", "password": "x" * 20})  # full-width R

    assert response.status_code == 302


# --- sessions: read-only, with an action that ends them -------------------------------------------

SESSIONS_URL = "/admin/users/session/"


def _login(api, user_input: str, **client: str) -> dict:
    response = api.post("/user/login/", {"user_input": user_input, "password": PASSWORD}, **client)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def two_users_sessions(api) -> dict[str, dict]:
    User.objects.create_user(username="jane", email=EMAIL, password=PASSWORD)
    User.objects.create_user(username="mallory", email="mallory@example.com", password=PASSWORD)
    return {
        "laptop": _login(api, "jane", HTTP_USER_AGENT="Firefox/140.0 (laptop)", REMOTE_ADDR="203.0.113.7"),
        "phone": _login(api, "jane", HTTP_USER_AGENT="MyApp/2.1 (iPhone)"),
        "mallory": _login(api, "mallory"),
    }


def _session_id(tokens: dict) -> str:
    return jwt.decode(tokens["access"], options={"verify_signature": False})["sid"]


def test_the_session_list_shows_who_is_logged_in_how_and_from_where(admin_client, two_users_sessions):
    page = admin_client.get(SESSIONS_URL).content.decode()
    janes = admin_client.get(SESSIONS_URL, {"q": "jane"}).content.decode()

    assert "Firefox/140.0 (laptop)" in page
    assert 'value="end_sessions"' in page
    assert "203.0.113.x" in page
    assert "203.0.113.7" not in page
    assert "mallory" in page
    assert "mallory" not in janes
    assert janes.count('name="_selected_action"') == 2
    for tokens in two_users_sessions.values():
        assert tokens["refresh"] not in page
        assert tokens["access"] not in page


def test_sessions_cannot_be_added_changed_or_deleted_in_the_admin(admin_client, two_users_sessions):
    session = Session.objects.get(id=_session_id(two_users_sessions["laptop"]))
    url = f"{SESSIONS_URL}{session.pk}/change/"

    page = admin_client.get(url)
    posted = admin_client.post(url, {"user_agent": "edited", "generation": 99})

    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert posted.status_code == 403
    assert admin_client.get(f"{SESSIONS_URL}add/").status_code == 403
    assert admin_client.post(f"{SESSIONS_URL}{session.pk}/delete/", {"post": "yes"}).status_code == 403
    session.refresh_from_db()
    assert (session.user_agent, session.generation) == ("Firefox/140.0 (laptop)", 1)


def test_the_admin_action_ends_the_selected_sessions_and_their_tokens(admin_client, api, two_users_sessions):
    laptop, phone, mallory = (two_users_sessions[name] for name in ("laptop", "phone", "mallory"))

    response = admin_client.post(
        SESSIONS_URL,
        {"action": "end_sessions", "_selected_action": [_session_id(laptop), _session_id(mallory)]},
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    for tokens in (laptop, mallory):
        assert api.bearer(tokens["access"]).get("/user/me/").status_code == 401
        assert api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]}).status_code == 401
    assert api.bearer(phone["access"]).get("/user/me/").status_code == 200
    assert set(Session.objects.exclude(ended_at=None).values_list("end_reason", flat=True)) == {"ended"}


def test_staff_who_may_only_view_sessions_cannot_end_them(api, two_users_sessions):
    from django.contrib.auth.models import Permission

    viewer = User.objects.create_user(username="viewer", password="x" * 20, is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_session", content_type__app_label="users"))
    client = Client()
    client.force_login(viewer)
    laptop = two_users_sessions["laptop"]

    page = client.get(SESSIONS_URL)
    client.post(SESSIONS_URL, {"action": "end_sessions", "_selected_action": [_session_id(laptop)]})

    assert page.status_code == 200
    assert 'value="end_sessions"' not in page.content.decode()
    assert api.bearer(laptop["access"]).get("/user/me/").status_code == 200
