"""Delivery of one-time codes and notices: queueing, rendering, sending at most once, status.

The plaintext code and the full recipient travel to the worker sealed (Fernet, key derived from
``SECRET_KEY``), so the broker payload, Celery's logs and Flower only ever see ciphertext. Before
calling a provider the worker claims the delivery in the cache: a retried or redelivered task finds
the claim and does not send the same code twice.
"""

import json
import logging
import random
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from notifications.channels import (
    EmailMessage,
    PermanentChannelError,
    TransientChannelError,
    email_send,
    sms_sender,
)
from notifications.models import (
    EXPIRED_BEFORE_SENDING,
    EXPIRED_WHILE_CLAIMED,
    NEVER_TAKEN,
    Channel,
    Delivery,
    DeliveryStatus,
)
from project import metrics, sealing
from project.batches import delete_in_batches
from project.exceptions import REDIS_UNAVAILABLE, ServiceUnavailable
from project.logs import log_subject
from project.masking import mask_recipient

logger = logging.getLogger(__name__)

# Templates under templates/notifications/: <name>_subject.txt, <name>_message.txt,
# <name>_message.html and <name>_sms.txt.
TEMPLATE_VERIFICATION_CODE = "verification_code"
TEMPLATE_SIGNUP_NOTICE = "signup_notice"
TEMPLATE_PASSWORD_RESET_CODE = "password_reset_code"
TEMPLATE_PASSWORD_CHANGED_NOTICE = "password_changed_notice"
TEMPLATE_LOGIN_CODE = "login_code"
TEMPLATE_IDENTIFIER_CHANGE_CODE = "identifier_change_code"
TEMPLATE_IDENTIFIER_CHANGE_NOTICE = "identifier_change_notice"
TEMPLATE_IDENTIFIER_CLAIM_NOTICE = "identifier_claim_notice"


@dataclass(frozen=True)
class Sealed:
    recipient: str
    template: str | None  # None: a suppressed message (a decoy's), recorded and never sent
    code: str | None
    expires_at: float  # epoch seconds after which sending is pointless
    language: str = "en"  # the account's (a payload sealed before languages were kept: English)


_SEAL_PURPOSE = "notifications.seal"


def seal(payload: Sealed) -> str:
    return sealing.seal(json.dumps(payload.__dict__).encode(), purpose=_SEAL_PURPOSE)


def unseal(token: str) -> Sealed:
    try:
        return Sealed(**json.loads(sealing.unseal(token, purpose=_SEAL_PURPOSE)))
    except (sealing.Unsealable, ValueError, TypeError) as exc:
        raise PermanentChannelError("sealed payload unreadable") from exc


def delivery_enqueue(
    *,
    subject: uuid.UUID,
    channel: str,
    recipient: str,
    purpose: str,
    template: str | None,
    language: str,
    code: str | None = None,
) -> Delivery:
    """Record a queued delivery and hand it to the worker once the transaction commits; the
    worker renders it in ``language`` (the account's)."""
    delivery = Delivery.objects.create(
        subject=subject, channel=channel, recipient_masked=mask_recipient(recipient)[:255], purpose=purpose
    )
    sealed = delivery_sealed(recipient=recipient, template=template, code=code, language=language)
    delivery_id = str(delivery.id)
    # Outside a transaction (the API's case) this publishes at once, so a broker outage reaches
    # the caller as ServiceUnavailable; inside one, after commit.
    transaction.on_commit(lambda: delivery_publish(delivery_id, sealed))
    log_subject(delivery.recipient_masked)
    logger.info("delivery %s queued: %s to %s", delivery_id, channel, delivery.recipient_masked)
    return delivery


def delivery_sealed(*, recipient: str, template: str | None, code: str | None, language: str) -> str:
    """The sealed payload of a delivery's task: the recipient, the template, the code and the
    language travel encrypted, valid as long as a code is."""
    expires_at = time.time() + settings.VERIFICATION_CODE_TTL
    return seal(Sealed(recipient=recipient, template=template, code=code, expires_at=expires_at, language=language))


def delivery_publish(delivery_id: str, sealed: str, countdown: float | None = None) -> None:
    """Hand a recorded delivery to the worker: one publish to the broker, straight to the
    notifications queue. If the broker cannot take it, the delivery is recorded failed and the
    caller gets ServiceUnavailable."""
    from notifications.tasks import deliver  # tasks import services; import here to avoid a cycle

    try:
        deliver.apply_async(args=(delivery_id, sealed), countdown=countdown, argsrepr=f"('{delivery_id}', '<sealed>')")
    except (KombuOperationalError, RedisError, OSError) as exc:
        delivery_mark_failed(delivery_id=delivery_id, error="broker unavailable")
        raise ServiceUnavailable() from exc


class ClaimHeld(Exception):
    """Another attempt holds the delivery's claim (or a killed worker left it); ``wait`` is the
    number of seconds until its lease runs out."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"another attempt holds the claim for {wait:.0f} s")
        self.wait = wait


def delivery_requeue(*, delivery_id: str, sealed_payload: str, countdown: float) -> bool:
    """Queue the delivery again as a fresh task in ``countdown`` seconds (so the wait for a held
    claim spends none of the retries); records it failed and returns False if the code would have
    expired by then."""
    if time.time() + countdown >= unseal(sealed_payload).expires_at:
        delivery_mark_failed(delivery_id=delivery_id, error=EXPIRED_WHILE_CLAIMED)
        return False
    delivery_publish(delivery_id, sealed_payload, countdown=countdown)
    return True


_EMAIL_PARTS = ("subject", "text", "html")
_SMS_PARTS = ("sms",)


def message_render(
    template: str,
    code: str | None,
    language: str,
    parts: tuple[str, ...] = (*_EMAIL_PARTS, *_SMS_PARTS),
    ttl_minutes: int | None = None,
) -> dict[str, str]:
    """The ``parts`` of a message (an e-mail needs three, an SMS one), rendered from its templates
    in ``language`` (one of settings.LANGUAGES; any other renders in the default). The lifetime
    said is VERIFICATION_CODE_TTL's, or ``ttl_minutes``."""
    context = {
        "code": code,
        "product_name": settings.PRODUCT_NAME,
        "support_email": settings.SUPPORT_EMAIL,
        "support_link": format_html(
            '<a href="mailto:{0}" style="color:#3446c4;">{0}</a>', settings.SUPPORT_EMAIL
        ),  # for the e-mails' HTML footer
        "sms_product_name": settings.SMS_PRODUCT_NAME,
        "ttl_minutes": ttl_minutes or max(1, settings.VERIFICATION_CODE_TTL // 60),
        "webotp_domain": settings.WEBOTP_DOMAIN,
    }
    base = f"notifications/{template}"
    files = {"subject": "_subject.txt", "text": "_message.txt", "html": "_message.html", "sms": "_sms.txt"}
    try:
        language = translation.get_supported_language_variant(language)
    except LookupError:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        rendered = {part: render_to_string(f"{base}{files[part]}", context) for part in parts}
    if "subject" in rendered:
        rendered["subject"] = " ".join(rendered["subject"].split())
    if "sms" in rendered:
        rendered["sms"] = rendered["sms"].strip()
    return rendered


def _claim_lease() -> int:
    """Seconds a claim holds while the provider is called.

    As long as an attempt can live: the worker kills a task at its hard time limit, whereas the
    provider timeouts bound each socket operation, not a whole SMTP conversation or HTTP call. So
    no copy of the task can send while another may still be sending, and a copy redelivered after a
    lost worker (after the broker visibility timeout, which is longer) finds the lease run out.
    """
    return settings.CELERY_TASK_TIME_LIMIT or int(max(settings.TWILIO_TIMEOUT, settings.EMAIL_TIMEOUT)) + 5


def _send(delivery: Delivery, sealed: Sealed) -> str:
    """Render and send; the provider's message id. A send cut short by the task's soft time limit
    is a transient failure like a timeout."""
    try:
        if delivery.channel == Channel.EMAIL:
            rendered = message_render(sealed.template, sealed.code, sealed.language, _EMAIL_PARTS)
            return email_send(EmailMessage(sealed.recipient, rendered["subject"], rendered["text"], rendered["html"]))
        body = message_render(sealed.template, sealed.code, sealed.language, _SMS_PARTS)["sms"]
        return sms_sender().send(to=sealed.recipient, body=body)
    except SoftTimeLimitExceeded as exc:
        raise TransientChannelError("send exceeded the task's soft time limit") from exc


class DeliveryClaim:
    """The at-most-once guard of one delivery, in the cache: a lease while the provider is called,
    then a permanent "sent" mark. A worker killed mid-call leaves a lease that runs out, so the
    redelivered task can send; no copy of the task sends while another may still be sending."""

    def __init__(self, delivery_id: str) -> None:
        self.delivery_id = delivery_id
        self.key = f"delivery-claim:{delivery_id}"

    def acquire(self) -> bool:
        """Take the lease: True if taken, False if the delivery was sent already (the mark says so,
        or the record if the claim store could not). ClaimHeld while another attempt holds it;
        TransientChannelError if the claim store cannot be reached."""
        try:
            if cache.add(self.key, "sending", timeout=_claim_lease()):
                return True
            if cache.get(self.key) == "sent" or not _still_queued(self.delivery_id):
                return False
            wait = cache.ttl(self.key) if hasattr(cache, "ttl") else None
        except REDIS_UNAVAILABLE as exc:
            raise TransientChannelError("claim store unavailable") from exc
        raise ClaimHeld(float(wait) + 1 if wait else float(_claim_lease()))

    def release(self) -> None:
        """Give the lease back, so that a retry may send."""
        try:
            cache.delete(self.key)
        except REDIS_UNAVAILABLE:
            logger.warning("delivery claim %s not released; it expires with its lease", self.key)

    def mark_sent(self) -> None:
        """Never send again (sent, or refused for good)."""
        try:
            cache.set(self.key, "sent", timeout=settings.VERIFICATION_CODE_TTL)
        except REDIS_UNAVAILABLE:
            logger.warning("delivery claim %s not marked sent; the delivery record is", self.key)


def delivery_send(*, delivery_id: str, sealed_payload: str) -> None:
    """Send one queued delivery at most once: load, expiry guard, claim, send, record. Raises
    TransientChannelError when a retry may help (the retry policy is the task's, with
    :func:`delivery_retry_countdown`). The record is read once, as the attempt is counted (after
    the claim): a redelivered task finds the claim marked sent, or else the record no longer
    queued, and does nothing."""
    sealed = _sendable(delivery_id, sealed_payload)
    if sealed is None:
        return
    claim = DeliveryClaim(delivery_id)
    if not claim.acquire():
        return
    delivery = _attempt_counted(delivery_id)
    if delivery is None:  # sent or given up since the claim was taken, by a copy of this task
        claim.release()
        return
    log_subject(delivery.recipient_masked)
    metrics.DELIVERY_ATTEMPTS.labels(delivery.channel).inc()
    try:
        with metrics.PROVIDER_SECONDS.labels(delivery.channel).time():
            message_id = _send(delivery, sealed)
    except TransientChannelError as exc:
        metrics.DELIVERIES.labels(delivery.channel, "retry").inc()
        claim.release()
        Delivery.objects.filter(pk=delivery.pk).update(last_error=str(exc)[:255], updated_at=timezone.now())
        logger.warning("delivery %s attempt failed, may retry: %s", delivery_id, exc)
        raise
    except PermanentChannelError as exc:
        delivery_mark_failed(delivery_id=delivery_id, error=str(exc), channel=delivery.channel)
        claim.mark_sent()
        return
    # The record first: if the claim store fails now, the record still stops a resend.
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.SENT,
        provider_message_id=message_id[:64],
        sent_at=timezone.now(),
        last_error="",
        updated_at=timezone.now(),
    )
    claim.mark_sent()
    metrics.DELIVERIES.labels(delivery.channel, "sent").inc()
    logger.info("delivery %s sent by %s to %s", delivery_id, delivery.channel, delivery.recipient_masked)


def _sendable(delivery_id: str, sealed_payload: str) -> Sealed | None:
    """The delivery's sealed payload if there is something to send; otherwise the record is
    settled here (unreadable or expired: failed; a decoy's: suppressed) and None."""
    try:
        sealed = unseal(sealed_payload)
    except PermanentChannelError as exc:  # e.g. SECRET_KEY differs between web and worker
        delivery_mark_failed(delivery_id=delivery_id, error=str(exc))
        return None
    if sealed.template is None:
        # A decoy's message: queued like any other so that the request cost the same, never sent.
        Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).update(
            status=DeliveryStatus.SUPPRESSED, updated_at=timezone.now()
        )
        metrics.DELIVERIES.labels("any", "suppressed").inc()
        return None
    if time.time() >= sealed.expires_at:
        # A task redelivered after a lost worker can come back after the code died.
        delivery_mark_failed(delivery_id=delivery_id, error=EXPIRED_BEFORE_SENDING)
        return None
    return sealed


def _still_queued(delivery_id: str) -> bool:
    return Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).exists()


def _attempt_counted(delivery_id: str) -> Delivery | None:
    """Count one attempt of a still queued delivery and return it (its channel and masked
    recipient), in one statement; None if it is no longer queued."""
    table = connection.ops.quote_name(Delivery._meta.db_table)
    fields = [field for field in Delivery._meta.concrete_fields]
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    pk = Delivery._meta.pk.get_db_prep_value(uuid.UUID(delivery_id), connection)
    now = Delivery._meta.get_field("updated_at").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET attempts = attempts + 1, updated_at = %s "  # noqa: S608 - names from the model
            f"WHERE id = %s AND status = %s RETURNING {columns}",
            [now, pk, DeliveryStatus.QUEUED.value],
        )
        row = cursor.fetchone()
    return Delivery.from_db(connection.alias, [field.attname for field in fields], row) if row else None


def delivery_mark_failed(*, delivery_id: str, error: str, channel: str = "any") -> None:
    failed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.QUEUED).update(
        status=DeliveryStatus.FAILED, last_error=error[:255], updated_at=timezone.now()
    )
    if failed:
        metrics.DELIVERIES.labels(channel, "failed").inc()
    logger.error("delivery %s failed: %s", delivery_id, error)


def delivery_retry_countdown(*, sealed_payload: str, retries: int) -> float | None:
    """Seconds to wait before the next attempt, or None when it would land after the code expires.

    Exponential backoff with full jitter: the nth retry waits a random time up to base * 2**n.
    """
    if retries >= settings.DELIVERY_MAX_RETRIES:
        return None
    ceiling = settings.DELIVERY_RETRY_BASE_SECONDS * (2**retries)
    countdown = random.uniform(ceiling / 2, ceiling)  # noqa: S311 - jitter, not a secret
    expires_at = unseal(sealed_payload).expires_at
    if time.time() + countdown + settings.EMAIL_TIMEOUT >= expires_at:
        return None
    return countdown


# The subject an anonymised delivery record keeps: it belongs to nobody.
ANONYMOUS_SUBJECT = uuid.UUID(int=0)


def deliveries_anonymise(*, subjects: list[uuid.UUID]) -> int:
    """Strip the delivery records of ``subjects`` (an account deleted, and its decoys) of anything
    that points at a person; returns how many."""
    return Delivery.objects.filter(subject__in=subjects).update(
        subject=ANONYMOUS_SUBJECT, recipient_masked="", provider_message_id="", last_error="", updated_at=timezone.now()
    )


def delivery_latest(*, subject: uuid.UUID) -> Delivery | None:
    return Delivery.objects.filter(subject=subject).order_by("-created_at").first()


# Twilio's final message states and ours.
_PROVIDER_STATUS = {
    "delivered": DeliveryStatus.DELIVERED,
    "undelivered": DeliveryStatus.UNDELIVERED,
    "failed": DeliveryStatus.FAILED,
}


def delivery_status_update(*, provider_message_id: str, provider_status: str, error_code: str = "") -> bool:
    """Apply a provider's status report; returns whether a delivery was updated."""
    status = _PROVIDER_STATUS.get(provider_status.lower())
    if status is None:
        return False  # intermediate states (queued, sending, sent) change nothing
    error = f"provider error {error_code}" if error_code else ""
    updated = Delivery.objects.filter(provider_message_id=provider_message_id).update(
        status=status, last_error=error, updated_at=timezone.now()
    )
    logger.info("delivery with provider id %s reported %s", provider_message_id, status)
    return bool(updated)


def delivery_settle_unsent() -> int:
    """Mark failed the deliveries still queued well after their code expired; returns how many.

    No worker sends them any more (it refuses an expired payload, and an attempt begun before the
    expiry ends within CELERY_TASK_TIME_LIMIT), so "queued" would be a promise nobody keeps. One is
    left queued that late only when its task was lost on the way to a worker (see the README's
    Several hosts); now the client's delivery status says it failed, and the person asks again.
    """
    late = settings.VERIFICATION_CODE_TTL + settings.CELERY_TASK_TIME_LIMIT + 60  # a minute for clocks
    cutoff = timezone.now() - timedelta(seconds=late)
    settled = 0
    for channel in Channel.values:
        count = Delivery.objects.filter(status=DeliveryStatus.QUEUED, channel=channel, created_at__lt=cutoff).update(
            status=DeliveryStatus.FAILED, last_error=NEVER_TAKEN, updated_at=timezone.now()
        )
        if count:
            metrics.DELIVERIES.labels(channel, "failed").inc(count)
            logger.warning("%d %s deliveries were never sent before their codes expired: failed", count, channel)
        settled += count
    return settled


def delivery_prune() -> int:
    """Delete delivery records older than DELIVERY_RETENTION_DAYS, in batches; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.DELIVERY_RETENTION_DAYS)
    return delete_in_batches(Delivery.objects.filter(created_at__lt=cutoff))
