"""Celery tasks of the ``notifications`` queue. Thin: they call services and decide on retries."""

import logging

from celery import shared_task

from notifications.channels import TransientChannelError
from notifications.services import (
    ClaimHeld,
    delivery_mark_failed,
    delivery_prune,
    delivery_requeue,
    delivery_retry_countdown,
    delivery_send,
    delivery_settle_unsent,
)

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def prune_deliveries() -> int:
    """Delete delivery records older than DELIVERY_RETENTION_DAYS (beat, daily)."""
    return delivery_prune()


@shared_task(ignore_result=True)
def settle_unsent_deliveries() -> int:
    """Mark failed the deliveries no worker sent before their codes expired (beat, every 5 minutes)."""
    return delivery_settle_unsent()


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None)
def deliver(self, delivery_id: str, sealed_payload: str) -> None:
    """Send one delivery; retry transient failures with backoff until the code would expire."""
    try:
        delivery_send(delivery_id=delivery_id, sealed_payload=sealed_payload)
    except ClaimHeld as held:
        # Typically the task came back after its worker process was killed mid-send: the claim
        # that attempt left must lapse before anyone may send. Waiting is not failing.
        delivery_requeue(delivery_id=delivery_id, sealed_payload=sealed_payload, countdown=held.wait)
    except TransientChannelError as exc:
        countdown = delivery_retry_countdown(sealed_payload=sealed_payload, retries=self.request.retries)
        if countdown is None:
            delivery_mark_failed(delivery_id=delivery_id, error=f"gave up: {exc}")
            return
        raise self.retry(countdown=countdown, exc=exc) from None
