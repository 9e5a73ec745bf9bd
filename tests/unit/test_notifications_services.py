"""notifications/services.py: sealing, queueing after commit, sending at most once, retry timing
and status updates."""

import logging
import time
import uuid

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from redis.exceptions import ConnectionError as RedisConnectionError

from notifications import services
from notifications.channels import BaseSms, PermanentChannelError, TransientChannelError
from notifications.models import Delivery
from notifications.services import (
    TEMPLATE_VERIFICATION_CODE,
    Sealed,
    delivery_enqueue,
    delivery_latest,
    delivery_retry_countdown,
    delivery_send,
    delivery_status_update,
    seal,
    unseal,
)

pytestmark = pytest.mark.django_db

CODE = "482913"
NUMBER = "+12025550143"


class ScriptedSms(BaseSms):
    """An SMS backend that plays ``script``: an exception to raise, or a callable to run, per send;
    it records what it sent and answers ``sms-<n>``."""

    script: list = []
    sent: list[tuple[str, str]] = []

    def send(self, *, to: str, body: str) -> str:
        outcome = ScriptedSms.script.pop(0) if ScriptedSms.script else None
        if isinstance(outcome, BaseException):
            raise outcome
        if callable(outcome):
            outcome()
        ScriptedSms.sent.append((to, body))
        return f"sms-{len(ScriptedSms.sent)}"


@pytest.fixture
def sms(settings):
    settings.SMS_BACKEND = f"{__name__}.ScriptedSms"
    ScriptedSms.script, ScriptedSms.sent = [], []
    yield ScriptedSms
    ScriptedSms.script, ScriptedSms.sent = [], []


def queued(code: str = CODE, expires_in: float = 600) -> tuple[Delivery, str]:
    """A queued SMS delivery and its sealed payload, as the task receives them."""
    delivery = Delivery.objects.create(
        subject=uuid.uuid4(), channel="sms", recipient_masked="+1******0143", purpose="signup"
    )
    payload = seal(Sealed(NUMBER, TEMPLATE_VERIFICATION_CODE, code, time.time() + expires_in))
    return delivery, payload


def send(delivery: Delivery, payload: str) -> Delivery:
    delivery_send(delivery_id=str(delivery.id), sealed_payload=payload)
    delivery.refresh_from_db()
    return delivery


def claim(delivery: Delivery) -> str:
    return f"delivery-claim:{delivery.id}"


# --- Sealing --------------------------------------------------------------------------------


def test_a_sealed_payload_hides_the_code_and_the_recipient_and_opens_again():
    payload = seal(Sealed(NUMBER, TEMPLATE_VERIFICATION_CODE, CODE, 1234.5))

    assert CODE not in payload
    assert NUMBER not in payload
    assert unseal(payload) == Sealed(NUMBER, TEMPLATE_VERIFICATION_CODE, CODE, 1234.5)


def test_a_tampered_or_foreign_payload_is_refused_for_good(settings):
    payload = seal(Sealed(NUMBER, TEMPLATE_VERIFICATION_CODE, CODE, 1234.5))
    with pytest.raises(PermanentChannelError):
        unseal(payload[:-4] + "AAAA")
    settings.SECRET_KEY = "another-secret-key-another-secret-key-another-secret-key"
    with pytest.raises(PermanentChannelError):
        unseal(payload)


# --- Queueing -------------------------------------------------------------------------------


def test_enqueue_records_a_masked_queued_delivery_and_publishes_only_after_commit(
    monkeypatch, django_capture_on_commit_callbacks
):
    published: list[dict] = []
    monkeypatch.setattr("notifications.tasks.deliver.apply_async", lambda **kwargs: published.append(kwargs))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        delivery = delivery_enqueue(
            subject=uuid.uuid4(),
            channel="sms",
            recipient=NUMBER,
            purpose="signup",
            template=TEMPLATE_VERIFICATION_CODE,
            language="en",
            code=CODE,
        )
    assert published == []  # a rolled back sign-up sends nothing
    for callback in callbacks:
        callback()

    assert (delivery.status, delivery.attempts, delivery.recipient_masked) == ("queued", 0, "+1******0143")
    [call] = published
    delivery_id, payload = call["args"]
    assert delivery_id == str(delivery.id)
    assert isinstance(payload, str)
    assert CODE not in payload
    assert unseal(payload).code == CODE
    assert call["argsrepr"] == f"('{delivery.id}', '<sealed>')"  # what Celery logs and Flower shows


# --- Sending at most once -------------------------------------------------------------------


def test_a_delivery_is_sent_once_and_a_second_run_does_nothing(sms):
    delivery, payload = queued()

    delivery = send(delivery, payload)
    delivery = send(delivery, payload)

    assert len(sms.sent) == 1
    to, body = sms.sent[0]
    assert to == NUMBER
    assert CODE in body
    assert (delivery.status, delivery.attempts, delivery.provider_message_id) == ("sent", 1, "sms-1")
    assert delivery.sent_at is not None
    assert cache.get(claim(delivery)) == "sent"


def test_a_claim_marked_sent_stops_a_resend_even_if_the_record_says_queued(sms):
    delivery, payload = queued()
    cache.set(claim(delivery), "sent", 60)

    delivery = send(delivery, payload)

    assert sms.sent == []
    assert delivery.attempts == 0


def test_an_attempt_in_progress_makes_another_copy_wait_until_its_lease_ends(sms):
    delivery, payload = queued()
    cache.set(claim(delivery), "sending", 60)

    with pytest.raises(services.ClaimHeld) as held:
        send(delivery, payload)

    assert 55 <= held.value.wait <= 61
    assert sms.sent == []
    assert Delivery.objects.get().attempts == 0


def test_a_held_claim_requeues_a_fresh_task_instead_of_spending_retries(sms, settings, monkeypatch):
    # A copy that finds the claim held (its worker process was killed mid-send, say) must not burn
    # its retries while the lease runs out: it comes back as a new task once the lease has ended.
    from notifications import tasks

    settings.CELERY_TASK_ALWAYS_EAGER = False
    delivery, payload = queued()
    cache.set(claim(delivery), "sending", 40)
    published: list[dict] = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda **kwargs: published.append(kwargs))

    tasks.deliver.run(str(delivery.id), payload)

    assert len(published) == 1
    assert published[0]["args"] == (str(delivery.id), payload)
    assert 35 <= published[0]["countdown"] <= 41
    assert "<sealed>" in published[0]["argsrepr"]
    assert Delivery.objects.get().status == "queued"


def test_a_held_claim_that_outlives_the_code_records_the_delivery_failed(sms, monkeypatch):
    from notifications import tasks

    delivery, payload = queued(expires_in=30)
    cache.set(claim(delivery), "sending", 60)
    published: list[dict] = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda **kwargs: published.append(kwargs))

    tasks.deliver.run(str(delivery.id), payload)

    assert published == []
    assert Delivery.objects.get().status == "failed"


def test_the_claim_lasts_as_long_as_an_attempt_can_live(sms, settings):
    settings.CELERY_TASK_TIME_LIMIT = 45
    settings.TWILIO_TIMEOUT = settings.EMAIL_TIMEOUT = 10  # per socket operation, not per attempt
    delivery, payload = queued()
    leases: list[int] = []
    sms.script = [lambda: leases.append(cache.ttl(claim(delivery)))]

    send(delivery, payload)

    assert 40 <= leases[0] <= 45


def test_a_transient_failure_releases_the_claim_for_the_retry(sms):
    delivery, payload = queued()
    sms.script = [TransientChannelError("Twilio HTTP 500 code 20500")]

    with pytest.raises(TransientChannelError):
        send(delivery, payload)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert delivery.last_error == "Twilio HTTP 500 code 20500"
    assert cache.get(claim(delivery)) is None
    assert send(delivery, payload).status == "sent"
    assert len(sms.sent) == 1


def test_a_permanent_failure_fails_the_delivery_and_blocks_any_copy(sms):
    delivery, payload = queued()
    sms.script = [PermanentChannelError("Twilio HTTP 400 code 21211")]

    delivery = send(delivery, payload)

    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.last_error == "Twilio HTTP 400 code 21211"
    assert cache.get(claim(delivery)) == "sent"


def test_a_code_that_expired_before_its_turn_is_not_sent(sms):
    delivery, payload = queued(expires_in=-1)  # e.g. redelivered an hour after a lost worker

    delivery = send(delivery, payload)

    assert sms.sent == []
    assert (delivery.status, delivery.attempts) == ("failed", 0)
    assert delivery.last_error == "expired before it could be sent"


def test_a_send_cut_by_the_soft_time_limit_is_a_transient_failure(sms):
    delivery, payload = queued()
    sms.script = [SoftTimeLimitExceeded()]

    with pytest.raises(TransientChannelError, match="soft time limit"):
        send(delivery, payload)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("queued", 1)
    assert cache.get(claim(delivery)) is None


def test_without_the_claim_store_nothing_is_sent(sms, monkeypatch):
    delivery, payload = queued()
    monkeypatch.setattr(services.cache, "add", _raise(RedisConnectionError("down")))

    with pytest.raises(TransientChannelError, match="claim store unavailable"):
        send(delivery, payload)

    assert sms.sent == []


def test_a_sent_delivery_is_recorded_even_if_the_claim_store_fails_afterwards(sms, monkeypatch):
    delivery, payload = queued()
    monkeypatch.setattr(services.cache, "set", _raise(RedisConnectionError("down")))

    delivery = send(delivery, payload)

    assert (delivery.status, delivery.provider_message_id) == ("sent", "sms-1")
    monkeypatch.undo()
    assert send(delivery, payload).attempts == 1  # the record stops a second send
    assert len(sms.sent) == 1


def test_an_unknown_delivery_is_ignored(sms):
    _, payload = queued()

    delivery_send(delivery_id=str(uuid.uuid4()), sealed_payload=payload)

    assert sms.sent == []


def test_sending_logs_neither_the_code_nor_the_full_recipient(sms, caplog):
    caplog.set_level(logging.DEBUG)
    sms.script = [TransientChannelError("Twilio HTTP 500 code 20500")]
    delivery, payload = queued()
    with pytest.raises(TransientChannelError):
        send(delivery, payload)
    send(delivery, payload)
    failing, failing_payload = queued()
    sms.script = [PermanentChannelError("Twilio HTTP 400 code 21211")]
    send(failing, failing_payload)

    assert caplog.records
    assert CODE not in caplog.text
    assert NUMBER not in caplog.text
    assert payload not in caplog.text


def _raise(error: Exception):
    def _raiser(*args, **kwargs):
        raise error

    return _raiser


# --- Retry timing ---------------------------------------------------------------------------


@pytest.mark.parametrize("retries", [0, 1, 2, 3])
def test_retries_back_off_exponentially_with_jitter(settings, retries):
    settings.DELIVERY_RETRY_BASE_SECONDS = 2.0
    settings.DELIVERY_MAX_RETRIES = 5
    _, payload = queued()
    ceiling = 2.0 * 2**retries

    countdowns = {delivery_retry_countdown(sealed_payload=payload, retries=retries) for _ in range(20)}

    assert all(ceiling / 2 <= countdown <= ceiling for countdown in countdowns)
    assert len(countdowns) > 1  # jitter: parallel failures do not retry in step


def test_retries_stop_at_the_limit(settings):
    settings.DELIVERY_MAX_RETRIES = 3
    _, payload = queued()

    assert delivery_retry_countdown(sealed_payload=payload, retries=2) is not None
    assert delivery_retry_countdown(sealed_payload=payload, retries=3) is None


def test_no_retry_lands_after_the_code_expires(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 2.0
    settings.EMAIL_TIMEOUT = 10
    _, payload = queued(expires_in=20)

    # The wait, plus the time the attempt itself may take, must end before the code expires.
    assert delivery_retry_countdown(sealed_payload=payload, retries=0) is not None  # 1 to 2 s
    assert delivery_retry_countdown(sealed_payload=payload, retries=4) is None  # 16 to 32 s: too late


# --- Status ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reported", "expected"), [("delivered", "delivered"), ("undelivered", "undelivered"), ("failed", "failed")]
)
def test_provider_final_states_update_the_delivery(reported, expected):
    delivery, _ = queued()
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", provider_message_id="SM1")

    assert delivery_status_update(provider_message_id="SM1", provider_status=reported, error_code="30003")

    delivery.refresh_from_db()
    assert delivery.status == expected
    assert delivery.last_error == "provider error 30003"


def test_provider_intermediate_states_and_unknown_messages_change_nothing():
    delivery, _ = queued()
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", provider_message_id="SM1")

    assert not delivery_status_update(provider_message_id="SM1", provider_status="sending")
    assert not delivery_status_update(provider_message_id="SM2", provider_status="delivered")
    delivery.refresh_from_db()
    assert delivery.status == "sent"


def test_the_latest_delivery_of_a_subject_is_the_newest():
    subject = uuid.uuid4()
    Delivery.objects.create(subject=subject, channel="sms", recipient_masked="x", purpose="signup")
    newest = Delivery.objects.create(subject=subject, channel="sms", recipient_masked="y", purpose="signup")
    Delivery.objects.create(subject=uuid.uuid4(), channel="sms", recipient_masked="z", purpose="signup")

    assert delivery_latest(subject=subject) == newest
    assert delivery_latest(subject=uuid.uuid4()) is None


@pytest.mark.django_db
def test_a_payload_the_worker_cannot_unseal_is_recorded_as_failed(sms):
    delivery, _ = queued()

    delivery_send(delivery_id=str(delivery.id), sealed_payload="not a sealed payload")

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "unreadable" in delivery.last_error
    assert delivery.attempts == 0
