"""Sign-up: start with an e-mail address or a phone number, verify the code, ask for a new one.

An identifier that belongs to a finished account gets the same answer through the same steps, but
its owner receives a notice instead of a code and the token returned is a sign-up decoy's
(users/decoys.py). Each sign-up is an attempt of its own, named in its token: two people who start
a sign-up of one address hold different attempts, and only the attempt whose code was verified
can complete the profile (users/services/profile.py).

These are the hottest paths, so each costs as few round trips as it can: a sign-up is one Redis
script (its limits, the code and its cooldown), one database statement (users/services/
signup_record.py) and one publish; a verify with a wrong code is one Redis script and no SQL.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import salted_hmac

from notifications.services import (
    TEMPLATE_SIGNUP_NOTICE,
    TEMPLATE_VERIFICATION_CODE,
    delivery_publish,
    delivery_sealed,
)
from project import metrics
from project.batches import delete_in_batches
from project.logs import log_subject
from project.masking import mask_recipient
from users.codes import code_revoke
from users.decoys import Decoy, decoys_remove_older_than, is_decoy
from users.identifiers import Identifier
from users.models import AuthStatus, AuthType, User
from users.ratelimits import Hit
from users.services.codeflow import (
    PURPOSE_SIGNUP,
    CodeInvalid,
    Message,
    channel_of,
    code_confirm,
    code_issue_limited,
    code_resend,
)
from users.services.signup_record import PURPOSE_SIGNUP_NOTICE, DeliveryDraft, signup_record
from users.sms_guard import SmsClient
from users.tokens import STAGE_NEW, STAGE_VERIFIED, SignupToken

logger = logging.getLogger(__name__)


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


def account_for(identifier: Identifier) -> User | None:
    """The account an identifier belongs to, if any."""
    field = "email" if identifier.is_email else "phone_number"
    return User.objects.filter(**{field: identifier.value}).first()


def signup_code_key(identifier: Identifier) -> str:
    """What a sign-up's code is kept under: the identifier's keyed hash, known before any account
    is read (so that the code and the request's limits are one step ahead of the one write), the
    same for every attempt at one identifier, unreadable without SECRET_KEY. Sign-up tokens carry
    it (``ck``)."""
    digest = salted_hmac("users.signup.code", f"{identifier.kind}|{identifier.value}", algorithm="sha256")
    return digest.hexdigest()[:32]


def _code_key_of(token: SignupToken) -> str:
    # A token from before ``ck`` kept its code under its subject.
    return token.get("ck") or str(token.subject)


def _signup_message(to: Identifier, *, decoy: bool, language: str) -> Message:
    if decoy:
        return Message.notice(to, TEMPLATE_SIGNUP_NOTICE, PURPOSE_SIGNUP_NOTICE, language)
    return Message.code(to, TEMPLATE_VERIFICATION_CODE, PURPOSE_SIGNUP, language)


def signup_start(*, identifier: Identifier, client: SmsClient, language: str, hits: Sequence[Hit] = ()) -> SignupResult:
    """Start a sign-up in ``language`` (the request's): the request's limits (``hits``, and the SMS
    rules for a number) and the code in one Redis step, the account (or a decoy for a finished one)
    and the delivery record in one database statement, then one publish: the code to a new sign-up,
    a notice to the owner of a finished account, each in the account's language."""
    code_key = signup_code_key(identifier)
    issued, fixed = code_issue_limited(
        purpose=PURPOSE_SIGNUP,
        subject=code_key,
        message=_signup_message(identifier, decoy=False, language=language),
        client=client,
        hits=hits,
    )
    sends = issued.code is not None and fixed is None
    draft = DeliveryDraft(uuid.uuid4(), channel_of(identifier), identifier.value) if sends else None
    try:
        record = signup_record(identifier=identifier, delivery=draft, language=language)
        if draft is not None:
            message = _signup_message(identifier, decoy=record.subject.decoy, language=record.language)
            sealed = delivery_sealed(
                recipient=identifier.value,
                template=message.template,
                code=issued.code if message.with_code else None,
                language=message.language,
            )
            delivery_publish(str(draft.id), sealed)
    except Exception:
        if issued.code is not None:  # the code cannot be sent: forget it and its cooldown, so a retry works
            code_revoke(purpose=PURPOSE_SIGNUP, subject=code_key)
        raise
    if draft is not None and not record.subject.decoy:
        metrics.SIGNUPS_STARTED.labels(draft.channel).inc()
        metrics.CODES_ISSUED.labels(draft.channel, PURPOSE_SIGNUP, metrics.country_of(identifier.value)).inc()
    masked = mask_recipient(identifier.value)
    log_subject(masked)
    logger.info("sign-up %s for %s", record.subject.id, masked)
    token = SignupToken.for_subject(record.subject.id, stage=STAGE_NEW, code_key=code_key)
    return SignupResult(str(token), identifier.kind, AuthStatus.NEW)


def signup_verify(*, token: SignupToken, code: str, hits: Sequence[Hit] = ()) -> str:
    """Check the code (with the request's limits in the same step: a wrong code reads no database);
    on success mark the account verified by this sign-up's attempt (whose tokens may then complete
    the profile) and return a verified sign-up token. A decoy, or an account finished or gone
    meanwhile, never verifies."""
    code_key = _code_key_of(token)
    code_confirm(purpose=PURPOSE_SIGNUP, subject=code_key, code=code, decoy=False, hits=hits)
    verified = User.objects.filter(
        pk=token.subject, auth_status__in=(AuthStatus.NEW, AuthStatus.CODE_VERIFIED), is_active=True
    ).update(auth_status=AuthStatus.CODE_VERIFIED, verified_attempt=token.attempt)
    if not verified:
        raise CodeInvalid(fields={"code": [CodeInvalid.message]})
    logger.info("sign-up %s verified", token.subject)
    verified_token = SignupToken.for_subject(
        token.subject, stage=STAGE_VERIFIED, attempt=token.attempt, code_key=code_key
    )
    return str(verified_token)


def signup_resend(*, account: User | Decoy, token: SignupToken, client: SmsClient, hits: Sequence[Hit] = ()) -> int:
    """Replace the current code with a new one and send it (a decoy's owner gets the notice again);
    returns the cooldown in seconds."""
    if is_decoy(account):
        message = _signup_message(account.target, decoy=True, language=account.language) if account.target else None
    else:
        message = _signup_message(account_identifier(account), decoy=False, language=account.language)
    return code_resend(
        purpose=PURPOSE_SIGNUP,
        subject=account.id,
        code_subject=_code_key_of(token),
        message=message,
        client=client if message else None,
        hits=hits,
    )


def signups_remove_abandoned() -> int:
    """Delete sign-ups never completed within SIGNUP_ABANDON_HOURS, and sign-up decoys not renewed
    as long, in batches; returns how many sign-ups."""
    cutoff = timezone.now() - timedelta(hours=settings.SIGNUP_ABANDON_HOURS)
    abandoned = User.objects.exclude(auth_status=AuthStatus.DONE).filter(date_joined__lt=cutoff, is_staff=False)
    deleted = delete_in_batches(abandoned)
    decoys = decoys_remove_older_than(cutoff)
    if deleted or decoys:
        logger.info("removed %d abandoned sign-ups and %d decoys", deleted, decoys)
    return deleted
