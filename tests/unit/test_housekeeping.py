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
