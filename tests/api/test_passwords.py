"""Passwords: Argon2id first, Django's validators (common, similar, numeric, short) with field
errors, and a maximum length checked before any hashing, so a huge password costs nothing."""

import time

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.db import connection

from project.settings import base as base_settings
from tests.api.conftest import EMAIL, assert_error
from tests.factories import PASSWORD

MAX = 128


class CountingHasher(MD5PasswordHasher):
    """The test MD5 hasher, remembering the length of every password it was handed."""

    seen: list[int] = []

    def encode(self, password, salt):  # MD5's verify() encodes too: one entry per hash computed
        CountingHasher.seen.append(len(password))
        return super().encode(password, salt)


@pytest.fixture
def counting_hasher(settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["tests.api.test_passwords.CountingHasher"]
    monkeypatch.setattr("users.backends._dummy_hash", None)
    CountingHasher.seen = []
    return CountingHasher


def complete(**fields) -> dict:
    return {"username": "jane_doe", **fields}


def login(api, user_input: str, password: str):
    return api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password})


# --- hashers ---------------------------------------------------------------------------------


def test_argon2id_is_the_first_hasher_in_base_settings_with_its_cost_from_settings(settings):
    from users.hashers import Argon2idHasher

    assert base_settings.PASSWORD_HASHERS[0] == "users.hashers.Argon2idHasher"
    settings.ARGON2_TIME_COST, settings.ARGON2_MEMORY_COST, settings.ARGON2_PARALLELISM = 1, 8192, 2
    encoded = Argon2idHasher().encode("a long pass phrase", Argon2idHasher().salt())
    assert encoded.startswith("argon2$argon2id$v=19$m=8192,t=1,p=2$")
    assert Argon2idHasher().verify("a long pass phrase", encoded)


def test_production_settings_do_not_override_the_hashers():
    from pathlib import Path

    source = (Path(base_settings.BASE_DIR) / "project" / "settings" / "production.py").read_text()
    assert "PASSWORD_HASHERS" not in source


def test_base_settings_enable_common_similarity_numeric_and_length_validators():
    names = {v["NAME"].rsplit(".", 1)[-1] for v in base_settings.AUTH_PASSWORD_VALIDATORS}
    assert {
        "UserAttributeSimilarityValidator",
        "CommonPasswordValidator",
        "MinimumLengthValidator",
        "NumericPasswordValidator",
    } <= names
    assert base_settings.PASSWORD_MAX_LENGTH == MAX


def test_login_costs_one_hash_and_leaves_an_old_hash_for_the_next_password_change(api, settings, user, monkeypatch):
    # Re-making an outdated hash at login would be a second hash on the login path: it waits for
    # the account's next password change (or reset), and the old hash keeps working meanwhile.
    settings.PASSWORD_HASHERS = [*base_settings.PASSWORD_HASHERS, "django.contrib.auth.hashers.MD5PasswordHasher"]
    assert user.password.startswith("md5$")
    hashes = []
    from django.contrib.auth import hashers

    real_make_password = hashers.make_password
    monkeypatch.setattr(hashers, "make_password", lambda *a, **k: hashes.append(1) or real_make_password(*a, **k))

    assert login(api, "jane", PASSWORD).status_code == 200

    user.refresh_from_db()
    assert user.password.startswith("md5$")
    assert hashes == []


def test_the_wsgi_entry_point_makes_the_dummy_hash_before_any_request(monkeypatch):
    import importlib

    import project.wsgi
    from users import backends

    monkeypatch.setattr(backends, "_dummy_hash", None)
    importlib.reload(project.wsgi)
    assert backends._dummy_hash is not None


@pytest.mark.parametrize(
    ("user_input", "password", "status"),
    [("jane", PASSWORD, 200), ("jane", "wrong-pass-phrase-9", 401), ("nobody", PASSWORD, 401), (EMAIL, PASSWORD, 200)],
    ids=["right password", "wrong password", "unknown user", "by e-mail"],
)
def test_every_login_outcome_costs_exactly_one_hash(api, user, counting_hasher, user_input, password, status):
    # Login = one hash, whatever the outcome: an unknown user pays the same single (dummy) hash as
    # a wrong password, and a right one is not hashed again. The dummy hash is made before any
    # request, as the WSGI entry point does.
    from users.backends import dummy_hash

    dummy_hash()
    counting_hasher.seen.clear()

    assert login(api, user_input, password).status_code == status
    assert counting_hasher.seen == [len(password)]


# --- maximum length --------------------------------------------------------------------------


def test_completion_accepts_a_password_of_exactly_the_maximum_length(verified, change_info):
    password = ("Xy7-" * 40)[:MAX]

    response = change_info(verified(), **complete(password=password, confirm_password=password))

    assert response.status_code == 200, response.content


def test_completion_refuses_one_character_more_before_hashing(verified, change_info, counting_hasher):
    token = verified()
    password = ("Xy7-" * 40)[: MAX + 1]

    response = change_info(token, **complete(password=password, confirm_password=password))

    assert_error(response, 400, "invalid", fields=("password",))
    assert max(counting_hasher.seen, default=0) <= MAX


def test_login_refuses_an_over_long_password_before_hashing(api, user, counting_hasher):
    response = login(api, "jane", "x" * (MAX + 1))

    assert_error(response, 400, "invalid", fields=("password",))
    assert counting_hasher.seen == []


def test_login_with_an_over_long_password_for_an_unknown_user_is_refused_the_same_way(api, user, counting_hasher):
    known = login(api, "jane", "x" * (MAX + 1))
    unknown = login(api, "nobody", "x" * (MAX + 1))

    assert known.content == unknown.content
    assert counting_hasher.seen == []


def test_login_with_a_maximum_length_wrong_password_is_a_normal_failure(api, user, counting_hasher):
    assert_error(login(api, "jane", "x" * MAX), 401, "invalid_credentials")
    assert counting_hasher.seen == [MAX]


def test_password_change_refuses_an_over_long_old_or_new_password_before_hashing(api, user, tokens, counting_hasher):
    long = "y" * (MAX + 1)
    api.bearer(tokens["access"])

    old_too_long = api.patch("/user/change-user-info/", {"old_password": long, "password": "N3w-pass-phrase"})
    new_too_long = api.patch(
        "/user/change-user-info/", {"old_password": PASSWORD, "password": long, "confirm_password": long}
    )

    assert_error(old_too_long, 400, "invalid", fields=("old_password",))
    assert_error(new_too_long, 400, "invalid", fields=("password",))
    assert max(counting_hasher.seen, default=0) <= MAX


@pytest.mark.parametrize(
    ("endpoint", "size"),
    [
        ("login", 60_000),
        ("change-user-info", 60_000),
        ("login", 1_000_000),
        ("change-user-info", 1_000_000),
        ("signup", 1_000_000),
    ],
    ids=["login 60 kB", "change-user-info 60 kB", "login 1 MB", "change-user-info 1 MB", "signup 1 MB body"],
)
def test_huge_passwords_are_refused_fast_and_never_crash(api, user, tokens, settings, size, endpoint):
    settings.PASSWORD_HASHERS = base_settings.PASSWORD_HASHERS  # the real, slow Argon2id
    huge = "p" * size
    started = time.perf_counter()
    if endpoint == "login":
        response = login(api, "jane", huge)
    elif endpoint == "change-user-info":
        response = api.bearer(tokens["access"]).patch(
            "/user/change-user-info/", {"old_password": huge, "password": huge, "confirm_password": huge}
        )
    else:
        response = api.bearer(None).post("/user/signup/", {"email_phone_number": "x@example.com", "password": huge})
    elapsed = time.perf_counter() - started

    assert response.status_code in (400, 413), response.content[:300]
    body = response.json()
    assert set(body) == {"detail", "code", "fields"}
    assert body["code"] == ("request_too_large" if response.status_code == 413 else "invalid")
    if size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
        assert response.status_code == 413
    assert huge[:200] not in response.content.decode()
    assert elapsed < 1.0, f"{elapsed:.2f}s"


# --- validators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("qwertyuiop", "too common"),
        ("iloveyou123", "too common"),
        ("margaretthatcher1", "too similar to the username"),
        ("Margaret-Thatcher", "too similar to the username"),
        ("8274619305", "entirely numeric"),
        ("Zq9!x", "too short"),
    ],
)
def test_weak_passwords_are_refused_at_completion_with_field_errors(verified, change_info, password, message):
    response = change_info(verified(), username="margaretthatcher", password=password, confirm_password=password)

    body = assert_error(response, 400, "invalid", fields=("password",))
    assert any(message in m for m in body["fields"]["password"]), body
    assert password not in response.content.decode()


def test_password_similar_to_the_email_address_is_refused(verified, change_info):
    token = verified("winston.churchill@example.com")

    response = change_info(
        token, username="bulldog", password="Winston.Churchill", confirm_password="Winston.Churchill"
    )

    body = assert_error(response, 400, "invalid", fields=("password",))
    assert any("similar" in m for m in body["fields"]["password"]), body


def test_weak_password_is_refused_on_a_later_change_too(api, user, tokens):
    response = api.bearer(tokens["access"]).patch(
        "/user/change-user-info/",
        {"old_password": PASSWORD, "password": "qwertyuiop", "confirm_password": "qwertyuiop"},
    )

    body = assert_error(response, 400, "invalid", fields=("password",))
    assert any("too common" in m for m in body["fields"]["password"])
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_validators_see_the_new_username_sent_in_the_same_request(verified, change_info):
    token = verified(EMAIL)

    response = change_info(
        token, username="zanzibar_quokka", password="zanzibar_quokka!", confirm_password="zanzibar_quokka!"
    )

    assert_error(response, 400, "invalid", fields=("password",))


# --- no hashing inside a transaction ---------------------------------------------------------


class TransactionRecordingHasher(MD5PasswordHasher):
    """The test MD5 hasher, remembering for every hash whether a database transaction was open."""

    calls: list[tuple[str, bool]] = []

    def encode(self, password, salt):
        TransactionRecordingHasher.calls.append(("encode", connection.in_atomic_block))
        return super().encode(password, salt)

    def verify(self, password, encoded):
        TransactionRecordingHasher.calls.append(("verify", connection.in_atomic_block))
        return super().verify(password, encoded)


@pytest.mark.django_db(transaction=True)
def test_passwords_are_never_hashed_inside_a_database_transaction(api, settings, monkeypatch, verified, change_info):
    # A hash holds a transaction (and its row locks) open for its whole duration: Argon2id's
    # ~180 ms would serialize profile changes behind it. In a transactional test nothing wraps the
    # requests, so `in_atomic_block` is True only inside the application's own transactions.
    settings.PASSWORD_HASHERS = ["tests.api.test_passwords.TransactionRecordingHasher"]
    monkeypatch.setattr("users.backends._dummy_hash", None)
    TransactionRecordingHasher.calls = []
    assert not connection.in_atomic_block

    completed = change_info(verified(), **complete(password=PASSWORD, confirm_password=PASSWORD))
    assert completed.status_code == 200, completed.content
    tokens = login(api, "jane_doe", PASSWORD).json()
    changed = api.bearer(tokens["access"]).patch(
        "/user/change-user-info/",
        {"old_password": PASSWORD, "password": "N3w-pass-phrase", "confirm_password": "N3w-pass-phrase"},
    )
    assert changed.status_code == 200, changed.content
    assert login(api, "jane_doe", "N3w-pass-phrase").status_code == 200

    calls = TransactionRecordingHasher.calls
    assert {kind for kind, _ in calls} == {"encode", "verify"}, calls
    assert [kind for kind, in_transaction in calls if in_transaction] == [], calls
