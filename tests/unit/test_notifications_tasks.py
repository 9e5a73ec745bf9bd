"""notifications/tasks.py and the Celery settings it relies on: routing, acknowledgement, limits,
and the retry loop of the ``deliver`` task (run eagerly here)."""

import time
import uuid

import pytest
from django.conf import settings

from notifications.channels import BaseSms, PermanentChannelError, TransientChannelError
from notifications.models import Delivery
from notifications.services import TEMPLATE_VERIFICATION_CODE, Sealed, seal
from notifications.tasks import deliver
from project.celery import app

NUMBER = "+12025550143"


class FailingSms(BaseSms):
    """Raises the next error of ``errors``; sends once they are used up."""

    errors: list[Exception] = []
    calls = 0

    def send(self, *, to: str, body: str) -> str:
        FailingSms.calls += 1
        if FailingSms.errors:
            raise FailingSms.errors.pop(0)
        return "sms-ok"


@pytest.fixture
def failing_sms(settings):
    settings.SMS_BACKEND = f"{__name__}.FailingSms"
    settings.DELIVERY_RETRY_BASE_SECONDS = 0.01
    FailingSms.errors, FailingSms.calls = [], 0
    yield FailingSms
    FailingSms.errors, FailingSms.calls = [], 0


def run(expires_in: float = 600) -> Delivery:
    """Run the task eagerly on a new queued SMS delivery; returns the record afterwards."""
    delivery = Delivery.objects.create(subject=uuid.uuid4(), channel="sms", recipient_masked="x", purpose="signup")
    payload = seal(Sealed(NUMBER, TEMPLATE_VERIFICATION_CODE, "482913", time.time() + expires_in))
    deliver.apply_async(args=(str(delivery.id), payload), argsrepr="<sealed>")
    delivery.refresh_from_db()
    return delivery


@pytest.mark.django_db
def test_transient_failures_are_retried_until_one_gets_through(failing_sms):
    failing_sms.errors = [TransientChannelError("Twilio HTTP 500 code 20500")] * 2

    delivery = run()

    assert failing_sms.calls == 3
    assert (delivery.status, delivery.attempts) == ("sent", 3)


@pytest.mark.django_db
def test_permanent_failures_are_not_retried(failing_sms):
    failing_sms.errors = [PermanentChannelError("Twilio HTTP 400 code 21211")]

    delivery = run()

    assert failing_sms.calls == 1
    assert (delivery.status, delivery.attempts) == ("failed", 1)


@pytest.mark.django_db
def test_retries_give_up_at_the_limit_and_record_why(failing_sms, settings):
    settings.DELIVERY_MAX_RETRIES = 2
    failing_sms.errors = [TransientChannelError("Twilio HTTP 429 code 20429")] * 10

    delivery = run()

    assert failing_sms.calls == 3
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert delivery.last_error == "gave up: Twilio HTTP 429 code 20429"


@pytest.mark.django_db
def test_retries_give_up_when_the_next_would_land_after_the_code_expires(failing_sms, settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 60.0
    settings.EMAIL_TIMEOUT = 10
    failing_sms.errors = [TransientChannelError("Twilio unreachable: ConnectTimeout")] * 10

    delivery = run(expires_in=40)

    assert failing_sms.calls == 1
    assert delivery.status == "failed"
    assert delivery.last_error.startswith("gave up")


def test_deliveries_go_to_the_notifications_queue():
    route = app.amqp.router.route({}, deliver.name)

    assert route["queue"].name == "notifications"


def test_delivery_tasks_are_acknowledged_late_and_keep_no_result():
    assert deliver.acks_late is True
    assert deliver.ignore_result is True
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True  # a lost worker's task goes back
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 4  # held ahead: given back like the rest
    assert settings.CELERY_RESULT_BACKEND is None
    assert app.conf.result_backend is None


def test_the_broker_waits_longer_than_any_retry_and_any_attempt_but_not_as_long_as_a_code_lives():
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    # A retry waiting in a worker is unacknowledged: a countdown longer than the visibility timeout
    # would be handed out twice. The nth retry waits at most base * 2**n, n < DELIVERY_MAX_RETRIES.
    longest_countdown = settings.DELIVERY_RETRY_BASE_SECONDS * 2**settings.DELIVERY_MAX_RETRIES
    assert visibility > longest_countdown + settings.CELERY_TASK_TIME_LIMIT
    # An attempt (and so a delivery claim) never outlives the hard time limit.
    assert settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT < visibility
    # A task of a worker killed outright comes back, at the first scan after the timeout, while
    # its code can still be used.
    restore_interval = settings.CELERY_BROKER_TRANSPORT_OPTIONS["unacked_restore_interval"]
    assert visibility + restore_interval < settings.VERIFICATION_CODE_TTL


def test_every_worker_scans_for_tasks_of_dead_workers_every_restore_interval():
    options = settings.CELERY_BROKER_TRANSPORT_OPTIONS
    interval = options["unacked_restore_interval"]
    assert 0 < interval <= 10
    # kombu's default throttle skips 9 calls in 10, making the real period ten times the interval.
    assert options["unacked_restore_throttle"] == 1
    # A worker that dies while scanning holds the scan's lock no longer than one more interval.
    assert options["unacked_mutex_expire"] <= interval
    assert app.conf.broker_transport_options == options


def test_task_events_are_for_flower_and_the_web_sends_none():
    # Off unless asked for: the stack's workers run with -E, and Flower enables them on any worker.
    assert app.conf.worker_send_task_events is False
    # A "task-sent" event would be a second broker round trip on every sign-up.
    assert app.conf.task_send_sent_event is False


def test_tasks_speak_json_only():
    assert app.conf.task_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]
