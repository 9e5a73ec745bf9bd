"""Sessions (users/services/sessions.py): GET /user/sessions/, DELETE /user/sessions/<id>/,
POST /user/logout-all/, what else ends every session (a password set anywhere, deactivation), a
session ended while its refresh races, and sessions that outlive the loss of Redis's data."""

import io
import uuid
from datetime import datetime

import pytest
import requests
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django_redis import get_redis_connection

from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD, UserFactory, session_tokens
from tests.support.parallel import in_parallel
from users.models import Session, User
from users.tokens import AccessToken

SESSION_KEYS = {"id", "created_at", "last_used_at", "user_agent", "client", "method", "current"}
NEW_PASSWORD = "Purple-Otter-Lantern-7"
LAPTOP = {"HTTP_USER_AGENT": "Firefox/140.0 (laptop)", "REMOTE_ADDR": "203.0.113.7"}
PHONE = {"HTTP_USER_AGENT": "MyApp/2.1 (iPhone)", "REMOTE_ADDR": "2001:db8:1:2::5"}


def login_from(api, client: dict, user_input: str = "jane", password: str = PASSWORD) -> dict:
    response = api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password}, **client)
    assert response.status_code == 200, response.content
    return response.json()


def sessions(api, access: str):
    return api.bearer(access).get("/user/sessions/")


def end_session(api, access: str, session_id):
    return api.bearer(access).delete(f"/user/sessions/{session_id}/")


def refresh_with(api, refresh: str):
    return api.bearer(None).post("/user/login-refresh/", {"refresh": refresh})


def me_status(api, access: str) -> int:
    return api.bearer(access).get("/user/me/").status_code


def sid(tokens: dict) -> str:
    return str(AccessToken(tokens["access"]).session_id)


def assert_dead(api, tokens: dict) -> None:
    """Neither the access nor the refresh token of ``tokens`` works any more."""
    assert_error(api.bearer(tokens["access"]).get("/user/me/"), 401, "token_not_valid")
    assert_error(refresh_with(api, tokens["refresh"]), 401, "token_not_valid")


def assert_alive(api, tokens: dict) -> dict:
    """Both tokens of ``tokens`` work; returns the pair the refresh gave."""
    assert me_status(api, tokens["access"]) == 200
    refreshed = refresh_with(api, tokens["refresh"])
    assert refreshed.status_code == 200, refreshed.content
    return refreshed.json()


# --- the list --------------------------------------------------------------------------------


def test_the_list_shows_each_login_with_its_client_and_marks_the_callers(api, user):
    laptop = login_from(api, LAPTOP)
    phone = login_from(api, PHONE, user_input=EMAIL)

    response = sessions(api, phone["access"])

    assert response.status_code == 200, response.content
    listed = response.json()
    assert all(set(entry) == SESSION_KEYS for entry in listed)
    assert [entry["id"] for entry in listed] == [sid(phone), sid(laptop)]  # newest first
    assert [entry["current"] for entry in listed] == [True, False]
    assert [(entry["user_agent"], entry["client"], entry["method"]) for entry in listed] == [
        ("MyApp/2.1 (iPhone)", "2001:db8:1::/48", "password"),
        ("Firefox/140.0 (laptop)", "203.0.113.x", "password"),
    ]
    for entry in listed:
        datetime.fromisoformat(entry["created_at"])
        datetime.fromisoformat(entry["last_used_at"])
    assert "203.0.113.7" not in response.content.decode()
    assert [entry["current"] for entry in sessions(api, laptop["access"]).json()] == [False, True]


def test_the_list_shows_no_other_users_sessions_and_no_ended_ones(api, user):
    UserFactory(username="mallory")
    theirs = login_from(api, LAPTOP, user_input="mallory")
    ended = login_from(api, LAPTOP)
    api.bearer(ended["access"]).post("/user/logout/", {"refresh": ended["refresh"]})
    mine = login_from(api, PHONE)

    listed = sessions(api, mine["access"]).json()

    assert [entry["id"] for entry in listed] == [sid(mine)]
    assert sid(theirs) in [entry["id"] for entry in sessions(api, theirs["access"]).json()]


def test_a_login_by_code_is_listed_as_such(api, user, email_code):
    flow = api.post("/user/login-code/", {"user_input": "jane"}).json()["access"]
    confirmed = api.bearer(flow).post("/user/login-code/confirm/", {"code": email_code()}, **LAPTOP)
    assert confirmed.status_code == 200, confirmed.content

    (entry,) = sessions(api, confirmed.json()["access"]).json()

    assert (entry["method"], entry["current"], entry["client"]) == ("code", True, "203.0.113.x")


def test_a_refresh_keeps_the_session_and_moves_its_last_use_on(api, user):
    laptop = login_from(api, LAPTOP)
    (before,) = sessions(api, laptop["access"]).json()

    rotated = refresh_with(api, laptop["refresh"]).json()

    (after,) = sessions(api, rotated["access"]).json()
    assert (after["id"], after["created_at"], after["current"]) == (before["id"], before["created_at"], True)
    assert after["last_used_at"] > before["last_used_at"]


def test_a_client_without_user_agent_or_address_is_listed_as_such(api, user):
    tokens = login_from(api, {"REMOTE_ADDR": ""})

    (entry,) = sessions(api, tokens["access"]).json()

    assert (entry["user_agent"], entry["client"]) == ("", "0.0.0.x")  # the shared bucket of no address


def test_a_long_user_agent_is_cut_to_256_characters(api, user):
    tokens = login_from(api, {"HTTP_USER_AGENT": "Mozilla/5.0 " + "x" * 1000})

    (entry,) = sessions(api, tokens["access"]).json()

    assert entry["user_agent"] == ("Mozilla/5.0 " + "x" * 1000)[:256]


def test_the_list_needs_an_access_token(api, user, signup):
    tokens = login_from(api, LAPTOP)

    assert_error(api.bearer(None).get("/user/sessions/"), 401, "not_authenticated")
    assert_error(sessions(api, tokens["refresh"]), 401, "token_not_valid")
    assert_error(sessions(api, signup("new.person@example.com")), 401, "token_not_valid")


# --- ending one --------------------------------------------------------------------------------


def test_ending_another_session_kills_its_access_and_refresh_tokens(api, user):
    laptop = login_from(api, LAPTOP)
    phone = login_from(api, PHONE)

    response = end_session(api, phone["access"], sid(laptop))

    assert response.status_code == 204, response.content
    assert response.content == b""
    assert_dead(api, laptop)
    assert [entry["id"] for entry in sessions(api, phone["access"]).json()] == [sid(phone)]
    assert_alive(api, phone)
    assert Session.objects.get(id=sid(laptop)).end_reason == "ended"


def test_ending_ones_own_session_logs_the_caller_out(api, user):
    laptop = login_from(api, LAPTOP)

    assert end_session(api, laptop["access"], sid(laptop)).status_code == 204

    assert_dead(api, laptop)


def test_ending_another_users_session_is_a_404_and_it_lives_on(api, user):
    UserFactory(username="mallory")
    theirs = login_from(api, LAPTOP, user_input="mallory")
    mine = login_from(api, PHONE)

    response = end_session(api, mine["access"], sid(theirs))

    body = assert_error(response, 404, "not_found")
    assert body["fields"] == {}
    assert_alive(api, theirs)
    # the same answer as for a session that never existed, or one already ended
    assert end_session(api, mine["access"], uuid.uuid4()).json() == body
    ended = login_from(api, LAPTOP)
    end_session(api, mine["access"], sid(ended))
    assert end_session(api, mine["access"], sid(ended)).json() == body


def test_ending_a_session_needs_an_access_token(api, user):
    laptop = login_from(api, LAPTOP)

    assert_error(api.bearer(None).delete(f"/user/sessions/{sid(laptop)}/"), 401, "not_authenticated")
    assert_error(end_session(api, laptop["refresh"], sid(laptop)), 401, "token_not_valid")
    assert_alive(api, laptop)


def test_a_malformed_session_id_is_a_404(api, user):
    laptop = login_from(api, LAPTOP)

    assert_error(end_session(api, laptop["access"], "not-a-uuid"), 404, "not_found")


# --- logging out everywhere ----------------------------------------------------------------------


def test_logout_all_ends_every_session_of_the_caller_and_no_one_elses(api, user):
    UserFactory(username="mallory")
    theirs = login_from(api, LAPTOP, user_input="mallory")
    laptop, phone = login_from(api, LAPTOP), login_from(api, PHONE)

    response = api.bearer(phone["access"]).post("/user/logout-all/")

    assert response.status_code == 200, response.content
    assert response.json() == {"detail": "Logged out everywhere."}
    assert_dead(api, laptop)
    assert_dead(api, phone)
    assert set(Session.objects.filter(user=user).values_list("end_reason", flat=True)) == {"logout_all"}
    assert_alive(api, theirs)
    assert_alive(api, login_from(api, LAPTOP))  # a new login works


def test_logout_all_needs_an_access_token(api, user):
    laptop = login_from(api, LAPTOP)

    assert_error(api.bearer(None).post("/user/logout-all/"), 401, "not_authenticated")
    assert_error(api.bearer(laptop["refresh"]).post("/user/logout-all/"), 401, "token_not_valid")
    assert_alive(api, laptop)


# --- a password set anywhere, a deactivation ------------------------------------------------------


@pytest.fixture
def two_sessions(api, user) -> tuple[dict, dict]:
    return login_from(api, LAPTOP), login_from(api, PHONE)


def test_set_password_and_save_ends_every_session(api, user, two_sessions):
    user.set_password(NEW_PASSWORD)
    user.save()

    for tokens in two_sessions:
        assert_dead(api, tokens)
    assert set(Session.objects.values_list("end_reason", flat=True)) == {"password"}
    assert_alive(api, login_from(api, LAPTOP, password=NEW_PASSWORD))


def test_deactivation_ends_every_session_and_reactivation_revives_none(api, user, two_sessions):
    user.is_active = False
    user.save()
    user.is_active = True
    user.save()

    for tokens in two_sessions:
        assert_dead(api, tokens)
    assert set(Session.objects.values_list("end_reason", flat=True)) == {"deactivated"}


def test_saving_the_user_for_anything_else_keeps_the_sessions(api, user, two_sessions):
    user.first_name = "Jane"
    user.save()

    for tokens in two_sessions:
        assert_alive(api, tokens)


def test_a_login_with_an_outdated_hash_ends_no_session(api, user, two_sessions):
    # Django stores a new hash when the stored one is outdated (here: a salt too short for the
    # hasher); the password is the same, so no session may end.
    from django.contrib.auth.hashers import make_password

    outdated = make_password(PASSWORD, salt="ab")
    User.objects.filter(pk=user.pk).update(password=outdated)

    login_from(api, LAPTOP)

    assert User.objects.get(pk=user.pk).password == outdated  # a login never re-makes a hash
    for tokens in two_sessions:
        assert_alive(api, tokens)


def test_a_hash_upgrade_during_a_password_check_keeps_the_callers_session(api, user, two_sessions):
    from django.contrib.auth.hashers import make_password

    laptop, _ = two_sessions
    User.objects.filter(pk=user.pk).update(password=make_password(PASSWORD, salt="ab"))

    response = api.bearer(laptop["access"]).post(
        "/user/change-identifier/", {"email_phone_number": "jane.new@example.com", "password": PASSWORD}
    )

    assert response.status_code == 202, response.content
    assert me_status(api, laptop["access"]) == 200


@pytest.fixture
def admin_client(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser(username="root", email="root@example.com", password="x" * 20))
    return client


def test_a_password_set_in_the_admin_ends_every_session(api, admin_client, user, two_sessions):
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/password/",
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    for tokens in two_sessions:
        assert_dead(api, tokens)
    assert_alive(api, login_from(api, LAPTOP, password=NEW_PASSWORD))


def test_disabling_the_password_in_the_admin_ends_every_session(api, admin_client, user, two_sessions):
    response = admin_client.post(
        f"/admin/users/user/{user.pk}/password/", {"usable_password": "false", "unset-password": "1"}
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    user.refresh_from_db()
    assert not user.has_usable_password()
    for tokens in two_sessions:
        assert_dead(api, tokens)


def test_deactivation_in_the_admin_ends_every_session(api, admin_client, user, two_sessions):
    page = admin_client.get(f"/admin/users/user/{user.pk}/change/")
    form = page.context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "is_active"}
    data.update(
        {
            "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )

    response = admin_client.post(f"/admin/users/user/{user.pk}/change/", data)

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert not User.objects.get(pk=user.pk).is_active
    for tokens in two_sessions:
        assert_dead(api, tokens)


def test_changepassword_ends_every_session(api, user, two_sessions, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)

    call_command("changepassword", "jane", stdout=io.StringIO())

    for tokens in two_sessions:
        assert_dead(api, tokens)
    assert_alive(api, login_from(api, LAPTOP, password=NEW_PASSWORD))


# --- nothing of a session lives in Redis ---------------------------------------------------------


def test_sessions_outlive_a_flush_of_redis_unchanged(api, user, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    laptop, phone, tablet = login_from(api, LAPTOP), login_from(api, PHONE), login_from(api, LAPTOP)
    rotated = refresh_with(api, laptop["refresh"]).json()
    assert api.bearer(phone["access"]).post("/user/logout/", {"refresh": phone["refresh"]}).status_code == 200
    listed = sessions(api, tablet["access"]).json()
    rows = list(Session.objects.order_by("id").values())

    get_redis_connection("default").flushdb()

    assert sessions(api, tablet["access"]).json() == listed
    assert list(Session.objects.order_by("id").values()) == rows
    assert_dead(api, phone)  # the logged-out session stays ended
    assert_error(refresh_with(api, laptop["refresh"]), 401, "token_not_valid")  # the rotated token stays refused
    assert_dead(api, rotated)  # ... and, a reuse after the grace period, it ended its family
    assert_alive(api, tablet)


# --- races -------------------------------------------------------------------------------------


def test_ending_a_session_while_it_refreshes_leaves_it_ended_and_no_pair_working(live_server, transactional_db):
    user = UserFactory(username="jane", email=EMAIL)
    caller = session_tokens(user)
    base = live_server.url
    outcomes = []
    for _ in range(5):  # both orders, and the interleavings between them
        target = session_tokens(user)

        def race(n: int, target=target) -> requests.Response:
            with requests.Session() as http:
                if n == 0:
                    return http.post(f"{base}/user/login-refresh/", json={"refresh": target["refresh"]}, timeout=30)
                headers = {"Authorization": f"Bearer {caller['access']}"}
                return http.delete(f"{base}/user/sessions/{sid(target)}/", headers=headers, timeout=30)

        refreshed, ended = in_parallel(2, race)

        assert ended.status_code == 204, ended.content
        assert refreshed.status_code in (200, 401), refreshed.content
        outcomes.append(refreshed.status_code)
        assert Session.objects.get(id=sid(target)).ended_at is not None
        pairs = [target] + ([refreshed.json()] if refreshed.status_code == 200 else [])
        with requests.Session() as http:
            for pair in pairs:
                me = http.get(f"{base}/user/me/", headers={"Authorization": f"Bearer {pair['access']}"}, timeout=30)
                again = http.post(f"{base}/user/login-refresh/", json={"refresh": pair["refresh"]}, timeout=30)
                assert (me.status_code, again.status_code) == (401, 401), outcomes
    with requests.Session() as http:
        me = http.get(f"{base}/user/me/", headers={"Authorization": f"Bearer {caller['access']}"}, timeout=30)
    assert me.status_code == 200
    assert mail.outbox == []
