"""Queueing one verification message in tests, the way the sign-up flow does."""

import uuid

from notifications.models import Delivery
from notifications.services import TEMPLATE_VERIFICATION_CODE, delivery_enqueue


def queue_code(capture_on_commit, *, channel: str, recipient: str, code: str) -> Delivery:
    """Queue a verification message, run the (eager) task after commit, return the fresh record."""
    with capture_on_commit(execute=True):
        delivery = delivery_enqueue(
            subject=uuid.uuid4(),
            channel=channel,
            recipient=recipient,
            purpose="signup",
            template=TEMPLATE_VERIFICATION_CODE,
            language="en",
            code=code,
        )
    delivery.refresh_from_db()
    return delivery
