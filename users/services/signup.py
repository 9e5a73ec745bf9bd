"""Sign-up: start with an e-mail address or a phone number, verify the code, ask for a new one.

An identifier that belongs to a finished account gets the same answer through the same steps, but
its owner receives a notice instead of a code and the token returned is a sign-up decoy's
(users/decoys.py). Each sign-up is an attempt of its own, named in its token: two people who start
a sign-up of one address hold different attempts, and only the attempt whose code was verified
can complete the profile (users/services/profile.py).
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications.services import TEMPLATE_SIGNUP_NOTICE, TEMPLATE_VERIFICATION_CODE
from project.masking import mask_recipient
from users.decoys import Decoy, decoys_remove_older_than, is_decoy, signup_subject
from users.identifiers import Identifier
from users.models import AuthStatus, AuthType, User
from users.services.codeflow import PURPOSE_SIGNUP, Message, code_confirm, code_resend, code_send, fixed_test_code
from users.sms_guard import SmsClient, sms_guard_check
from users.tokens import STAGE_NEW, STAGE_VERIFIED, SignupToken

logger = logging.getLogger(__name__)

PURPOSE_SIGNUP_NOTICE = "signup_notice"


@dataclass(frozen=True)
class SignupResult:
    access: str
    auth_type: str
    auth_status: str


def account_identifier(user: User) -> Identifier:
    """The identifier an account signed up with, where its codes go."""
    if user.auth_type == AuthType.EMAIL:
        return Identifier(AuthType.EMAIL, user.email)
    return Identifier(AuthType.PHONE, user.phone_number)


def _lookup(identifier: Identifier) -> dict[str, str]:
    return {"email" if identifier.is_email else "phone_number": identifier.value}


def account_for(identifier: Identifier) -> User | None:
    """The account an identifier belongs to, if any."""
    return User.objects.filter(**_lookup(identifier)).first()


def _pending_account(identifier: Identifier) -> User:
    user = account_for(identifier)
    if user is not None:
        if user.auth_status != AuthStatus.DONE:
            # A pending sign-up taken up again starts its abandonment clock again.
            User.objects.filter(pk=user.pk).update(date_joined=timezone.now())
        return user
    try:
        with transaction.atomic():
            user = User(auth_type=identifier.kind, auth_status=AuthStatus.NEW, **_lookup(identifier))
            user.set_unusable_password()
            user.save(force_insert=True)
            return user
    except IntegrityError:
        # A parallel sign-up with the same identifier created it first.
        return User.objects.get(**_lookup(identifier))


def _signup_message(to: Identifier, *, decoy: bool) -> Message:
    if decoy:
        return Message.notice(to, TEMPLATE_SIGNUP_NOTICE, PURPOSE_SIGNUP_NOTICE)
    return Message.code(to, TEMPLATE_VERIFICATION_CODE, PURPOSE_SIGNUP)


def signup_start(*, identifier: Identifier, client: SmsClient) -> SignupResult:
    """Create or reuse a pending account (or a decoy for a finished one) and send it a code."""
    if not identifier.is_email and fixed_test_code(identifier) is None:  # a test number is sent nothing
        sms_guard_check(number=identifier.value, client=client)  # before anything is written
    user = _pending_account(identifier)
    subject = signup_subject(account=user, identifier=identifier)
    message = _signup_message(identifier, decoy=subject.decoy)
    code_send(purpose=PURPOSE_SIGNUP, subject=subject.id, message=message, client=None)
    logger.info("sign-up %s for %s", subject.id, mask_recipient(identifier.value))
    token = SignupToken.for_subject(subject.id, stage=STAGE_NEW)
    return SignupResult(str(token), identifier.kind, AuthStatus.NEW)


def signup_verify(*, account: User | Decoy, code: str, attempt: uuid.UUID | None) -> str:
    """Check the code; on success mark the account verified by this sign-up ``attempt`` (whose
    tokens may then complete the profile) and return a verified sign-up token."""
    code_confirm(purpose=PURPOSE_SIGNUP, subject=account.id, code=code, decoy=is_decoy(account))
    User.objects.filter(pk=account.id, auth_status__in=(AuthStatus.NEW, AuthStatus.CODE_VERIFIED)).update(
        auth_status=AuthStatus.CODE_VERIFIED, verified_attempt=attempt
    )
    logger.info("sign-up %s verified", account.id)
    return str(SignupToken.for_subject(account.id, stage=STAGE_VERIFIED, attempt=attempt))


def signup_resend(*, account: User | Decoy, client: SmsClient) -> int:
    """Replace the current code with a new one and send it (a decoy's owner gets the notice again);
    returns the cooldown in seconds."""
    if is_decoy(account):
        if account.target is None:  # the account was finished meanwhile: a code that goes nowhere
            return code_resend(purpose=PURPOSE_SIGNUP, subject=account.id, message=None, client=None)
        message = _signup_message(account.target, decoy=True)
    else:
        message = _signup_message(account_identifier(account), decoy=False)
    return code_resend(purpose=PURPOSE_SIGNUP, subject=account.id, message=message, client=client)


def signups_remove_abandoned() -> int:
    """Delete sign-ups never completed within SIGNUP_ABANDON_HOURS, and sign-up decoys not renewed
    as long; returns how many sign-ups."""
    cutoff = timezone.now() - timedelta(hours=settings.SIGNUP_ABANDON_HOURS)
    abandoned = User.objects.exclude(auth_status=AuthStatus.DONE).filter(date_joined__lt=cutoff, is_staff=False)
    deleted, _ = abandoned.delete()
    decoys = decoys_remove_older_than(cutoff)
    if deleted or decoys:
        logger.info("removed %d abandoned sign-ups and %d decoys", deleted, decoys)
    return deleted
