"""The account model: one person, reached by an e-mail address or a phone number.

An account is created pending by sign-up (``auth_status`` ``new``), becomes ``code_verified`` when
the one-time code is confirmed and ``done`` when the profile has a username and a password. Only
``done`` accounts can log in. The primary key is a random UUID so that ids in tokens reveal nothing.

``save()`` keeps the identity fields canonical (users/canonical.py): the e-mail address in its
canonical form, the username NFKC-normalized, and ``username_key``, the look-alike key of the
username, computed from it. The unique constraints on ``email`` and ``username_key`` are therefore
the canonical uniqueness; ``bulk_create`` and ``update`` bypass ``save()`` and must not be used to
set these fields.
"""

import uuid

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from users.canonical import (
    USERNAME_KEY_MAX_LENGTH,
    USERNAME_MAX_LENGTH,
    normalize_email,
    normalize_username,
    username_key,
    validate_email_address,
    validate_username,
)


class AuthType(models.TextChoices):
    EMAIL = "via_email", _("E-mail")
    PHONE = "via_phone", _("Phone")


class AuthStatus(models.TextChoices):
    NEW = "new", _("New")
    CODE_VERIFIED = "code_verified", _("Code verified")
    DONE = "done", _("Done")


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")
    OTHER = "other", pgettext_lazy("gender", "Other")
    UNSPECIFIED = "unspecified", _("Prefer not to say")


class AccountManager(UserManager):
    @classmethod
    def normalize_email(cls, email: str | None) -> str:
        # The canonical address, as sign-up and login read it: one person, one account. One
        # without a canonical form is left as it is, for the field's validators to refuse.
        return normalize_email(email or "") or (email or "").strip()

    def get_by_natural_key(self, username: str | None) -> "User":
        # By the key, as the API's login looks up usernames (the admin's log-in and createsuperuser's
        # "already taken" check use this).
        if not username:
            raise self.model.DoesNotExist
        return self.get(username_key=username_key(username))

    def username_taken(self, username: str, *, exclude_pk: uuid.UUID | None = None) -> bool:
        """Whether another account has this username or one that looks like it."""
        return self.filter(username_key=username_key(username)).exclude(pk=exclude_pk).exists()

    def _create_user(self, username, email, password, **extra_fields):
        extra_fields.setdefault("auth_status", AuthStatus.DONE)
        if email:
            extra_fields.setdefault("auth_type", AuthType.EMAIL)
        return super()._create_user(username, email or None, password, **extra_fields)


class User(AbstractUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Nullable until the profile is completed; unique by its key (below), whatever the case, width
    # or look-alike letters.
    username = models.CharField(
        _("username"),
        max_length=USERNAME_MAX_LENGTH,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_username],
    )
    username_key = models.CharField(
        max_length=USERNAME_KEY_MAX_LENGTH, unique=True, null=True, blank=True, editable=False
    )
    email = models.EmailField(
        _("e-mail address"), max_length=254, unique=True, null=True, blank=True, validators=[validate_email_address]
    )
    phone_number = models.CharField(_("phone number"), max_length=16, unique=True, null=True, blank=True)  # E.164
    auth_type = models.CharField(_("signed up with"), max_length=16, choices=AuthType.choices, default=AuthType.EMAIL)
    auth_status = models.CharField(
        _("sign-up status"), max_length=16, choices=AuthStatus.choices, default=AuthStatus.NEW, db_index=True
    )
    bio = models.TextField(_("bio"), max_length=500, blank=True, default="")
    gender = models.CharField(_("gender"), max_length=16, choices=Gender.choices, blank=True, default="")
    # The language of every message sent to this person, whatever the language of the request
    # that causes it: the one the sign-up was made in, changed with PATCH /user/me/.
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    # The sign-up attempt (a claim of its sign-up tokens) whose code was verified: only that
    # attempt's tokens can complete the profile, not those of someone else who started a sign-up
    # of the same identifier.
    verified_attempt = models.UUIDField(null=True, blank=True, editable=False)
    # A change of e-mail address or phone number waiting for its code (users/services/profile.py).
    pending_identifier_kind = models.CharField(
        _("pending change of"), max_length=16, choices=AuthType.choices, blank=True, default=""
    )
    pending_identifier = models.CharField(max_length=254, null=True, blank=True, editable=False)

    objects = AccountManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(username__isnull=True) | models.Q(username_key__isnull=False),
                name="users_user_username_has_key",
            ),
        ]

    def __str__(self) -> str:
        return self.username or str(self.id)

    def save(self, *args, **kwargs) -> None:
        # Empty strings would collide on the unique columns; absent means NULL.
        self.username = normalize_username(self.username) if self.username else None
        self.username_key = username_key(self.username) if self.username else None
        if self.email:
            email = normalize_email(self.email)
            if email is None:
                raise ValueError("not an e-mail address with a canonical form; validate before saving")
            self.email = email
        self.email = self.email or None
        self.phone_number = self.phone_number or None
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_key"}
        super().save(*args, **kwargs)
        password_set = self.__dict__.pop("_password_set", False)
        if (password_set or not self.is_active) and not kwargs.get("force_insert"):
            # A password set anywhere (the admin, `changepassword`) or a deactivation ends every
            # session, and with them every token issued before.
            Session.objects.filter(user=self, ended_at__isnull=True).update(
                ended_at=timezone.now(), end_reason=SessionEnd.PASSWORD if password_set else SessionEnd.DEACTIVATED
            )

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self.__dict__["_password_set"] = True

    def set_unusable_password(self) -> None:
        # The admin's "disable password-based authentication" is a password change too.
        super().set_unusable_password()
        self.__dict__["_password_set"] = True

    def check_password(self, raw_password: str | None) -> bool:
        # Django stores a new hash when the stored one is outdated (a hasher or its cost changed).
        # That is no password change: it must not end the sessions (else the first login after an
        # upgrade would end every other session, and a password check in the API the caller's own).
        # Django's own setter, without our mark.
        def upgrade(raw: str) -> None:
            AbstractUser.set_password(self, raw)
            self._password = None  # as Django's: an upgrade is not a password change
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, upgrade)


class SignupDecoy(models.Model):
    """What stands for a finished account when someone signs up with one of its identifiers (see
    users/decoys.py). Kept and renewed exactly like a pending account: a row, renewed by each new
    sign-up, removed with the abandoned sign-ups."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(User, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="+")
    identifier_kind = models.CharField(_("identifier type"), max_length=16, choices=AuthType.choices)
    identifier = models.CharField(_("identifier"), max_length=254)  # canonical e-mail or E.164 number
    renewed_at = models.DateTimeField(_("renewed at"), default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "identifier"], name="users_signupdecoy_owner_identifier"),
        ]

    def __str__(self) -> str:
        return f"decoy {self.id}"


class SessionMethod(models.TextChoices):
    PASSWORD = "password", _("Password")
    CODE = "code", _("One-time code")


class SessionEnd(models.TextChoices):
    LOGOUT = "logout", _("Logged out")
    ENDED = "ended", _("Ended from another session")
    LOGOUT_ALL = "logout_all", _("Logged out everywhere")
    PASSWORD = "password", _("Password changed or reset")
    REUSE = "reuse", _("Refresh token reused")
    DEACTIVATED = "deactivated", _("Account deactivated")


class Session(models.Model):
    """One login: a family of refresh tokens (users/services/sessions.py). Rotation moves
    ``generation`` on by one with a compare-and-swap, so of parallel refreshes of one token one
    wins, and a token of an older generation is a reuse. Ending a session ends its refresh and
    access tokens. The durable record of every token's validity: nothing in Redis."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="sessions")
    method = models.CharField(_("method"), max_length=16, choices=SessionMethod.choices)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_used_at = models.DateTimeField(_("last used at"), default=timezone.now)  # login or last refresh
    expires_at = models.DateTimeField(
        _("expires at"),
    )  # when the newest refresh token expires
    generation = models.PositiveIntegerField(_("generation"), default=1)
    rotated_at = models.DateTimeField(_("rotated at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("end reason"), max_length=16, choices=SessionEnd.choices, blank=True, default="")
    user_agent = models.CharField(_("user agent"), max_length=256, blank=True, default="")
    client = models.CharField(_("client network"), max_length=64, blank=True, default="")  # masked address

    class Meta:
        indexes = [
            models.Index(fields=["user", "ended_at"], name="users_session_user_live"),
            models.Index(fields=["expires_at"], name="users_session_expires"),  # housekeeping
            models.Index(fields=["ended_at"], name="users_session_ended"),  # housekeeping
        ]

    def __str__(self) -> str:
        return f"session {self.id}"
