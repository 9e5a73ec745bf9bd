"""Delivery records: what was sent to whom (masked), through which channel, and how it went."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")  # accepted by the provider
    DELIVERED = "delivered", _("Delivered")  # confirmed by the provider's status callback
    FAILED = "failed", _("Failed")  # refused for good, or out of retries
    UNDELIVERED = "undelivered", _("Undelivered")  # accepted, then reported undeliverable
    SUPPRESSED = "suppressed", _("Suppressed")  # a decoy's message: recorded, never sent


# Why a delivery failed when nothing was wrong with its recipient: its code expired unsent.
EXPIRED_BEFORE_SENDING = "expired before it could be sent"
EXPIRED_WHILE_CLAIMED = "expired while another attempt held the claim"
NEVER_TAKEN = "never sent: no worker took it before its code expired"
EXPIRED_UNSENT = frozenset({EXPIRED_BEFORE_SENDING, EXPIRED_WHILE_CLAIMED, NEVER_TAKEN})


class Delivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The sign-up subject (account id or decoy id) whose client may read this record.
    subject = models.UUIDField(_("subject"), db_index=True)
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    recipient_masked = models.CharField(_("recipient"), max_length=255)  # a masked e-mail keeps its whole domain
    purpose = models.CharField(_("purpose"), max_length=32)
    status = models.CharField(_("status"), max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    provider_message_id = models.CharField(
        _("provider message ID"), max_length=64, blank=True, default="", db_index=True
    )
    last_error = models.CharField(_("last error"), max_length=255, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The sweep of deliveries no worker sent (delivery_settle_unsent) reads only queued rows.
        indexes = [
            models.Index(fields=["created_at"], name="delivery_queued_created", condition=Q(status="queued")),
        ]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient_masked}: {self.status}"

    @property
    def expired_unsent(self) -> bool:
        """Failed only because its code expired before it was sent (a new code may well arrive)."""
        return self.status == DeliveryStatus.FAILED and self.last_error in EXPIRED_UNSENT
