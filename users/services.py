"""The account flows: sign-up, verification, resend, profile, login, refresh and logout.

Views validate input and call exactly one of these; failures are :class:`ApplicationError`
subclasses with stable codes. Passwords are hashed before any transaction opens, and deliveries
are queued to run after commit.
"""

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework import status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from notifications.models import Channel
from notifications.services import TEMPLATE_SIGNUP_NOTICE, TEMPLATE_VERIFICATION_CODE, delivery_enqueue
from project.exceptions import ApplicationError, RateLimited
from project.masking import mask_recipient
from users.codes import CheckResult, Issued, code_check, code_issue, code_revoke
from users.decoys import decoy_for, decoys_remove_older_than
from users.identifiers import Identifier, LoginName, login_name
from users.models import AuthStatus, AuthType, User
from users.ratelimits import ratelimit_hit, ratelimit_refund
from users.sms_guard import SmsClient, sms_guard_check
from users.tokens import STAGE_NEW, STAGE_VERIFIED, DecoySignup, RefreshToken, RotatingRefreshToken, SignupToken

logger = logging.getLogger(__name__)

PURPOSE_SIGNUP = "signup"
PURPOSE_SIGNUP_NOTICE = "signup_notice"


class CodeInvalid(ApplicationError):
    code = "code_invalid"
    message = "The code is incorrect."


class CodeExpired(ApplicationError):
    code = "code_expired"
    message = "The code has expired or was already used. Request a new one."


class CodeAttemptsExceeded(ApplicationError):
    code = "code_attempts_exceeded"
    message = "Too many incorrect codes. Request a new one."


class VerificationRequired(ApplicationError):
    status = status.HTTP_403_FORBIDDEN
    code = "verification_required"
    message = "Verify your e-mail address or phone number first."


class InvalidCredentials(ApplicationError):
    status = status.HTTP_401_UNAUTHORIZED
    code = "invalid_credentials"
    message = "No active account found with the given credentials."


class RefreshTokenInvalid(ApplicationError):
    status = status.HTTP_401_UNAUTHORIZED
    code = "token_not_valid"
    message = "Token is invalid or expired."


@dataclass(frozen=True)
class SignupResult:
    access: str
    auth_type: str
    auth_status: str


def _channel(identifier_kind: str) -> str:
    return Channel.EMAIL if identifier_kind == AuthType.EMAIL else Channel.SMS


def _recipient(user: User) -> str:
    return user.email if user.auth_type == AuthType.EMAIL else user.phone_number


def _lookup_field(identifier: Identifier) -> str:
    return "email" if identifier.is_email else "phone_number"


def _pending_account(identifier: Identifier) -> User:
    field = _lookup_field(identifier)
    user = User.objects.filter(**{field: identifier.value}).first()
    if user is not None:
        if user.auth_status != AuthStatus.DONE:
            # A pending sign-up taken up again starts its abandonment clock again.
            User.objects.filter(pk=user.pk).update(date_joined=timezone.now())
        return user
    try:
        with transaction.atomic():
            user = User(auth_type=identifier.kind, auth_status=AuthStatus.NEW, **{field: identifier.value})
            user.set_unusable_password()
            user.save(force_insert=True)
            return user
    except IntegrityError:
        # A parallel sign-up with the same identifier created it first.
        return User.objects.get(**{field: identifier.value})


def _issue_and_send(*, subject: uuid.UUID, kind: str, recipient: str | None, notice: bool) -> Issued:
    """Issue a sign-up code for ``subject`` and queue its message to ``recipient``: the code itself,
    or, for a decoy (``notice``), a notice to the owner of the finished account without the code.
    Nothing is queued during the resend cooldown, or without a recipient. If the message cannot be
    queued, the code and its cooldown are forgotten so that the client can simply retry."""
    issued = code_issue(purpose=PURPOSE_SIGNUP, subject=str(subject))
    if issued.code is None or recipient is None:
        return issued
    try:
        delivery_enqueue(
            subject=subject,
            channel=_channel(kind),
            recipient=recipient,
            purpose=PURPOSE_SIGNUP_NOTICE if notice else PURPOSE_SIGNUP,
            template=TEMPLATE_SIGNUP_NOTICE if notice else TEMPLATE_VERIFICATION_CODE,
            code=None if notice else issued.code,
        )
    except Exception:
        code_revoke(purpose=PURPOSE_SIGNUP, subject=str(subject))
        raise
    return issued


def user_signup(*, identifier: Identifier, client: SmsClient) -> SignupResult:
    """Create or reuse a pending account and send it a code.

    An identifier that belongs to a finished account gets the same answer through the same steps,
    but its owner receives a notice instead of a code and the returned token is a decoy that
    nothing can complete. Each call is a new sign-up attempt, named in the token: two people who
    start a sign-up of one address hold different attempts.
    """
    if not identifier.is_email:
        sms_guard_check(number=identifier.value, client=client)
    user = _pending_account(identifier)
    finished = user.auth_status == AuthStatus.DONE
    subject = decoy_for(owner_pk=user.pk, identifier=identifier) if finished else user.id
    _issue_and_send(subject=subject, kind=identifier.kind, recipient=identifier.value, notice=finished)
    logger.info("sign-up %s for %s", subject, mask_recipient(identifier.value))
    token = SignupToken.for_subject(subject, stage=STAGE_NEW)
    return SignupResult(str(token), identifier.kind, AuthStatus.NEW)


def user_verify(*, account: User | DecoySignup, code: str, attempt: uuid.UUID | None) -> str:
    """Check the code; on success mark the account verified by this sign-up ``attempt`` (whose
    tokens may then complete the profile) and return a verified sign-up token."""
    result = code_check(purpose=PURPOSE_SIGNUP, subject=str(account.id), code=code)
    if result is CheckResult.OK and isinstance(account, DecoySignup):
        result = CheckResult.WRONG  # a decoy never verifies, even on a lucky guess
    if result is CheckResult.WRONG:
        raise CodeInvalid(fields={"code": [CodeInvalid.message]})
    if result is CheckResult.EXHAUSTED:
        raise CodeAttemptsExceeded(fields={"code": [CodeAttemptsExceeded.message]})
    if result is CheckResult.MISSING:
        raise CodeExpired(fields={"code": [CodeExpired.message]})
    User.objects.filter(pk=account.id, auth_status__in=(AuthStatus.NEW, AuthStatus.CODE_VERIFIED)).update(
        auth_status=AuthStatus.CODE_VERIFIED, verified_attempt=attempt
    )
    logger.info("sign-up %s verified", account.id)
    return str(SignupToken.for_subject(account.id, stage=STAGE_VERIFIED, attempt=attempt))


def user_resend_code(*, account: User | DecoySignup, client: SmsClient) -> int:
    """Replace the current code with a new one and send it (a decoy's owner gets the notice again);
    returns the cooldown in seconds."""
    decoy = isinstance(account, DecoySignup)
    if decoy:
        target = account.target
        kind, recipient = (target.kind, target.value) if target else (AuthType.EMAIL, None)
    else:
        kind, recipient = account.auth_type, _recipient(account)
    if recipient is not None and kind == AuthType.PHONE:
        sms_guard_check(number=recipient, client=client)
    issued = _issue_and_send(subject=account.id, kind=kind, recipient=recipient, notice=decoy)
    if issued.code is None:
        raise RateLimited(retry_after=issued.retry_after)
    return issued.retry_after


def _password_fields_check(*, user: User, data: dict[str, Any], first_completion: bool) -> str | None:
    """Validate a password change and return its hash, computed outside any transaction."""
    password = data.get("password")
    if password is None:
        if first_completion:
            raise ApplicationError("Invalid input.", fields={"password": ["This field is required."]})
        return None
    errors: dict[str, list[str]] = {}
    if data.get("confirm_password") != password:
        errors["confirm_password"] = ["The two passwords do not match."]
    if not first_completion:
        old = data.get("old_password")
        if not old or not user.check_password(old):
            errors["old_password"] = ["Your current password is required and must be correct."]
    probe = User(
        username=data.get("username") or user.username,
        email=user.email,
        first_name=data.get("first_name") or user.first_name,
    )
    try:
        validate_password(password, user=probe)
    except DjangoValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ApplicationError("Invalid input.", fields=errors)
    return make_password(password)


def _signup_token_may_complete(user: User, token: SignupToken) -> bool:
    """A verified-stage token may complete the profile, and so may the token of the very attempt
    whose code was verified (the seed's clients keep the token from sign-up): not the token of
    another attempt at the same identifier."""
    if user.auth_status != AuthStatus.CODE_VERIFIED:
        return False
    return token["stage"] == STAGE_VERIFIED or (token.attempt is not None and token.attempt == user.verified_attempt)


def user_update_profile(*, user: User, data: dict[str, Any], signup_token: SignupToken | None) -> User:
    """Complete or change the profile. The first completion needs a username and a password.

    ``signup_token`` is the sign-up token used, or None for a normal access token.
    """
    via_signup = signup_token is not None
    if user.auth_status == AuthStatus.NEW or (via_signup and not _signup_token_may_complete(user, signup_token)):
        raise VerificationRequired()
    first_completion = user.auth_status == AuthStatus.CODE_VERIFIED
    if first_completion and not (data.get("username") or user.username):
        raise ApplicationError("Invalid input.", fields={"username": ["This field is required."]})
    username = data.get("username")
    if username and User.objects.username_taken(username, exclude_pk=user.pk):
        raise ApplicationError("Invalid input.", fields={"username": ["This username is taken."]})
    password_hash = _password_fields_check(user=user, data=data, first_completion=first_completion)

    try:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            if via_signup and locked.auth_status == AuthStatus.DONE:
                raise VerificationRequired("This sign-up is already finished; log in instead.")
            if via_signup and not _signup_token_may_complete(locked, signup_token):
                raise VerificationRequired()  # another attempt verified in the meantime
            for field in ("first_name", "username", "bio", "gender"):
                if field in data:
                    setattr(locked, field, data[field])
            if password_hash is not None:
                locked.password = password_hash
            if first_completion:
                locked.auth_status = AuthStatus.DONE
            locked.save()
            if password_hash is not None and not first_completion:
                user_revoke_refresh_tokens(user=locked)
    except IntegrityError as exc:
        raise ApplicationError("Invalid input.", fields={"username": ["This username is taken."]}) from exc
    return locked


def _login_candidate(name: LoginName) -> User | None:
    """The one account a login name designates (usernames can be neither an e-mail address nor a
    phone number, so the three never shadow each other). A username is looked up by its key, so a
    look-alike spelling reaches the one account it collides with."""
    lookup = {"email": "email", "phone": "phone_number", "username": "username_key"}[name.kind]
    return User.objects.filter(**{lookup: name.value}).first()


# Hashed once per process; checked against for unknown users so that they cost the same time.
_dummy_hash: str | None = None


def user_login(*, user_input: str, password: str, client_address: str) -> dict[str, str]:
    """Check the credentials and issue a token pair. Every failure is the same 401 and costs the
    same password hash. Failures slow down further tries of that name from that address for a
    while (login_account_failures): keyed on the canonical form of what was typed (look-alike
    spellings of a name count together), not on the account, so the limit neither locks the owner
    out from elsewhere nor tells which names belong to one account. Each
    try is counted before the hash and refunded on success, so parallel guesses cannot slip past.
    """
    global _dummy_hash
    name = login_name(user_input)
    throttle_key = f"{name.kind}:{name.value}|{client_address}"
    ratelimit_hit(None, "login_account_failures", throttle_key)
    user = _login_candidate(name)
    if user is None:
        _dummy_hash = _dummy_hash or make_password("not the password")
        check_password(password, _dummy_hash)
        password_ok = False
    else:
        password_ok = user.check_password(password)
    if not password_ok or not user.is_active or user.auth_status != AuthStatus.DONE:
        raise InvalidCredentials()
    ratelimit_refund("login_account_failures", throttle_key)
    refresh = RefreshToken.for_user(user)
    logger.info("login %s", user.id)
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def user_revoke_refresh_tokens(*, user: User) -> int:
    """Blacklist every outstanding refresh token of the user; returns how many were added."""
    outstanding = OutstandingToken.objects.filter(user=user).exclude(blacklistedtoken__isnull=False)
    return len(
        BlacklistedToken.objects.bulk_create(
            [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
        )
    )


def token_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token. The old one is blacklisted atomically: of parallel refreshes of one
    token exactly one succeeds, and reuse of a rotated token (after a few seconds of grace)
    revokes the user's whole family."""
    try:
        token = RotatingRefreshToken(refresh)
    except TokenError as exc:
        raise RefreshTokenInvalid() from exc
    jti = token.get("jti")
    outstanding = OutstandingToken.objects.select_related("user").filter(jti=jti).first()
    user = outstanding.user if outstanding is not None else None
    if user is None or str(user.pk) != str(token.get("user_id")):
        raise RefreshTokenInvalid()
    if not user.is_active or user.auth_status != AuthStatus.DONE:
        raise RefreshTokenInvalid()
    if token.get(jwt_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(user.password):
        raise RefreshTokenInvalid()  # issued before a password change: revoked, not stolen
    try:
        with transaction.atomic():
            BlacklistedToken.objects.create(token=outstanding)
            new = RefreshToken.for_user(user)
    except IntegrityError:
        if cache.get(_logged_out_key(jti)) or _rotated_moments_ago(outstanding):
            raise RefreshTokenInvalid() from None
        revoked = user_revoke_refresh_tokens(user=user)
        logger.warning("refresh token reuse for user %s: %d tokens revoked", user.id, revoked)
        raise RefreshTokenInvalid() from None
    return {"access": str(new.access_token), "refresh": str(new)}


def _rotated_moments_ago(outstanding: OutstandingToken) -> bool:
    """Whether the token was blacklisted within REFRESH_REUSE_GRACE_SECONDS: a client retrying a
    refresh that timed out, or two tabs refreshing at once, is refused without logging the user out
    everywhere; a replay after that revokes the whole family."""
    grace = settings.REFRESH_REUSE_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=grace)
    return grace > 0 and BlacklistedToken.objects.filter(token=outstanding, blacklisted_at__gte=cutoff).exists()


def user_logout(*, user: User, refresh: str) -> None:
    try:
        token = RefreshToken(refresh, verify=True)
    except TokenError as exc:
        raise ApplicationError(
            "The refresh token is invalid or expired.", fields={"refresh": ["Token is invalid or expired."]}
        ) from exc
    if str(token.get("user_id")) != str(user.pk):
        raise ApplicationError(
            "The refresh token does not belong to you.",
            fields={"refresh": ["The refresh token does not belong to you."]},
        )
    outstanding = OutstandingToken.objects.filter(jti=token.get("jti")).first()
    if outstanding is not None:
        BlacklistedToken.objects.get_or_create(token=outstanding)
    try:
        # Tells rotation that a later use of this token is a stale client, not a stolen token.
        cache.set(_logged_out_key(token.get("jti")), 1, timeout=max(1, int(token["exp"] - time.time())))
    except RedisError:
        logger.warning("logout %s: could not record the logout marker", user.id)
    logger.info("logout %s", user.id)


def _logged_out_key(jti: str) -> str:
    return f"refresh-logged-out:{jti}"


def user_remove_abandoned_signups() -> int:
    """Delete sign-ups never completed within SIGNUP_ABANDON_HOURS; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.SIGNUP_ABANDON_HOURS)
    abandoned = User.objects.exclude(auth_status=AuthStatus.DONE).filter(date_joined__lt=cutoff, is_staff=False)
    deleted, _ = abandoned.delete()
    deleted += decoys_remove_older_than(cutoff)
    if deleted:
        logger.info("removed %d abandoned sign-ups", deleted)
    return deleted
