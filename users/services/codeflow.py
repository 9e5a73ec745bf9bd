"""The one code flow that every proof by code goes through: sign-up, password reset, login by
code and the change of an address or number.

:func:`code_send` issues a code bound to a purpose and a subject (an account or a decoy) and queues
one message: the code itself, a notice without it (to the owner of an identifier a stranger
named), or nothing at all (a suppressed delivery, queued anyway so that a decoy costs what a real
request costs). :func:`code_confirm` checks a code and turns the outcome into the API's errors; a
decoy never confirms. Test identifiers (TEST_IDENTIFIERS) get their fixed code and no message.
"""

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from notifications.models import Channel
from notifications.services import delivery_enqueue
from project import metrics
from project.exceptions import ApplicationError, RateLimited
from users.codes import CheckResult, Issued, code_check, code_consume, code_issue, code_revoke
from users.identifiers import Identifier, parse_identifier
from users.ratelimits import Hit, LimitReached
from users.sms_guard import SmsClient, sms_guard_hits, sms_refusal

logger = logging.getLogger(__name__)

PURPOSE_SIGNUP = "signup"
PURPOSE_PASSWORD_RESET = "password_reset"
PURPOSE_LOGIN_CODE = "login_code"
PURPOSE_CHANGE_IDENTIFIER = "change_identifier"


class CodeInvalid(ApplicationError):
    code = "code_invalid"
    message = _("The code is incorrect.")


class CodeExpired(ApplicationError):
    code = "code_expired"
    message = _("The code has expired or was already used. Request a new one.")


class CodeAttemptsExceeded(ApplicationError):
    code = "code_attempts_exceeded"
    message = _("Too many incorrect codes. Request a new one.")


@dataclass(frozen=True)
class Message:
    """What a code flow sends: ``template`` (templates/notifications/<template>_*) to ``to``, with
    the code in it or not. A message without a template is queued and never sent (a decoy's)."""

    to: Identifier
    template: str | None
    with_code: bool
    purpose: str  # of the delivery record: what the message is about
    language: str  # of the account it goes to, never the request's

    @classmethod
    def code(cls, to: Identifier, template: str, purpose: str, language: str) -> "Message":
        return cls(to, template, True, purpose, language)

    @classmethod
    def notice(cls, to: Identifier, template: str, purpose: str, language: str) -> "Message":
        return cls(to, template, False, purpose, language)

    @classmethod
    def suppressed(cls, to: Identifier, purpose: str) -> "Message":
        return cls(to, None, False, purpose, settings.LANGUAGE_CODE)


def channel_of(identifier: Identifier) -> str:
    return Channel.EMAIL if identifier.is_email else Channel.SMS


@lru_cache(maxsize=8)
def _test_codes(configured: tuple[tuple[str, str], ...]) -> dict[str, str]:
    codes = {}
    for raw, code in configured:
        identifier = parse_identifier(raw)
        if identifier is not None:
            codes[identifier.value] = code
    return codes


def fixed_test_code(identifier: Identifier) -> str | None:
    """The fixed code of a test identifier (TEST_IDENTIFIERS), or None."""
    configured = settings.TEST_IDENTIFIERS
    if not configured:
        return None
    return _test_codes(tuple(sorted(configured.items()))).get(identifier.value)


def code_issue_limited(
    *,
    purpose: str,
    subject: str,
    message: Message | None,
    client: SmsClient | None,
    hits: Sequence[Hit] = (),
    binding: str = "",
) -> tuple[Issued, str | None]:
    """Issue a code for (``purpose``, ``subject``), counting the request's rate limits (``hits``)
    and, for a message to a phone number on behalf of ``client``, the SMS rules, all in one step.
    Returns what was issued and the fixed code of a test identifier (which gets no message)."""
    fixed = fixed_test_code(message.to) if message else None
    number = message.to.value if message and fixed is None and not message.to.is_email and client else None
    sms_hits = sms_guard_hits(number=number, client=client) if number else []
    try:
        issued = code_issue(purpose=purpose, subject=subject, fixed=fixed, binding=binding, hits=[*hits, *sms_hits])
    except LimitReached as reached:
        raise (sms_refusal(reached, number=number, client=client) if number else reached) from None
    return issued, fixed


def code_send(
    *,
    purpose: str,
    subject: uuid.UUID,
    message: Message | None,
    client: SmsClient | None,
    binding: str = "",
    hits: Sequence[Hit] = (),
    code_subject: str | None = None,
) -> Issued:
    """Issue a code for (``purpose``, ``subject``), replacing the previous one, and queue
    ``message`` (None: none at all). The request's limits and, for a message to a phone number on
    behalf of ``client``, the SMS rules are counted with the code, in one step (``client`` None: the
    caller guarded the number already). A code issued with a ``binding`` (what it proves) confirms
    only with the same one. The code is kept under ``code_subject`` (a sign-up's code key) or else
    the subject. During the resend cooldown nothing is issued or queued (``Issued.code`` is None).
    If the message cannot be queued, the code and its cooldown are forgotten so that the client
    can retry."""
    code_subject = code_subject or str(subject)
    issued, fixed = code_issue_limited(
        purpose=purpose, subject=code_subject, message=message, client=client, hits=hits, binding=binding
    )
    if issued.code is None or message is None:
        return issued
    if fixed is not None:
        logger.info("%s code for %s: a test identifier, nothing sent", purpose, subject)
        return issued
    try:
        delivery_enqueue(
            subject=subject,
            channel=channel_of(message.to),
            recipient=message.to.value,
            purpose=message.purpose,
            template=message.template,
            language=message.language,
            code=issued.code if message.with_code else None,
        )
    except Exception:
        code_revoke(purpose=purpose, subject=code_subject)
        raise
    if message.with_code:
        metrics.CODES_ISSUED.labels(channel_of(message.to), purpose, metrics.country_of(message.to.value)).inc()
    return issued


def code_resend(
    *,
    purpose: str,
    subject: uuid.UUID,
    message: Message | None,
    client: SmsClient | None,
    binding: str = "",
    hits: Sequence[Hit] = (),
    code_subject: str | None = None,
) -> int:
    """Like :func:`code_send`, for an explicit request of a new code: the cooldown is a 429.
    Returns the seconds before another code may be asked for."""
    issued = code_send(
        purpose=purpose,
        subject=subject,
        message=message,
        client=client,
        binding=binding,
        hits=hits,
        code_subject=code_subject,
    )
    if issued.code is None:
        raise RateLimited(retry_after=issued.retry_after)
    return issued.retry_after


def notice_send(*, subject: uuid.UUID, to: Identifier, template: str, purpose: str, language: str) -> None:
    """Queue a notice without a code (a password changed, an address being replaced...) to ``to``
    about ``subject``'s account, in ``language`` (the account's); a test identifier gets none."""
    if fixed_test_code(to) is not None:
        return
    delivery_enqueue(
        subject=subject,
        channel=channel_of(to),
        recipient=to.value,
        purpose=purpose,
        template=template,
        language=language,
    )


def code_confirm(
    *,
    purpose: str,
    subject: uuid.UUID | str,
    code: str,
    decoy: bool,
    binding: str = "",
    consume: bool = True,
    hits: Sequence[Hit] = (),
) -> None:
    """Count one attempt at ``code`` (with the request's limits, ``hits``, in the same step) and
    consume it if right (issued with this ``binding``; ``consume=False``: leave that to
    :func:`code_use`); raise the matching error otherwise. A decoy never confirms, even on a lucky
    guess."""
    result = code_check(purpose=purpose, subject=str(subject), code=code, binding=binding, consume=consume, hits=hits)
    if result is CheckResult.OK and decoy:
        result = CheckResult.WRONG
    _counted(purpose, result)
    if result is CheckResult.WRONG:
        raise CodeInvalid(fields={"code": [CodeInvalid.message]})
    if result is CheckResult.EXHAUSTED:
        raise CodeAttemptsExceeded(fields={"code": [CodeAttemptsExceeded.message]})
    if result is CheckResult.MISSING:
        raise CodeExpired(fields={"code": [CodeExpired.message]})


def _counted(purpose: str, result: CheckResult) -> None:
    if result is CheckResult.OK:
        metrics.CODES_VERIFIED.labels(purpose).inc()
    elif result is CheckResult.WRONG:
        metrics.CODES_WRONG.labels(purpose).inc()
    else:
        reason = "exhausted" if result is CheckResult.EXHAUSTED else "expired"
        metrics.CODES_DEAD.labels(purpose, reason).inc()


def code_use(*, purpose: str, subject: uuid.UUID, code: str) -> None:
    """Use up a code that :func:`code_confirm` accepted with ``consume=False``; a parallel request
    that used it first leaves it expired for this one."""
    if not code_consume(purpose=purpose, subject=str(subject), code=code):
        raise CodeExpired(fields={"code": [CodeExpired.message]})
