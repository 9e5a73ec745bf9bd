"""Beat's housekeeping tasks: abandoned sign-ups are removed, nothing else is."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import PendingUserFactory, UserFactory
from users.models import AuthStatus, User
from users.tasks import prune_sessions, remove_abandoned_signups

pytestmark = pytest.mark.django_db


def _aged(user: User, hours: int) -> User:
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(hours=hours))
    return user


def test_abandoned_signups_older_than_the_setting_are_removed(settings):
    settings.SIGNUP_ABANDON_HOURS = 72
    old = _aged(PendingUserFactory(), 73)
    old_verified = _aged(PendingUserFactory(auth_status=AuthStatus.CODE_VERIFIED), 100)
    recent = _aged(PendingUserFactory(), 71)
    finished = _aged(UserFactory(), 1000)
    staff = _aged(PendingUserFactory(is_staff=True), 1000)

    assert remove_abandoned_signups() == 2

    remaining = set(User.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, finished.pk, staff.pk}
    assert old.pk not in remaining
    assert old_verified.pk not in remaining


def test_sessions_that_ended_or_expired_over_a_day_ago_are_pruned_in_batches(django_assert_max_num_queries):
    from users.models import Session
    from users.services import sessions

    user = UserFactory()
    now = timezone.now()

    def session(**fields) -> Session:
        return Session.objects.create(user=user, method="password", **{"expires_at": now + timedelta(days=7), **fields})

    live = session()
    recently_ended = session(ended_at=now - timedelta(hours=1))
    for _ in range(5):
        session(ended_at=now - timedelta(days=2))
        session(expires_at=now - timedelta(days=2))

    with django_assert_max_num_queries(4 * 3 + 1):  # 4 batches of 3: select ids, delete (+ its lookups)
        assert sessions.sessions_prune(batch_size=3) == 10
    assert prune_sessions() == 0

    assert set(Session.objects.values_list("id", flat=True)) == {live.id, recently_ended.id}


def test_old_delivery_records_are_pruned(settings):
    import uuid

    from notifications.models import Delivery
    from notifications.tasks import prune_deliveries

    settings.DELIVERY_RETENTION_DAYS = 30
    old = Delivery.objects.create(subject=uuid.uuid4(), channel="email", recipient_masked="j***@x.io", purpose="signup")
    new = Delivery.objects.create(subject=uuid.uuid4(), channel="email", recipient_masked="j***@x.io", purpose="signup")
    Delivery.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=31))

    assert prune_deliveries() == 1
    assert list(Delivery.objects.values_list("pk", flat=True)) == [new.pk]


def test_deliveries_no_worker_sent_before_their_codes_expired_are_settled_as_failed(settings):
    import uuid

    from prometheus_client import REGISTRY

    from notifications.models import NEVER_TAKEN, Delivery
    from notifications.tasks import settle_unsent_deliveries

    settings.VERIFICATION_CODE_TTL, settings.CELERY_TASK_TIME_LIMIT = 600, 45
    late = 600 + 45 + 60  # the code's life, the longest attempt begun before its end, a minute for clocks

    def delivery(channel: str, age: int, status: str = "queued") -> Delivery:
        made = Delivery.objects.create(
            subject=uuid.uuid4(), channel=channel, recipient_masked="j***@x.io", purpose="signup", status=status
        )
        Delivery.objects.filter(pk=made.pk).update(created_at=timezone.now() - timedelta(seconds=age))
        return made

    lost_email, lost_sms = delivery("email", late + 5), delivery("sms", late + 5)
    maybe_in_flight = delivery("email", late - 5)  # its code has expired, but an attempt may still end
    sent = delivery("sms", late + 5, status="sent")
    failed_sms = {"channel": "sms", "outcome": "failed"}
    before = REGISTRY.get_sample_value("auth_deliveries_total", failed_sms) or 0.0

    assert settle_unsent_deliveries() == 2

    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {lost_email.pk: "failed", lost_sms.pk: "failed", maybe_in_flight.pk: "queued", sent.pk: "sent"}
    assert set(Delivery.objects.filter(status="failed").values_list("last_error", flat=True)) == {NEVER_TAKEN}
    assert REGISTRY.get_sample_value("auth_deliveries_total", failed_sms) == before + 1
    assert settle_unsent_deliveries() == 0  # settled once
