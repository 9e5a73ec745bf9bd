"""Periodic housekeeping run by Celery beat. Thin: each task calls one service."""

from celery import shared_task

from users.services.sessions import sessions_prune
from users.services.signup import signups_remove_abandoned


@shared_task(ignore_result=True)
def prune_sessions() -> int:
    """Delete sessions that ended or expired (and with them the record of their tokens)."""
    return sessions_prune()


@shared_task(ignore_result=True)
def remove_abandoned_signups() -> int:
    return signups_remove_abandoned()
