"""Delivery records: what was sent to whom (masked), through which channel, and how it went."""

import uuid

from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"  # accepted by the provider
    DELIVERED = "delivered", "Delivered"  # confirmed by the provider's status callback
    FAILED = "failed", "Failed"  # refused for good, or out of retries
    UNDELIVERED = "undelivered", "Undelivered"  # accepted, then reported undeliverable
    SUPPRESSED = "suppressed", "Suppressed"  # a decoy's message: recorded, never sent


class Delivery(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # The sign-up subject (account id or decoy id) whose client may read this record.
    subject = models.UUIDField(db_index=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    recipient_masked = models.CharField(max_length=255)  # a masked e-mail keeps its whole domain
    purpose = models.CharField(max_length=32)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    provider_message_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    last_error = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient_masked}: {self.status}"
