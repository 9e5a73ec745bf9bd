"""The three statements every session pays for, written once in SQL: reading the user of a live
session (every request with an access token), rotating a refresh token, ending a session at
logout. Each is one round trip, and none is compiled by the ORM on every request (building a
filtered query costs more than running it). Everything else about sessions goes through the ORM
(users/services/sessions.py).
"""

import uuid
from datetime import datetime
from functools import cache

from django.db import connection

from users.models import AuthStatus, Session, SessionEnd, User


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _prep(model: type, field: str, value: object) -> object:
    """``value`` as the database takes it for ``model.field`` (a UUID is text on SQLite, a time is
    naive UTC there), as the ORM would send it."""
    return model._meta.get_field(field).get_db_prep_value(value, connection)


@cache
def _user_fields() -> tuple[list[str], str]:
    fields = User._meta.concrete_fields
    return [field.attname for field in fields], ", ".join(f"u.{_quote(field.column)}" for field in fields)


@cache
def _live_user_sql() -> str:
    session, user = _quote(Session._meta.db_table), _quote(User._meta.db_table)
    _, columns = _user_fields()
    return (
        f"SELECT {columns} FROM {user} u JOIN {session} s ON s.{_quote('user_id')} = u.{_quote('id')} "  # noqa: S608
        f"WHERE u.{_quote('id')} = %s AND s.{_quote('id')} = %s AND s.{_quote('ended_at')} IS NULL "
        f"AND s.{_quote('expires_at')} > %s AND u.{_quote('auth_status')} = %s AND u.{_quote('is_active')} "
        "LIMIT 1"
    )


def live_session_user(*, user_id: uuid.UUID, session_id: uuid.UUID, now: datetime) -> User | None:
    """The finished, active user whose session ``session_id`` is live, in one query."""
    with connection.cursor() as cursor:
        params = [
            _prep(User, "id", user_id),
            _prep(Session, "id", session_id),
            _prep(Session, "expires_at", now),
            AuthStatus.DONE.value,
        ]
        cursor.execute(_live_user_sql(), params)
        row = cursor.fetchone()
    if row is None:
        return None
    names, _ = _user_fields()
    return User.from_db(connection.alias, names, row)


@cache
def _rotate_sql() -> str:
    session = _quote(Session._meta.db_table)
    generation = _quote("generation")
    return (
        f"UPDATE {session} SET {generation} = {generation} + 1, {_quote('rotated_at')} = %s, "  # noqa: S608
        f"{_quote('last_used_at')} = %s, {_quote('expires_at')} = %s "
        f"WHERE {_quote('id')} = %s AND {_quote('user_id')} = %s AND {generation} = %s "
        f"AND {_quote('ended_at')} IS NULL AND {_quote('expires_at')} > %s"
    )


def session_rotate(
    *, session_id: uuid.UUID, user_id: uuid.UUID, generation: int, now: datetime, expires_at: datetime
) -> bool:
    """Move a live session from ``generation`` to the next one (compare-and-swap on one row, so that
    PostgreSQL re-checks the generation on the locked row: of parallel rotations one wins)."""
    with connection.cursor() as cursor:
        at, expires = _prep(Session, "rotated_at", now), _prep(Session, "expires_at", expires_at)
        ids = [_prep(Session, "id", session_id), _prep(User, "id", user_id)]
        cursor.execute(_rotate_sql(), [at, at, expires, *ids, generation, at])
        return cursor.rowcount == 1


@cache
def _logout_sql() -> str:
    session, user = _quote(Session._meta.db_table), _quote(User._meta.db_table)
    return (
        f"UPDATE {session} SET {_quote('ended_at')} = %s, {_quote('end_reason')} = %s "  # noqa: S608
        f"WHERE {_quote('id')} = %s AND {_quote('user_id')} = %s AND {_quote('ended_at')} IS NULL "
        f"AND EXISTS (SELECT 1 FROM {session} c JOIN {user} u ON u.{_quote('id')} = c.{_quote('user_id')} "
        f"WHERE c.{_quote('id')} = %s AND c.{_quote('user_id')} = %s AND c.{_quote('ended_at')} IS NULL "
        f"AND c.{_quote('expires_at')} > %s AND u.{_quote('is_active')})"
    )


def session_end_by_live_caller(
    *, session_id: uuid.UUID, caller_session_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> bool:
    """End ``session_id`` of ``user_id`` at logout, provided the caller's own session (that of its
    access token) is live: both checks and the write in one statement."""
    with connection.cursor() as cursor:
        at, user = _prep(Session, "ended_at", now), _prep(User, "id", user_id)
        params = [at, SessionEnd.LOGOUT.value, _prep(Session, "id", session_id), user]
        cursor.execute(_logout_sql(), [*params, _prep(Session, "id", caller_session_id), user, at])
        return cursor.rowcount == 1
