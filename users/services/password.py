"""Passwords: the checks every new password passes, and the reset of a forgotten one by code.

A password is validated with Django's validators and hashed before any transaction opens (a hash
costs ~100-200 ms of CPU). A reset starts from an e-mail address or a phone number and answers
alike for every identifier: a finished account gets a code where the identifier points, anything
else a flow decoy (users/decoys.py) whose message is queued and never sent. Confirming sets the new
password, ends every session (so every refresh and access token dies) and tells the owner.
"""

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import InvalidToken

from notifications.services import TEMPLATE_PASSWORD_CHANGED_NOTICE, TEMPLATE_PASSWORD_RESET_CODE
from project import sealing
from project.exceptions import ApplicationError
from users.decoys import Decoy, flow_subject, is_decoy
from users.identifiers import Identifier
from users.models import SessionEnd, User
from users.ratelimits import Hit
from users.services.codeflow import (
    PURPOSE_PASSWORD_RESET,
    Message,
    code_confirm,
    code_resend,
    code_send,
    code_use,
    notice_send,
)
from users.services.sessions import sessions_end
from users.services.signup import account_for, account_identifier
from users.sms_guard import SmsClient
from users.tokens import PasswordResetToken

logger = logging.getLogger(__name__)

PURPOSE_PASSWORD_CHANGED = "password_changed"
# A reset token carries the identifier its request named, sealed (unreadable, tamper-evident), so
# that a new code goes the same way for an account and for a decoy: both pass the SMS guard.
_SEAL_PURPOSE = "users.password_reset.identifier"


# Padded to one length (kind, "|", an address of up to 254 characters), so that every reset
# token is as long as any other.
_SEALED_LENGTH = 264


def _sealed(identifier: Identifier) -> str:
    plain = f"{identifier.kind}|{identifier.value}".encode().ljust(_SEALED_LENGTH)
    return sealing.seal(plain, purpose=_SEAL_PURPOSE)


def _unsealed(token: PasswordResetToken) -> Identifier:
    try:
        plain = sealing.unseal(str(token.get("to", "")), purpose=_SEAL_PURPOSE).decode().rstrip()
        kind, _, value = plain.partition("|")
    except sealing.Unsealable as exc:  # a token from before the claim: nowhere to send to
        raise InvalidToken("Token is invalid or expired.") from exc
    return Identifier(kind, value)


def password_hash_checked(*, password: str, confirm_password: str | None, user: User, **probe: Any) -> str:
    """Validate a new password (confirmation, Django's validators, similarity to the account's
    own data, overridden by ``probe``: a username or first name being set with it) and return its
    hash. Call outside any transaction."""
    password_checked(password=password, confirm_password=confirm_password, user=user, **probe)
    return make_password(password)


def password_checked(*, password: str, confirm_password: str | None, user: User, **probe: Any) -> None:
    """Validate a new password as :func:`password_hash_checked` does, without hashing it."""
    errors: dict[str, list[str]] = {}
    if confirm_password != password:
        errors["confirm_password"] = [_("The two passwords do not match.")]
    similar_to = User(
        username=probe.get("username") or user.username,
        email=user.email,
        first_name=probe.get("first_name") or user.first_name,
    )
    try:
        validate_password(password, user=similar_to)
    except DjangoValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ApplicationError(_("Invalid input."), fields=errors)


def _reset_message(to: Identifier, *, account: User | None) -> Message:
    """The reset code for a finished account, in its language; for a decoy, a message never sent."""
    if account is None:
        return Message.suppressed(to, PURPOSE_PASSWORD_RESET)
    return Message.code(to, TEMPLATE_PASSWORD_RESET_CODE, PURPOSE_PASSWORD_RESET, account.language)


def password_reset_request(*, identifier: Identifier, client: SmsClient, hits: Sequence[Hit] = ()) -> str:
    """Send a reset code to a finished account's ``identifier`` (a decoy's message otherwise) and
    return the reset token. A number passes the SMS guard whether an account stands behind it or
    not, counted with the request's limits (``hits``) and the code in one step."""
    account = account_for(identifier)
    subject = flow_subject(purpose=PURPOSE_PASSWORD_RESET, identifier=identifier, account=account)
    message = _reset_message(identifier, account=None if subject.decoy else account)
    code_send(purpose=PURPOSE_PASSWORD_RESET, subject=subject.id, message=message, client=client, hits=hits)
    logger.info("password reset %s requested", subject.id)
    return password_reset_token(subject=subject.id, identifier=identifier)


def password_reset_token(*, subject: uuid.UUID, identifier: Identifier) -> str:
    """The reset token of ``subject``, for a request that named ``identifier``."""
    return str(PasswordResetToken.for_subject(subject, to=_sealed(identifier)))


def password_reset_resend(
    *, account: User | Decoy, token: PasswordResetToken, client: SmsClient, hits: Sequence[Hit] = ()
) -> int:
    """A new reset code where the request pointed: for an account, its current identifier of
    that kind; for a decoy, the identifier named (a message never sent). Phone numbers pass the
    SMS guard in both cases."""
    named = _unsealed(token)
    if is_decoy(account):
        message = _reset_message(named, account=None)
    else:
        value = account.email if named.is_email else account.phone_number
        message = _reset_message(Identifier(named.kind, value), account=account) if value else None
    return code_resend(purpose=PURPOSE_PASSWORD_RESET, subject=account.id, message=message, client=client, hits=hits)


def password_reset_confirm(
    *, account: User | Decoy, code: str, password: str, confirm_password: str, hits: Sequence[Hit] = ()
) -> None:
    """Check the code, then set the new password, end every session and notify the owner."""
    # A weak password never burns the code: it is refused before the code is used. Until the code
    # is proven right, the password is judged without the account's own data, for a decoy as for an
    # account (whoever asks for a reset knows the address, and may guess the username), so that
    # the answers and their cost are the same; only then is it compared with that data and hashed.
    password_checked(password=password, confirm_password=confirm_password, user=User())
    code_confirm(
        purpose=PURPOSE_PASSWORD_RESET, subject=account.id, code=code, decoy=is_decoy(account), consume=False, hits=hits
    )
    password_hash = password_hash_checked(password=password, confirm_password=confirm_password, user=account)
    code_use(purpose=PURPOSE_PASSWORD_RESET, subject=account.id, code=code)
    password_set(user=account, password_hash=password_hash, reason=SessionEnd.PASSWORD)
    logger.info("password of %s reset", account.id)


def password_set(*, user: User, password_hash: str, reason: str) -> None:
    """Store a new password hash, end every session of the user and send the owner a notice."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(password=password_hash)
        sessions_end(user_id=user.pk, reason=reason)
    notice_send(
        subject=user.pk,
        to=account_identifier(user),
        template=TEMPLATE_PASSWORD_CHANGED_NOTICE,
        purpose=PURPOSE_PASSWORD_CHANGED,
        language=user.language,
    )
