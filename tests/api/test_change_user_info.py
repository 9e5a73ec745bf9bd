"""PATCH /user/change-user-info/: complete the profile after verification, change it later."""

import pytest

from tests.api.conftest import EMAIL, PHONE, PROFILE_KEYS, assert_error
from tests.factories import PASSWORD, UserFactory
from users.models import AuthStatus, User

NEW_PASSWORD = "Purple-Otter-Lantern-7"


def complete(**extra) -> dict:
    return {"username": "jane", "password": PASSWORD, "confirm_password": PASSWORD, **extra}


def test_first_completion_finishes_the_sign_up(verified, change_info):
    token = verified()

    response = change_info(
        token, **complete(first_name="Jane", bio="Writes tests.", gender="female", username="jane_doe")
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == PROFILE_KEYS
    assert body["username"] == "jane_doe"
    assert body["first_name"] == "Jane"
    assert body["bio"] == "Writes tests."
    assert body["gender"] == "female"
    assert body["email"] == EMAIL
    assert body["auth_status"] == "done"
    user = User.objects.get()
    assert user.auth_status == AuthStatus.DONE
    assert user.check_password(PASSWORD)


def test_completion_answer_has_no_secrets(verified, change_info):
    response = change_info(verified(), **complete())

    body = response.json()
    assert not {"password", "confirm_password", "old_password"} & set(body)
    assert PASSWORD not in response.content.decode()
    assert User.objects.get().password not in response.content.decode()


def test_fistname_is_accepted_as_first_name(verified, change_info):
    response = change_info(verified(), **complete(fistname="jone"))

    assert response.status_code == 200, response.content
    assert response.json()["first_name"] == "jone"
    assert User.objects.get().first_name == "jone"


def test_first_name_wins_over_fistname(verified, change_info):
    response = change_info(verified(), **complete(first_name="Jane", fistname="jone"))

    assert response.json()["first_name"] == "Jane"


@pytest.mark.parametrize(("sent", "stored"), [("men", "male"), ("women", "female"), ("Other", "other")])
def test_seed_gender_words_are_read(verified, change_info, sent, stored):
    response = change_info(verified(), **complete(gender=sent))

    assert response.status_code == 200, response.content
    assert User.objects.get().gender == stored


def test_unknown_gender_is_refused(verified, change_info):
    assert_error(change_info(verified(), **complete(gender="robot")), 400, "invalid", fields=("gender",))


def test_phone_sign_up_completes_the_same_way(settings, verified, change_info):
    settings.DEFAULT_PHONE_REGION = "US"

    response = change_info(verified("+1 202-555-0143"), **complete())

    assert response.status_code == 200, response.content
    assert response.json()["phone_number"] == PHONE
    assert response.json()["auth_type"] == "via_phone"


def test_change_user_info_before_verify_is_forbidden(signup, change_info):
    response = change_info(signup(), **complete())

    assert_error(response, 403, "verification_required")
    user = User.objects.get()
    assert user.username is None
    assert user.auth_status == AuthStatus.NEW


def test_the_sign_up_token_of_the_attempt_that_verified_completes_the_profile(signup, verify, email_code, change_info):
    new_token = signup()
    assert verify(new_token, email_code()).status_code == 200

    response = change_info(new_token, **complete())

    assert response.status_code == 200, response.content
    assert User.objects.get().auth_status == AuthStatus.DONE


def test_change_user_info_requires_a_token(api):
    assert_error(api.bearer(None).patch("/user/change-user-info/", complete()), 401, "not_authenticated")


def test_first_completion_requires_a_password(verified, change_info):
    response = change_info(verified(), username="jane")

    assert_error(response, 400, "invalid", fields=("password",))
    assert User.objects.get().auth_status == AuthStatus.CODE_VERIFIED


def test_first_completion_requires_a_username(verified, change_info):
    response = change_info(verified(), password=PASSWORD, confirm_password=PASSWORD)

    assert_error(response, 400, "invalid", fields=("username",))
    assert User.objects.get().auth_status == AuthStatus.CODE_VERIFIED


def test_password_confirmation_must_match(verified, change_info):
    response = change_info(verified(), **complete(confirm_password=PASSWORD + "x"))

    assert_error(response, 400, "invalid", fields=("confirm_password",))
    assert User.objects.get().auth_status == AuthStatus.CODE_VERIFIED


@pytest.mark.parametrize(
    "weak",
    ["password", "12345678", "Sh0rt!", "jane_doe_writer"],
    ids=["common", "numeric", "too-short", "like-username"],
)
def test_weak_password_is_refused_by_the_validators(verified, change_info, weak):
    response = change_info(verified(), username="jane_doe_writer", password=weak, confirm_password=weak)

    assert_error(response, 400, "invalid", fields=("password",))
    assert User.objects.get().auth_status == AuthStatus.CODE_VERIFIED


def test_password_longer_than_the_limit_is_refused(settings, verified, change_info):
    long = "Aa1!" * (settings.PASSWORD_MAX_LENGTH // 4 + 1)

    response = change_info(verified(), **complete(password=long, confirm_password=long))

    assert_error(response, 400, "invalid", fields=("password",))


@pytest.mark.parametrize("taken", ["jane", "JANE", "Jane"])
def test_username_taken_regardless_of_case_is_refused(verified, change_info, taken):
    UserFactory(username="Jane", email="first.jane@example.com")

    response = change_info(verified(), **complete(username=taken))

    assert_error(response, 400, "invalid", fields=("username",))
    assert User.objects.get(email=EMAIL).auth_status == AuthStatus.CODE_VERIFIED


@pytest.mark.parametrize("bad", ["jane doe", "jane/doe", "x" * 151])
def test_invalid_username_is_refused(verified, change_info, bad):
    assert_error(change_info(verified(), **complete(username=bad)), 400, "invalid", fields=("username",))


def test_signup_token_is_refused_after_completion(verified, change_info):
    token = verified()
    assert change_info(token, **complete()).status_code == 200

    response = change_info(token, bio="changed by a leaked sign-up token")

    # Refused like a decoy's token, so that a stranger holding one cannot tell when it finished.
    assert_error(response, 403, "verification_required")
    assert User.objects.get().bio == ""


def test_access_token_changes_the_profile_without_a_password(user, tokens, change_info):
    response = change_info(tokens["access"], bio="New bio", fistname="Janet")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.bio == "New bio"
    assert user.first_name == "Janet"
    assert user.auth_status == AuthStatus.DONE
    assert user.check_password(PASSWORD)


def test_later_password_change_requires_old_password(user, tokens, change_info):
    response = change_info(tokens["access"], password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)

    assert_error(response, 400, "invalid", fields=("old_password",))
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_later_password_change_refuses_a_wrong_old_password(user, tokens, change_info):
    response = change_info(
        tokens["access"], old_password="not-my-password", password=NEW_PASSWORD, confirm_password=NEW_PASSWORD
    )

    assert_error(response, 400, "invalid", fields=("old_password",))
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_later_password_change_with_old_password_works(api, user, tokens, change_info, login):
    response = change_info(
        tokens["access"], old_password=PASSWORD, password=NEW_PASSWORD, confirm_password=NEW_PASSWORD
    )

    assert response.status_code == 200, response.content
    assert login("jane", NEW_PASSWORD)["access"]
    old = api.post("/user/login/", {"user_input": "jane", "password": PASSWORD})
    assert_error(old, 401, "invalid_credentials")


def test_password_change_revokes_earlier_sessions(api, user, tokens, change_info):
    change_info(tokens["access"], old_password=PASSWORD, password=NEW_PASSWORD, confirm_password=NEW_PASSWORD)

    refreshed = api.bearer(None).post("/user/login-refresh/", {"refresh": tokens["refresh"]})
    reused_access = change_info(tokens["access"], bio="still me?")

    assert_error(refreshed, 401, "token_not_valid")
    assert reused_access.status_code == 401
    assert User.objects.get().bio == ""


def test_access_token_can_rename_the_user_to_a_free_username(user, tokens, change_info, login):
    response = change_info(tokens["access"], username="janet")

    assert response.status_code == 200, response.content
    assert login("janet")["access"]


def test_access_token_cannot_take_a_username_in_use(user, tokens, change_info):
    UserFactory(username="Taken")

    assert_error(change_info(tokens["access"], username="taken"), 400, "invalid", fields=("username",))


def test_finished_account_keeps_its_username_when_only_other_fields_change(user, tokens, change_info):
    response = change_info(tokens["access"], gender="men")

    assert response.json()["username"] == "jane"
    assert response.json()["gender"] == "male"


def test_refresh_token_is_not_accepted_as_bearer(user, tokens, change_info):
    assert_error(change_info(tokens["refresh"], bio="nope"), 401, "token_not_valid")
    user.refresh_from_db()
    assert user.bio == ""


@pytest.mark.parametrize("username", ["\ufdfa", "\ufdfa" * 9, "\uff4a\uff41\uff4e\uff45\u3000doe"])
def test_username_is_normalized_before_it_is_validated(verified, change_info, username):
    # NFKC can expand one character into many (U+FDFA is 18, with spaces): the normalized name is
    # the one that must fit the length and the allowed characters.
    response = change_info(verified(), **complete(username=username))

    assert_error(response, 400, "invalid", fields=("username",))


def test_full_width_letters_are_the_same_username(verified, change_info):
    UserFactory(username="jane")

    response = change_info(verified("other@example.com"), **complete(username="\uff4a\uff41\uff4e\uff45"))

    assert_error(response, 400, "invalid", fields=("username",))


# Look-alike letters are written as escapes: U+0131 dotless i, U+017F long s, U+0430 Cyrillic a,
# U+03BF Greek omicron.
@pytest.mark.parametrize(
    ("existing", "wanted"),
    [
        ("adminp", "\u0430dminp"),
        ("\u0430dminp", "adminp"),
        ("\u017fi\u017fip", "s\u0131\u017fip"),
        ("EXIST3p", "exi\u017ft3p"),
        ("google", "g\u03bf\u03bfgle"),
        ("strasse", "STRA\u00dfE"),
    ],
)
def test_a_username_that_looks_like_one_in_use_is_refused(verified, change_info, existing, wanted):
    UserFactory(username=existing)

    response = change_info(verified(), **complete(username=wanted))

    assert_error(response, 400, "invalid", fields=("username",))
    assert User.objects.get(email=EMAIL).auth_status == AuthStatus.CODE_VERIFIED


def test_renaming_to_a_look_alike_of_ones_own_name_is_allowed(user, tokens, change_info):
    response = change_info(tokens["access"], username="JANE")

    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert (user.username, user.username_key) == ("JANE", "jane")


def test_the_username_is_stored_nfkc_with_its_key(verified, change_info):
    response = change_info(verified(), **complete(username="\uff2a\uff41\uff4e\uff45_\u0130"))

    assert response.status_code == 200, response.content
    assert response.json()["username"] == "Jane_\u0130"
    user = User.objects.get()
    assert user.username == "Jane_\u0130"
    assert user.username_key == "jane_i\u0307"


def test_a_username_whose_key_is_too_long_is_refused(verified, change_info):
    # 86 Hangul syllables fit 150 characters, but their key is 602 characters.
    response = change_info(verified(), **complete(username="\uaf66" * 86))

    assert_error(response, 400, "invalid", fields=("username",))
