"""users/migrations/0002_username_key.py: existing accounts get their username key and canonical
address, and accounts the new rules would merge stop the migration instead of being merged."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from users.models import User

BEFORE = [("users", "0001_initial")]
AFTER = [("users", "0002_username_key")]


@pytest.fixture
def at_0001(transactional_db):
    """The schema before the canonical key, and the historical User model to fill it; the latest
    schema is restored afterwards whatever happens."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    executor.loader.build_graph()
    yield executor.loader.project_state(BEFORE[0]).apps.get_model("users", "User")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


def migrate_forward():
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)


def test_existing_accounts_get_their_key_and_canonical_address(at_0001):
    OldUser = at_0001
    OldUser.objects.create(username="EXIST3p", email="jane@b\u00fccher.example")
    OldUser.objects.create(username="\uff4a\uff4f\uff48\uff4e", email="john@example.com")
    OldUser.objects.create(username=None, email="pending@example.com")

    migrate_forward()

    rows = set(User.objects.values_list("username", "username_key", "email"))
    assert rows == {
        ("EXIST3p", "exist3p", "jane@xn--bcher-kva.example"),
        ("john", "john", "john@example.com"),
        (None, None, "pending@example.com"),
    }


@pytest.mark.parametrize(
    "accounts",
    [
        [{"username": "\u017fi\u017fip"}, {"username": "s\u0131\u017fip"}],
        [{"email": "casep@example.com"}, {"email": "casep@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com"}],
        [{"email": "jane@\u2603.com"}],
        [{"username": "\uaf66" * 86}],  # 86 Hangul syllables: a key of 602 characters
    ],
    ids=["look-alike-usernames", "two-spellings-of-one-address", "address-without-canonical-form", "key-too-long"],
)
def test_accounts_the_rules_would_merge_stop_the_migration_with_their_ids(at_0001, accounts):
    OldUser = at_0001
    ids = [str(OldUser.objects.create(**fields).pk) for fields in accounts]

    with pytest.raises(RuntimeError) as refused:
        migrate_forward()

    assert all(pk in str(refused.value) for pk in ids)
    OldUser.objects.all().delete()  # so that the schema can be brought back up to date
