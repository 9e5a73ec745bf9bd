"""Periodic housekeeping run by Celery beat. Thin: each task calls one service."""

from celery import shared_task
from django.core.management import call_command

from users.services import user_remove_abandoned_signups


@shared_task(ignore_result=True)
def flush_expired_tokens() -> None:
    """Delete expired outstanding and blacklisted refresh tokens (simplejwt's command)."""
    call_command("flushexpiredtokens")


@shared_task(ignore_result=True)
def remove_abandoned_signups() -> int:
    return user_remove_abandoned_signups()
