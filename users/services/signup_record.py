"""The one write of a sign-up: its pending account (made, or taken up again), or the decoy of a
finished one, and the record of the message it sends, if any.

On PostgreSQL it is one statement, so a sign-up costs one database round trip: an upsert of the
account (a new row, or a renewed abandonment clock for a pending one), an upsert of the decoy when
the account is finished (users/decoys.py), and the delivery record, chained with data-modifying
CTEs. Elsewhere (SQLite, for the embedded default) the same writes are made one by one.
"""

import secrets
import uuid
from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from notifications.models import Delivery
from project.masking import mask_recipient
from users.decoys import Subject, signup_subject
from users.identifiers import Identifier
from users.models import AuthStatus, AuthType, SignupDecoy, User

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
    language: str  # of the account: the sign-up's for a pending one, its own for a finished one


def signup_record(*, identifier: Identifier, delivery: DeliveryDraft | None, language: str) -> SignupRecord:
    """Write a sign-up of ``identifier`` in ``language`` and, with ``delivery``, the record of its
    message. A pending account takes the language of its latest sign-up; a finished one keeps its own."""
    if connection.vendor == "postgresql":
        return _signup_record_in_one_statement(identifier, delivery, language)
    return _signup_record_step_by_step(identifier, delivery, language)


def _lookup(identifier: Identifier) -> dict[str, str]:
    return {"email" if identifier.is_email else "phone_number": identifier.value}


def _new_account(identifier: Identifier, language: str) -> User:
    user = User(auth_type=identifier.kind, auth_status=AuthStatus.NEW, language=language, **_lookup(identifier))
    user.set_unusable_password()
    return user


def _pending_account(identifier: Identifier, language: str) -> User:
    user = User.objects.filter(**_lookup(identifier)).first()
    if user is not None:
        if user.auth_status != AuthStatus.DONE:
            # A pending sign-up taken up again starts its abandonment clock again, in its language.
            User.objects.filter(pk=user.pk).update(date_joined=timezone.now(), language=language)
            user.language = language
        return user
    try:
        with transaction.atomic():
            user = _new_account(identifier, language)
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


def _signup_record_step_by_step(identifier: Identifier, draft: DeliveryDraft | None, language: str) -> SignupRecord:
    account = _pending_account(identifier, language)
    subject = signup_subject(account=account, identifier=identifier)
    if draft is not None:
        _delivery(draft, subject).save(force_insert=True)
    return SignupRecord(subject, draft, account.language)


@dataclass(frozen=True)
class _Statement:
    """The sign-up statement for one kind of identifier, with or without a delivery record: its
    SQL, and where each value goes among its parameters (the rest are the columns' defaults,
    prepared once)."""

    sql: str
    params: list  # the prepared defaults, with None where a request's own value goes
    slots: dict[str, int]  # request value name -> position in params


def _row(instance: Model) -> tuple[list[str], list]:
    """The quoted columns and database values of a new row for ``instance``, as save() would write
    them (defaults and auto_now_add filled in)."""
    fields = instance._meta.concrete_fields
    columns = [connection.ops.quote_name(field.column) for field in fields]
    values = [field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields]
    return columns, values


# The columns each request fills itself; every other column takes its model default.
_USER_VALUES = ("id", "password", "date_joined", "email", "phone_number", "auth_type", "language")
_DECOY_VALUES = ("id", "identifier_kind", "identifier", "renewed_at")
_DELIVERY_VALUES = ("id", "channel", "recipient_masked", "created_at", "updated_at")
_statements: dict[tuple[str, bool], _Statement] = {}


def _statement(kind: str, with_delivery: bool) -> _Statement:
    if (kind, with_delivery) not in _statements:
        _statements[kind, with_delivery] = _statement_built(kind, with_delivery)
    return _statements[kind, with_delivery]


def _statement_built(kind: str, with_delivery: bool) -> _Statement:
    quote = connection.ops.quote_name
    is_email = kind == AuthType.EMAIL
    user_table, decoy_table = quote(User._meta.db_table), quote(SignupDecoy._meta.db_table)
    identifier_column = quote(User._meta.get_field("email" if is_email else "phone_number").column)
    params, slots = [], {}

    def placeholders(model: type[Model], instance: Model, own: tuple[str, ...], prefix: str, skip=()) -> list[str]:
        """``%s`` for each column of ``instance``'s row but ``skip`` (given as SQL instead), taking
        the prepared default as the parameter, or leaving a slot for the request's own value."""
        columns, values = _row(instance)
        sql = []
        for field, _column, value in zip(model._meta.concrete_fields, columns, values, strict=True):
            if field.attname in skip:
                sql.append(skip[field.attname])
                continue
            if field.attname in own:
                slots[f"{prefix}{field.attname}"] = len(params)
            params.append(value)
            sql.append("%s")
        return columns, sql

    user_columns, user_values = placeholders(
        User, User(auth_type=kind, auth_status=AuthStatus.NEW), _USER_VALUES, "user_"
    )
    params.extend([AuthStatus.DONE.value] * 2)  # the CASEs of date_joined and language
    decoy_columns, decoy_values = placeholders(
        SignupDecoy,
        SignupDecoy(owner_id=uuid.uuid4(), identifier_kind=kind, identifier=""),
        _DECOY_VALUES,
        "decoy_",
        skip={"owner_id": quote("id")},
    )
    params.extend([AuthStatus.DONE.value] * 3 + [PURPOSE_SIGNUP_NOTICE, PURPOSE_SIGNUP])
    delivery_sql = ""
    if with_delivery:
        delivery = Delivery(id=uuid.uuid4(), subject=uuid.uuid4(), channel="email", recipient_masked="", purpose="")
        columns, values = placeholders(
            Delivery,
            delivery,
            _DELIVERY_VALUES,
            "delivery_",
            skip={"subject": "subject.id", "purpose": "subject.purpose"},
        )
        delivery_sql = (
            f", delivery AS (INSERT INTO {quote(Delivery._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values)} FROM subject)"
        )
    status, date_joined, renewed = quote("auth_status"), quote("date_joined"), quote("renewed_at")
    language = quote("language")
    owner = quote(SignupDecoy._meta.get_field("owner").column)
    sql = (
        f"WITH account AS ("  # noqa: S608 - names come from the models, values go as parameters
        f"INSERT INTO {user_table} ({', '.join(user_columns)}) VALUES ({', '.join(user_values)}) "
        f"ON CONFLICT ({identifier_column}) DO UPDATE SET {date_joined} = CASE "
        f"WHEN {user_table}.{status} = %s THEN {user_table}.{date_joined} "
        f"ELSE EXCLUDED.{date_joined} END, {language} = CASE "
        f"WHEN {user_table}.{status} = %s THEN {user_table}.{language} "
        f"ELSE EXCLUDED.{language} END RETURNING {quote('id')}, {status}, {language}"
        f"), decoy AS ("
        f"INSERT INTO {decoy_table} ({', '.join(decoy_columns)}) SELECT {', '.join(decoy_values)} FROM account "
        f"WHERE {status} = %s ON CONFLICT ({owner}, {quote('identifier')}) "
        f"DO UPDATE SET {renewed} = EXCLUDED.{renewed} RETURNING {quote('id')}"
        f"), subject AS ("
        f"SELECT COALESCE((SELECT id FROM decoy), (SELECT id FROM account)) AS id, "
        f"(SELECT {status} FROM account) = %s AS decoy, "
        f"CASE WHEN (SELECT {status} FROM account) = %s THEN %s ELSE %s END AS purpose, "
        f"(SELECT {language} FROM account) AS language"
        f"){delivery_sql} SELECT id, decoy, language FROM subject"
    )
    return _Statement(sql, params, slots)


def _signup_record_in_one_statement(identifier: Identifier, draft: DeliveryDraft | None, language: str) -> SignupRecord:
    statement = _statement(identifier.kind, draft is not None)
    now = timezone.now()
    params = list(statement.params)
    slot = statement.slots
    own = {
        "user_id": uuid.uuid4(),
        # An unusable password, as set_unusable_password() makes them ("!" and a random suffix).
        "user_password": f"{UNUSABLE_PASSWORD_PREFIX}{secrets.token_urlsafe(30)}",
        "user_date_joined": now,
        "user_email": identifier.value if identifier.is_email else None,
        "user_phone_number": None if identifier.is_email else identifier.value,
        "user_auth_type": identifier.kind,
        "user_language": language,
        "decoy_id": uuid.uuid4(),
        "decoy_identifier_kind": identifier.kind,
        "decoy_identifier": identifier.value,
        "decoy_renewed_at": now,
    }
    if draft is not None:
        own.update(
            delivery_id=draft.id,
            delivery_channel=draft.channel,
            delivery_recipient_masked=mask_recipient(draft.recipient)[:255],
            delivery_created_at=now,
            delivery_updated_at=now,
        )
    for name, value in own.items():
        params[slot[name]] = value
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        subject_id, decoy, account_language = cursor.fetchone()
    return SignupRecord(Subject(subject_id, decoy=decoy), draft, account_language)
