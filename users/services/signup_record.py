"""The one write of a sign-up: its pending account (made, or taken up again), or the decoy of a
finished one, and the record of the message it sends, if any.

On PostgreSQL it is one statement, so a sign-up costs one database round trip: an upsert of the
account (a new row, or a renewed abandonment clock for a pending one), an upsert of the decoy when
the account is finished (users/decoys.py), and the delivery record, chained with data-modifying
CTEs. Elsewhere (SQLite, for the embedded default) the same writes are made one by one.
"""

import uuid
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from notifications.models import Delivery
from project.masking import mask_recipient
from users.decoys import Subject, signup_subject
from users.identifiers import Identifier
from users.models import AuthStatus, SignupDecoy, User

PURPOSE_SIGNUP = "signup"
PURPOSE_SIGNUP_NOTICE = "signup_notice"


@dataclass(frozen=True)
class DeliveryDraft:
    """The record of the message a sign-up sends: a code to a new sign-up, a notice to a decoy's
    owner."""

    id: uuid.UUID
    channel: str
    recipient: str


@dataclass(frozen=True)
class SignupRecord:
    subject: Subject
    delivery: DeliveryDraft | None


def signup_record(*, identifier: Identifier, delivery: DeliveryDraft | None) -> SignupRecord:
    """Write a sign-up of ``identifier`` and, with ``delivery``, the record of its message."""
    if connection.vendor == "postgresql":
        return _signup_record_in_one_statement(identifier, delivery)
    return _signup_record_step_by_step(identifier, delivery)


def _lookup(identifier: Identifier) -> dict[str, str]:
    return {"email" if identifier.is_email else "phone_number": identifier.value}


def _new_account(identifier: Identifier) -> User:
    user = User(auth_type=identifier.kind, auth_status=AuthStatus.NEW, **_lookup(identifier))
    user.set_unusable_password()
    return user


def _pending_account(identifier: Identifier) -> User:
    user = User.objects.filter(**_lookup(identifier)).first()
    if user is not None:
        if user.auth_status != AuthStatus.DONE:
            # A pending sign-up taken up again starts its abandonment clock again.
            User.objects.filter(pk=user.pk).update(date_joined=timezone.now())
        return user
    try:
        with transaction.atomic():
            user = _new_account(identifier)
            user.save(force_insert=True)
            return user
    except IntegrityError:
        # A parallel sign-up with the same identifier created it first.
        return User.objects.get(**_lookup(identifier))


def _delivery(draft: DeliveryDraft, subject: Subject) -> Delivery:
    return Delivery(
        id=draft.id,
        subject=subject.id,
        channel=draft.channel,
        recipient_masked=mask_recipient(draft.recipient)[:255],
        purpose=PURPOSE_SIGNUP_NOTICE if subject.decoy else PURPOSE_SIGNUP,
    )


def _signup_record_step_by_step(identifier: Identifier, draft: DeliveryDraft | None) -> SignupRecord:
    subject = signup_subject(account=_pending_account(identifier), identifier=identifier)
    if draft is not None:
        _delivery(draft, subject).save(force_insert=True)
    return SignupRecord(subject, draft)


def _row(instance: Model) -> tuple[list[str], list]:
    """The quoted columns and database values of a new row for ``instance``, as save() would write
    them (defaults and auto_now_add filled in)."""
    fields = instance._meta.concrete_fields
    columns = [connection.ops.quote_name(field.column) for field in fields]
    values = [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields]
    return columns, values


def _signup_record_in_one_statement(identifier: Identifier, draft: DeliveryDraft | None) -> SignupRecord:
    quote = connection.ops.quote_name
    user_table, decoy_table = quote(User._meta.db_table), quote(SignupDecoy._meta.db_table)
    identifier_column = quote(User._meta.get_field("email" if identifier.is_email else "phone_number").column)
    user_columns, user_values = _row(_new_account(identifier))
    decoy_columns, decoy_values = _row(
        SignupDecoy(owner_id=uuid.uuid4(), identifier_kind=identifier.kind, identifier=identifier.value)
    )
    owner = quote(SignupDecoy._meta.get_field("owner").column)
    decoy_select = ", ".join(f"{quote('id')} AS {owner}" if c == owner else "%s" for c in decoy_columns)
    decoy_params = [v for c, v in zip(decoy_columns, decoy_values, strict=True) if c != owner]
    delivery_sql, delivery_params = "", []
    if draft is not None:
        columns, values = _row(_delivery(draft, Subject(uuid.uuid4(), decoy=False)))
        computed = {quote("subject"): "subject.id", quote("purpose"): "subject.purpose"}
        select = ", ".join(computed.get(c, "%s") for c in columns)
        delivery_params = [v for c, v in zip(columns, values, strict=True) if c not in computed]
        delivery_sql = (
            f", delivery AS (INSERT INTO {quote(Delivery._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {select} FROM subject)"
        )
    status, done = quote("auth_status"), AuthStatus.DONE.value
    renewed = quote("renewed_at")
    # Names come from the models, values go as parameters.
    sql = (
        f"WITH account AS ("  # noqa: S608
        f"INSERT INTO {user_table} ({', '.join(user_columns)}) VALUES ({', '.join(['%s'] * len(user_columns))}) "
        f"ON CONFLICT ({identifier_column}) DO UPDATE SET {quote('date_joined')} = CASE "
        f"WHEN {user_table}.{status} = %s THEN {user_table}.{quote('date_joined')} "
        f"ELSE EXCLUDED.{quote('date_joined')} END RETURNING {quote('id')}, {status}"
        f"), decoy AS ("
        f"INSERT INTO {decoy_table} ({', '.join(decoy_columns)}) SELECT {decoy_select} FROM account "
        f"WHERE {status} = %s ON CONFLICT ({owner}, {quote('identifier')}) "
        f"DO UPDATE SET {renewed} = EXCLUDED.{renewed} RETURNING {quote('id')}"
        f"), subject AS ("
        f"SELECT COALESCE((SELECT id FROM decoy), (SELECT id FROM account)) AS id, "
        f"(SELECT {status} FROM account) = %s AS decoy, "
        f"CASE WHEN (SELECT {status} FROM account) = %s THEN %s ELSE %s END AS purpose"
        f"){delivery_sql} SELECT id, decoy FROM subject"
    )
    params = [
        *user_values,
        done,
        *decoy_params,
        done,
        done,
        done,
        PURPOSE_SIGNUP_NOTICE,
        PURPOSE_SIGNUP,
        *delivery_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        subject_id, decoy = cursor.fetchone()
    return SignupRecord(Subject(subject_id, decoy=decoy), draft)
