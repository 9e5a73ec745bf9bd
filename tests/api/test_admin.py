"""Accounts created in the Django admin are finished accounts: they log in through the API at once,
with the right ``auth_type`` for the address or number they were given."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from notifications.models import Delivery
from tests.api.conftest import EMAIL, PHONE
from users.models import AuthStatus, AuthType, User

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
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }

    response = admin_client.post(f"/admin/users/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[-3000:]
    user.refresh_from_db()
    assert (user.username, user.email, user.phone_number) == (None, EMAIL, PHONE)


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
