"""Seeding for `make bench-scale`: many users and live refresh tokens, fast (PostgreSQL COPY), so
that the hot paths can be measured against a database of a real service's size, and some dead
weight for the housekeeping jobs to clear (expired sessions, abandoned sign-ups, old deliveries)."""

import uuid
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings

from notifications.models import Delivery
from users.canonical import username_key
from users.models import AuthStatus, AuthType, Session, User


def _copy(model, rows) -> None:
    """COPY ``rows`` (dicts of field name -> value) into ``model``'s table."""
    rows = iter(rows)
    first = next(rows)
    fields = [model._meta.get_field(name) for name in first]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    with connection.cursor() as cursor, cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        copy.write_row(tuple(first.values()))
        for row in rows:
            copy.write_row(tuple(row.values()))


def seed_scale(count: int) -> None:
    """``count`` finished users with one live session each, plus a tenth of that in expired
    sessions, abandoned sign-ups and delivery records past their retention."""
    now = timezone.now()
    password = make_password("scale-pass-phrase-1")
    dead = max(1, count // 10)

    def users():
        for n in range(count):
            yield {
                "id": uuid.uuid4(),
                "password": password,
                "is_superuser": False,
                "username": f"scale{n}",
                "username_key": username_key(f"scale{n}"),
                "first_name": "",
                "last_name": "",
                "email": f"scale{n}@scale.example.com",
                "is_staff": False,
                "is_active": True,
                "date_joined": now,
                "auth_type": AuthType.EMAIL,
                "auth_status": AuthStatus.DONE,
                "bio": "",
                "gender": "",
                "pending_identifier_kind": "",
            }
        for n in range(dead):  # abandoned sign-ups
            yield {
                "id": uuid.uuid4(),
                "password": "!",
                "is_superuser": False,
                "username": None,
                "username_key": None,
                "first_name": "",
                "last_name": "",
                "email": f"abandoned{n}@scale.example.com",
                "is_staff": False,
                "is_active": True,
                "date_joined": now - timedelta(days=10),
                "auth_type": AuthType.EMAIL,
                "auth_status": AuthStatus.NEW,
                "bio": "",
                "gender": "",
                "pending_identifier_kind": "",
            }

    _copy(User, users())
    user_ids = list(User.objects.filter(auth_status=AuthStatus.DONE).values_list("id", flat=True)[:count])
    lifetime = api_settings.REFRESH_TOKEN_LIFETIME

    def sessions():
        for index, user_id in enumerate(user_ids):
            expired = index < dead
            yield {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "method": "password",
                "created_at": now,
                "last_used_at": now,
                "expires_at": now - timedelta(days=2) if expired else now + lifetime,
                "generation": 1,
                "end_reason": "",
                "user_agent": "seed",
                "client": "",
            }
        for user_id in user_ids[:dead]:  # and a live one for those too: `count` live refresh tokens
            yield {
                "id": uuid.uuid4(),
                "user_id": user_id,
                "method": "password",
                "created_at": now,
                "last_used_at": now,
                "expires_at": now + lifetime,
                "generation": 1,
                "end_reason": "",
                "user_agent": "seed",
                "client": "",
            }

    _copy(Session, sessions())

    def deliveries():
        for _ in range(dead):
            yield {
                "id": uuid.uuid4(),
                "subject": uuid.uuid4(),
                "channel": "email",
                "recipient_masked": "s***@example.com",
                "purpose": "signup",
                "status": "sent",
                "attempts": 1,
                "provider_message_id": "",
                "last_error": "",
                "created_at": now - timedelta(days=60),
                "updated_at": now - timedelta(days=60),
            }

    _copy(Delivery, deliveries())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
