"""Decoy sign-ups: what stands for a finished account when someone signs up with its identifier.

A decoy is a random id that matches no account, so its token answers like a pending sign-up's
while nothing can be completed with it. It is kept per (account, identifier typed), in the
database like a pending account, renewed by every new sign-up as a pending account is, and
removed with the abandoned sign-ups: repeated sign-ups look alike in both cases, for as long as
either lasts, and two identifiers of one account never share a decoy. The decoy remembers the
identifier typed, so that a resend reaches the same address or number as the sign-up did (with a
notice, never a code).
"""

import uuid

from django.db import connection
from django.utils import timezone

from users.identifiers import Identifier
from users.models import SignupDecoy


def decoy_for(*, owner_pk: uuid.UUID, identifier: Identifier) -> uuid.UUID:
    """The decoy of this account and identifier, made or renewed in one statement (an upsert that
    returns the id of the row it made or renewed)."""
    meta = SignupDecoy._meta
    values = {
        "id": uuid.uuid4(),
        "owner_id": owner_pk,
        "identifier_kind": identifier.kind,
        "identifier": identifier.value,
        "renewed_at": timezone.now(),
    }
    columns = [meta.get_field(name).column for name in values]
    params = [meta.get_field(name).get_db_prep_value(value, connection) for name, value in values.items()]
    quote = connection.ops.quote_name
    # Names come from the model, values go as parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(map(quote, columns))}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote(meta.get_field('owner').column)}, {quote(meta.get_field('identifier').column)}) "
        f"DO UPDATE SET {quote('renewed_at')} = excluded.{quote('renewed_at')} RETURNING {quote(meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (decoy,) = cursor.fetchone()
    return decoy if isinstance(decoy, uuid.UUID) else uuid.UUID(decoy)


def decoy_target(decoy: uuid.UUID) -> Identifier | None:
    """The identifier a decoy was made for, or None if ``decoy`` is not (or no longer) a decoy."""
    row = SignupDecoy.objects.filter(pk=decoy).values_list("identifier_kind", "identifier").first()
    return Identifier(*row) if row else None


def decoys_remove_older_than(cutoff) -> int:
    """Remove decoys not renewed since ``cutoff`` (with the abandoned sign-ups); returns how many."""
    deleted, _ = SignupDecoy.objects.filter(renewed_at__lt=cutoff).delete()
    return deleted
