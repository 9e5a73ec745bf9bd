"""The account model: one person, reached by an e-mail address or a phone number.

An account is created pending by sign-up (``auth_status`` ``new``), becomes ``code_verified`` when
the one-time code is confirmed and ``done`` when the profile has a username and a password. Only
``done`` accounts can log in. The primary key is a random UUID so that ids in tokens reveal nothing.
"""

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class AuthType(models.TextChoices):
    EMAIL = "via_email", "E-mail"
    PHONE = "via_phone", "Phone"


class AuthStatus(models.TextChoices):
    NEW = "new", "New"
    CODE_VERIFIED = "code_verified", "Code verified"
    DONE = "done", "Done"


class Gender(models.TextChoices):
    MALE = "male", "Male"
    FEMALE = "female", "Female"
    OTHER = "other", "Other"
    UNSPECIFIED = "unspecified", "Prefer not to say"


class AccountManager(UserManager):
    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The whole address, as sign-up and login read it: one person, one account.
        return (email or "").strip().lower()

    def _create_user(self, username, email, password, **extra_fields):
        extra_fields.setdefault("auth_status", AuthStatus.DONE)
        if email:
            extra_fields.setdefault("auth_type", AuthType.EMAIL)
        return super()._create_user(username, email or None, password, **extra_fields)


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Nullable until the profile is completed; unique regardless of case (constraint below).
    username = models.CharField(
        max_length=150, unique=True, null=True, blank=True, validators=[UnicodeUsernameValidator()]
    )
    email = models.EmailField(max_length=254, unique=True, null=True, blank=True)
    phone_number = models.CharField(max_length=16, unique=True, null=True, blank=True)  # E.164
    auth_type = models.CharField(max_length=16, choices=AuthType.choices, default=AuthType.EMAIL)
    auth_status = models.CharField(max_length=16, choices=AuthStatus.choices, default=AuthStatus.NEW, db_index=True)
    bio = models.TextField(max_length=500, blank=True, default="")
    gender = models.CharField(max_length=16, choices=Gender.choices, blank=True, default="")
    # The sign-up attempt (a claim of its sign-up tokens) whose code was verified: only that
    # attempt's tokens can complete the profile, not those of someone else who started a sign-up
    # of the same identifier.
    verified_attempt = models.UUIDField(null=True, blank=True, editable=False)

    objects = AccountManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("username"), name="users_user_username_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.username or str(self.id)

    def save(self, *args, **kwargs) -> None:
        # Empty strings would collide on the unique columns; absent means NULL.
        self.email = self.email or None
        self.phone_number = self.phone_number or None
        self.username = self.username or None
        super().save(*args, **kwargs)


class SignupDecoy(models.Model):
    """What stands for a finished account when someone signs up with one of its identifiers (see
    users/decoys.py). Kept and renewed exactly like a pending account: a row, renewed by each new
    sign-up, removed with the abandoned sign-ups."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    identifier_kind = models.CharField(max_length=16, choices=AuthType.choices)
    identifier = models.CharField(max_length=254)  # canonical e-mail or E.164 number
    renewed_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "identifier"], name="users_signupdecoy_owner_identifier"),
        ]

    def __str__(self) -> str:
        return f"decoy {self.id}"
