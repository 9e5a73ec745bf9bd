"""Races on canonical identity, against a real threaded server and PostgreSQL: look-alike usernames
claimed at the same instant, and two spellings of one address signed up at the same instant, end
as one account, because the database holds the uniqueness of the canonical forms."""

import pytest
import requests

from tests.factories import PASSWORD, PendingUserFactory
from tests.support.parallel import in_parallel
from users.models import AuthStatus, User
from users.tokens import STAGE_VERIFIED, SignupToken

# U+017F long s, U+0131 dotless i, U+FF53 full-width s: every name has the key "sisip".
LOOK_ALIKES = ["\u017fi\u017fip", "s\u0131\u017fip", "si\u017fip", "sisip", "SI\u017fIP", "\uff53i\u017f\u0131p"]
FULL_WIDTH_EXAMPLE = "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45"


@pytest.fixture
def no_rate_limits(settings):
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "")


def test_look_alike_usernames_claimed_at_once_give_one_account(live_server, transactional_db, no_rate_limits):
    tokens = [
        str(
            SignupToken.for_subject(
                PendingUserFactory(email=f"racer{n}@example.com", auth_status=AuthStatus.CODE_VERIFIED).id,
                stage=STAGE_VERIFIED,
            )
        )
        for n in range(len(LOOK_ALIKES))
    ]

    def claim(n: int) -> tuple[int, dict]:
        body = {"username": LOOK_ALIKES[n], "password": PASSWORD, "confirm_password": PASSWORD}
        response = requests.patch(
            f"{live_server.url}/user/change-user-info/",
            json=body,
            headers={"Authorization": f"Bearer {tokens[n]}"},
            timeout=30,
        )
        return response.status_code, response.json()

    results = in_parallel(len(LOOK_ALIKES), claim)

    assert sorted(status for status, _ in results) == [200] + [400] * (len(LOOK_ALIKES) - 1), results
    for status, body in results:
        if status == 400:
            assert body["code"] == "invalid", body
            assert body["fields"]["username"], body
    assert User.objects.filter(username_key="sisip").count() == 1
    assert User.objects.filter(auth_status=AuthStatus.DONE).count() == 1


def test_two_spellings_of_one_address_signed_up_at_once_give_one_account(live_server, transactional_db, no_rate_limits):
    spellings = ["casep@example.com", f"casep@{FULL_WIDTH_EXAMPLE}.com"] * 4

    def sign_up(n: int) -> int:
        response = requests.post(
            f"{live_server.url}/user/signup/", json={"email_phone_number": spellings[n]}, timeout=30
        )
        return response.status_code

    statuses = in_parallel(len(spellings), sign_up)

    assert statuses == [201] * len(spellings)
    assert list(User.objects.values_list("email", flat=True)) == ["casep@example.com"]
