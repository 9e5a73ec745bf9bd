"""The profile: its first completion at the end of a sign-up, its later changes, and the change of
the e-mail address or phone number an account is reached by.

The first completion needs a username and a password and is open to the sign-up token of the
attempt whose code was verified (or the verified-stage token). Later changes take an access token;
a new password then needs the current one and ends every session. A change of address or number
is proven by a code sent to the new one (the old one gets a notice); an identifier that belongs to
someone else gets the same answers, its owner a notice, and can never be confirmed.
"""

import logging
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from notifications.services import (
    TEMPLATE_IDENTIFIER_CHANGE_CODE,
    TEMPLATE_IDENTIFIER_CHANGE_NOTICE,
    TEMPLATE_IDENTIFIER_CLAIM_NOTICE,
)
from project import metrics
from project.exceptions import ApplicationError
from users.identifiers import Identifier
from users.models import AuthStatus, AuthType, SessionEnd, User
from users.services.codeflow import (
    PURPOSE_CHANGE_IDENTIFIER,
    CodeExpired,
    CodeInvalid,
    Message,
    code_confirm,
    code_resend,
    fixed_test_code,
    notice_send,
)
from users.services.password import password_hash_checked, password_set
from users.services.signup import account_for, account_identifier
from users.sms_guard import SmsClient, sms_guard_check
from users.tokens import STAGE_VERIFIED, SignupToken

logger = logging.getLogger(__name__)

PURPOSE_IDENTIFIER_CHANGE_NOTICE = "identifier_change_notice"
PURPOSE_IDENTIFIER_CLAIM_NOTICE = "identifier_claim_notice"


class VerificationRequired(ApplicationError):
    status = 403
    code = "verification_required"
    message = _("Verify your e-mail address or phone number first.")


def _invalid(field: str, message: str) -> ApplicationError:
    return ApplicationError(_("Invalid input."), fields={field: [message]})


def _username_free(username: str | None, user: User) -> None:
    if username and User.objects.username_taken(username, exclude_pk=user.pk):
        raise _invalid("username", _("This username is taken."))


class _Conflict(Exception):
    """A unique value (username, address, number) was taken in the meantime."""


def _saved(user: User, changes: dict[str, Any], check: Callable[[User], None] | None = None) -> User:
    """Apply ``changes`` to the locked row of ``user`` (after ``check`` of it) and save it."""
    try:
        with transaction.atomic():
            locked = User.objects.select_for_update().get(pk=user.pk)
            if check is not None:
                check(locked)
            for field, value in changes.items():
                setattr(locked, field, value)
            locked.save()
    except IntegrityError as exc:
        raise _Conflict() from exc
    return locked


def _profile_saved(user: User, changes: dict[str, Any], check: Callable[[User], None] | None = None) -> User:
    try:
        return _saved(user, changes, check)
    except _Conflict as exc:
        raise _invalid("username", _("This username is taken.")) from exc


def _signup_token_may_complete(user: User, token: SignupToken) -> bool:
    """A verified-stage token may complete the profile, and so may the token of the very attempt
    whose code was verified (the seed's clients keep the token from sign-up): not the token of
    another attempt at the same identifier."""
    if user.auth_status != AuthStatus.CODE_VERIFIED:
        return False
    return token["stage"] == STAGE_VERIFIED or (token.attempt is not None and token.attempt == user.verified_attempt)


def profile_complete(
    *,
    user: User,
    signup_token: SignupToken,
    username: str | None = None,
    password: str | None = None,
    confirm_password: str | None = None,
    first_name: str | None = None,
    bio: str | None = None,
    gender: str | None = None,
    language: str | None = None,
    old_password: str | None = None,
) -> User:
    """Finish a sign-up: username and password (required), and the optional fields."""
    if not _signup_token_may_complete(user, signup_token):
        raise VerificationRequired()
    if not (username or user.username):
        raise _invalid("username", _("This field is required."))
    if password is None:
        raise _invalid("password", _("This field is required."))
    _username_free(username, user)
    password_hash = password_hash_checked(
        password=password, confirm_password=confirm_password, user=user, username=username, first_name=first_name
    )

    def still_verified(locked: User) -> None:
        if locked.auth_status == AuthStatus.DONE:
            raise VerificationRequired(_("This sign-up is already finished; log in instead."))
        if not _signup_token_may_complete(locked, signup_token):
            raise VerificationRequired()  # another attempt verified in the meantime

    given = {"first_name": first_name, "username": username, "bio": bio, "gender": gender, "language": language}
    changes = {field: value for field, value in given.items() if value is not None}
    completed = _profile_saved(
        user, {**changes, "password": password_hash, "auth_status": AuthStatus.DONE}, check=still_verified
    )
    metrics.PROFILES_COMPLETED.inc()
    return completed


def profile_change(
    *,
    user: User,
    first_name: str | None = None,
    username: str | None = None,
    bio: str | None = None,
    gender: str | None = None,
    language: str | None = None,
    password: str | None = None,
    confirm_password: str | None = None,
    old_password: str | None = None,
) -> User:
    """Change a finished profile (``language``: of the messages the account gets). A new password
    needs the current one and ends every session."""
    if user.auth_status != AuthStatus.DONE:
        raise VerificationRequired()
    _username_free(username, user)
    given = {"first_name": first_name, "username": username, "bio": bio, "gender": gender, "language": language}
    changes = {field: value for field, value in given.items() if value is not None}
    if password is None:
        return _profile_saved(user, changes)
    errors: dict[str, list[str]] = {}
    if not old_password or not user.check_password(old_password):
        errors["old_password"] = [_("Your current password is required and must be correct.")]
    try:
        password_hash = password_hash_checked(
            password=password, confirm_password=confirm_password, user=user, username=username, first_name=first_name
        )
    except ApplicationError as exc:
        errors.update(exc.fields)
    if errors:
        raise ApplicationError(_("Invalid input."), fields=errors)
    saved = _profile_saved(user, changes)
    password_set(user=saved, password_hash=password_hash, reason=SessionEnd.PASSWORD)
    saved.password = password_hash
    return saved


# --- the e-mail address or phone number ------------------------------------------------------------


def _identifier_field(kind: str) -> str:
    return "email" if kind == AuthType.EMAIL else "phone_number"


def _binding(identifier: Identifier) -> str:
    # The code proves the identifier it was sent to, and nothing else: not one named by a later
    # request that the cooldown refused, nor one written by a request racing this one.
    return f"{AuthType(identifier.kind).value}:{identifier.value}"


def identifier_change_request(*, user: User, identifier: Identifier, password: str, client: SmsClient) -> int:
    """Ask to reach the account by ``identifier`` from now on: a code goes to it, a notice to the
    account's current identifier of that kind. Returns the cooldown before another code."""
    if not user.check_password(password):
        raise _invalid("password", _("Your current password is required and must be correct."))
    current = getattr(user, _identifier_field(identifier.kind))
    if identifier.value == current:
        raise _invalid("email_phone_number", _("This is already the address or number of your account."))
    if not identifier.is_email and fixed_test_code(identifier) is None:
        sms_guard_check(number=identifier.value, client=client)  # before anything is written
    owner = account_for(identifier)
    if owner is not None:  # someone else's: its owner is told, and no code it could confirm goes out
        message = Message.notice(
            identifier, TEMPLATE_IDENTIFIER_CLAIM_NOTICE, PURPOSE_IDENTIFIER_CLAIM_NOTICE, owner.language
        )
    else:
        message = Message.code(identifier, TEMPLATE_IDENTIFIER_CHANGE_CODE, PURPOSE_CHANGE_IDENTIFIER, user.language)
    retry_after = code_resend(
        purpose=PURPOSE_CHANGE_IDENTIFIER, subject=user.pk, message=message, client=None, binding=_binding(identifier)
    )
    # Only once a code was issued for it (a request refused by the cooldown changes nothing).
    User.objects.filter(pk=user.pk).update(pending_identifier_kind=identifier.kind, pending_identifier=identifier.value)
    notice_send(
        subject=user.pk,
        to=Identifier(identifier.kind, current) if current else account_identifier(user),
        template=TEMPLATE_IDENTIFIER_CHANGE_NOTICE,
        purpose=PURPOSE_IDENTIFIER_CHANGE_NOTICE,
        language=user.language,
    )
    logger.info("identifier change of %s requested", user.id)
    return retry_after


def identifier_change_confirm(*, user: User, code: str) -> User:
    """Check the code and make the pending identifier the account's; the old one stops working
    for login at once. One that belongs to someone else never confirms."""
    pending = user.pending_identifier
    if not pending:
        raise CodeExpired(fields={"code": [CodeExpired.message]})
    kind = user.pending_identifier_kind
    taken = account_for(Identifier(kind, pending)) is not None
    code_confirm(
        purpose=PURPOSE_CHANGE_IDENTIFIER,
        subject=user.pk,
        code=code,
        decoy=taken,
        binding=_binding(Identifier(kind, pending)),
    )
    changes = {_identifier_field(kind): pending, "pending_identifier": None, "pending_identifier_kind": ""}
    try:
        saved = _saved(user, changes)
    except _Conflict as exc:  # taken in the meantime: the same answer as a wrong code
        raise CodeInvalid(fields={"code": [CodeInvalid.message]}) from exc
    logger.info("identifier of %s changed", user.id)
    return saved
