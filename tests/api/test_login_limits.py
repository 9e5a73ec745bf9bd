"""The failed-login limit (login_account_failures) cannot be slipped past: not by rotating IPv6
addresses inside one /64, not by sending guesses in parallel, and not by the admin's own log-in."""

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client

from project.exceptions import RateLimited
from tests.factories import PASSWORD, UserFactory
from tests.support.parallel import in_parallel, outcome
from users.models import User
from users.services import login as services
from users.services.sessions import ClientInfo


def login(api, user_input: str, password: str, address: str):
    return api.bearer(None).post("/user/login/", {"user_input": user_input, "password": password}, REMOTE_ADDR=address)


def test_rotating_ipv6_addresses_inside_one_64_does_not_reset_the_limit(api, rates_only):
    rates_only(login_account_failures="3/h")
    UserFactory(username="jane")

    answers = [login(api, "jane", "wrong", f"2001:db8:1:2::{n:x}").status_code for n in range(1, 6)]

    assert answers == [401, 401, 401, 429, 429]
    # Another /64 is another client.
    assert login(api, "jane", PASSWORD, "2001:db8:1:3::1").status_code == 200


def test_a_success_is_refunded_so_only_failures_count(api, rates_only):
    rates_only(login_account_failures="2/h")
    UserFactory(username="jane")

    for _ in range(4):
        assert login(api, "jane", PASSWORD, "198.51.100.7").status_code == 200
    assert login(api, "jane", "wrong", "198.51.100.7").status_code == 401


def test_parallel_guesses_cannot_all_pass_the_limit(transactional_db, rates_only, settings):
    # A real password hash per guess, so that the guesses overlap while each is being checked.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    rates_only(login_account_failures="3/h")
    User.objects.create(username="jane", email="jane@example.com", auth_status="done", password=make_password(PASSWORD))
    outcomes = in_parallel(
        10,
        lambda _: outcome(
            lambda: services.login_with_password(
                request=None,
                user_input="jane",
                password="wrong",
                client_address="203.0.113.9",
                client=ClientInfo("", ""),
            ),
            checked=services.InvalidCredentials,
            limited=RateLimited,
        ),
    )

    assert sorted(outcomes) == ["checked"] * 3 + ["limited"] * 7


def test_the_admin_log_in_is_rate_limited(db, rates_only):
    rates_only(admin_login_ip="3/h")
    User.objects.create_superuser(username="root", email="root@example.com", password="x" * 20)
    client = Client()

    answers = [
        client.post("/admin/login/", {"username": "root", "password": "wrong"}, REMOTE_ADDR="203.0.113.9").status_code
        for _ in range(4)
    ]

    assert answers == [200, 200, 200, 429]  # the form again three times, then refused
    refused = client.post("/admin/login/", {"username": "root", "password": "x" * 20}, REMOTE_ADDR="203.0.113.9")
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) > 0
    # Elsewhere, the right password still opens the admin.
    assert (
        client.post("/admin/login/", {"username": "root", "password": "x" * 20}, REMOTE_ADDR="198.51.100.7").status_code
        == 302
    )


def test_createsuperuser_stores_the_address_as_login_reads_it(api, db):
    User.objects.create_superuser(username="boss", email="Boss.Lady@Example.com", password="a long pass phrase")

    assert User.objects.get(username="boss").email == "boss.lady@example.com"
    response = login(api, "Boss.Lady@Example.com", "a long pass phrase", "198.51.100.7")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "look_alike",
    ["ex\u0131st3p", "exi\u017ft3p", "exist3p", "\uff25\uff38\uff29\uff33\uff34\uff13p"],
    ids=["dotless-i", "long-s", "lower-case", "full-width"],
)
def test_look_alike_spellings_of_a_name_share_its_failed_login_limit(api, rates_only, look_alike):
    rates_only(login_account_failures="3/h")
    UserFactory(username="EXIST3p")
    for _ in range(3):
        assert login(api, "EXIST3p", "wrong", "198.51.100.7").status_code == 401

    assert login(api, look_alike, "wrong", "198.51.100.7").status_code == 429
    assert login(api, look_alike, PASSWORD, "198.51.100.7").status_code == 429


def test_spellings_of_one_address_share_its_failed_login_limit(api, rates_only):
    rates_only(login_account_failures="2/h")
    UserFactory(username="casep", email="casep@example.com")
    for _ in range(2):
        assert login(api, "casep@example.com", "wrong", "198.51.100.7").status_code == 401

    response = login(api, "casep@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "wrong", "198.51.100.7")

    assert response.status_code == 429
