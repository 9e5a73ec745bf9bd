"""The at-most-once claim of a delivery (notifications.services.DeliveryClaim), on the real cache:
one holder at a time, a lease that is given back or runs out, and a "sent" mark that ends it."""

import uuid

import pytest
from django.core.cache import cache

from notifications.models import Delivery, DeliveryStatus
from notifications.services import ClaimHeld, DeliveryClaim

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    record = Delivery.objects.create(
        subject=uuid.uuid4(), channel="email", recipient_masked="j***@example.com", purpose="t"
    )
    yield record
    cache.delete(DeliveryClaim(str(record.id)).key)


def test_one_holder_at_a_time_and_the_other_learns_how_long_to_wait(delivery, settings):
    settings.CELERY_TASK_TIME_LIMIT = 45
    first, second = DeliveryClaim(str(delivery.id)), DeliveryClaim(str(delivery.id))

    assert first.acquire() is True
    with pytest.raises(ClaimHeld) as held:
        second.acquire()
    assert 1 < held.value.wait <= 46


def test_a_released_claim_can_be_taken_again(delivery):
    claim = DeliveryClaim(str(delivery.id))
    assert claim.acquire() is True

    claim.release()

    assert DeliveryClaim(str(delivery.id)).acquire() is True


def test_a_claim_marked_sent_is_never_taken_again(delivery):
    claim = DeliveryClaim(str(delivery.id))
    claim.acquire()

    claim.mark_sent()

    assert DeliveryClaim(str(delivery.id)).acquire() is False


def test_a_held_claim_of_a_delivery_the_record_says_is_done_is_not_waited_for(delivery):
    # The claim store could not be told "sent", but the record was: nothing left to send.
    DeliveryClaim(str(delivery.id)).acquire()
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENT)

    assert DeliveryClaim(str(delivery.id)).acquire() is False
