"""users/models.py: save() keeps the identity fields canonical, and the database holds the
uniqueness of the canonical username key."""

import pytest
from django.db import IntegrityError, transaction

from tests.factories import UserFactory
from users.canonical import username_key
from users.models import User


def test_save_stores_the_username_nfkc_and_its_key(db):
    user = User.objects.create(username="\uff2a\uff41\uff4e\uff45")  # full-width

    user.refresh_from_db()
    assert (user.username, user.username_key) == ("Jane", "jane")


def test_save_with_update_fields_keeps_the_key_in_step(db):
    user = UserFactory(username="jane")

    user.username = "\u0430dminp"  # Cyrillic a
    user.save(update_fields=["username"])

    user.refresh_from_db()
    assert user.username_key == username_key("adminp") == "adrninp"  # TR39: "m" looks like "rn"


def test_save_stores_the_canonical_address(db):
    user = User.objects.create(email="CaseP@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com")

    user.refresh_from_db()
    assert user.email == "casep@example.com"


def test_save_refuses_an_address_without_a_canonical_form(db):
    with pytest.raises(ValueError, match="canonical"):
        User.objects.create(email="jane@\u2603.com")


@pytest.mark.parametrize(
    ("first", "second"),
    [("\u017fi\u017fip", "s\u0131\u017fip"), ("adminp", "\u0430dminp"), ("EXIST3p", "ex\u0131st3p")],
)
def test_the_database_refuses_a_second_username_with_the_same_key(db, first, second):
    User.objects.create(username=first)

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username=second)


def test_the_database_refuses_two_spellings_of_one_address(db):
    User.objects.create(email="casep@example.com")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="casep@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com")


def test_the_database_refuses_a_username_without_its_key(db):
    user = UserFactory(username="jane")

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=user.pk).update(username_key=None)


def test_natural_key_lookup_goes_by_the_key(db):
    user = UserFactory(username="adminp")
    UserFactory(username=None, email="pending@example.com")

    assert User.objects.get_by_natural_key("\u0430DMINP") == user
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key("")
    with pytest.raises(User.DoesNotExist):
        User.objects.get_by_natural_key(None)
