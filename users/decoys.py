"""Decoys: every decision about what stands in for an account that a request must not reveal.

A client that names an identifier (sign-up, password reset, login by code) gets the same answer
whether an account stands behind it or not: a token whose subject is either the account or a
decoy. A decoy's token goes through the same steps (a code is issued for it, a delivery queued),
but no code ever reaches anyone and nothing can be completed with it.

- **Sign-up decoys** stand for a finished account whose identifier is signed up again. They are
  rows (SignupDecoy), one per (account, identifier typed), kept and renewed exactly like a pending
  account and removed with the abandoned sign-ups, so repeated sign-ups look alike in both cases.
  A decoy remembers the identifier typed: its owner gets a notice, never a code, and a resend goes
  where the sign-up went.
- **Flow decoys** stand for an identifier without a finished account in the password-reset and
  login-code flows. Their id is derived from the identifier with a keyed hash, so repeated
  requests get the same subject, as a real account's do, while nothing links it to the identifier
  for anyone without SECRET_KEY.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils import timezone
from django.utils.crypto import salted_hmac

from project.batches import delete_in_batches
from users.identifiers import Identifier
from users.models import AuthStatus, SignupDecoy, User


@dataclass
class Decoy:
    """Stands in for an account in a code flow; it can never succeed. ``target`` is the
    identifier a sign-up decoy was made for (its notices go there), if any."""

    id: uuid.UUID
    target: Identifier | None = None
    language: str = "en"  # a sign-up decoy's: its owner's, for the notices it sends
    auth_status: str = AuthStatus.NEW
    is_authenticated: bool = True
    is_active: bool = True


@dataclass(frozen=True)
class Subject:
    """Whom a code flow's token stands for: an account, or a decoy."""

    id: uuid.UUID
    decoy: bool


def is_decoy(account: User | Decoy) -> bool:
    return isinstance(account, Decoy)


# --- sign-up -------------------------------------------------------------------------------------


def signup_decoy_for(*, owner_pk: uuid.UUID, identifier: Identifier) -> uuid.UUID:
    """The sign-up decoy of this account and identifier, made or renewed in one statement (an
    upsert that returns the id of the row it made or renewed)."""
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


def signup_subject(*, account: User, identifier: Identifier) -> Subject:
    """The subject of a sign-up of ``identifier``: its pending account, or, when the identifier
    belongs to a finished account, that account's sign-up decoy for it."""
    if account.auth_status == AuthStatus.DONE:
        return Subject(signup_decoy_for(owner_pk=account.pk, identifier=identifier), decoy=True)
    return Subject(account.pk, decoy=False)


def signup_account(subject: uuid.UUID) -> User | Decoy | None:
    """What a sign-up token's subject stands for: the pending account, a decoy (for a sign-up
    decoy, or once the account is finished or deactivated, so that a stranger holding the token
    does not learn when the owner finished), or None when the sign-up was removed."""
    user = User.objects.filter(pk=subject).first()
    if user is None:
        rows = SignupDecoy.objects.filter(pk=subject).values_list("identifier_kind", "identifier", "owner__language")
        row = rows.first()
        return Decoy(id=subject, target=Identifier(row[0], row[1]), language=row[2]) if row else None
    if not user.is_active or user.auth_status == AuthStatus.DONE:
        return Decoy(id=subject)
    return user


def decoys_remove_older_than(cutoff: datetime) -> int:
    """Remove sign-up decoys not renewed since ``cutoff`` (with the abandoned sign-ups)."""
    return delete_in_batches(SignupDecoy.objects.filter(renewed_at__lt=cutoff))


# --- password reset and login by code --------------------------------------------------------------


def flow_subject(*, purpose: str, identifier: Identifier, account: User | None) -> Subject:
    """The subject of a password-reset or login-code token: a finished, active account, or else
    the identifier's decoy for this purpose."""
    if account is not None and account.is_active and account.auth_status == AuthStatus.DONE:
        return Subject(account.pk, decoy=False)
    digest = salted_hmac("users.decoys.flow", f"{purpose}|{identifier.kind}|{identifier.value}", algorithm="sha256")
    return Subject(uuid.UUID(bytes=digest.digest()[:16], version=4), decoy=True)


def flow_account(subject: uuid.UUID) -> User | Decoy:
    """What a flow token's subject stands for: the finished, active account, or a decoy."""
    user = User.objects.filter(pk=subject, auth_status=AuthStatus.DONE, is_active=True).first()
    return user if user is not None else Decoy(id=subject)
