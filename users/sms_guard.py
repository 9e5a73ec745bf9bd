"""The SMS-pumping guard: what must hold before a sign-up or a resend may queue an SMS.

Checked in this order, before anything is written or sent:

1. The number: its country is in SMS_ALLOWED_COUNTRIES and its line type can receive SMS.
2. The challenge (only with SMS_CHALLENGE_BACKEND set): once the day's SMS reach
   SMS_CHALLENGE_AFTER_SHARE of the daily budget, the client must send a challenge response
   that the provider accepts (users/challenges.py).
3. The rate rules, counted together in one atomic step (users.ratelimits.limits_hit, or the code
   store's script of a sign-up, with the request's other limits):
   the client's network (``sms_network_hour``, ``sms_network_day``), the number range
   (``sms_prefix``), the destination country (``sms_country_day``) and, last, the daily budget
   (``sms_daily_budget``), the breaker. A request that one rule refuses is counted by none, so a
   few clients run into their own limits long before they could spend the budget of everyone.

Refusals of 1 and 3 are one generic ``sms_unavailable`` whatever the reason, so that the rules
cannot be probed one by one. Every request that passes counts, even one whose code the resend
cooldown then keeps from being sent: the budget errs on the safe side.
"""

import logging
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from phonenumbers import PhoneNumberType

from project import metrics
from project.exceptions import ApplicationError
from project.masking import mask_recipient
from users.challenges import challenge_verify
from users.ratelimits import Hit, LimitReached, client_ip, limit_usage, limits_hit, sms_network

logger = logging.getLogger(__name__)

# Line types that can receive SMS. US numbers are mostly FIXED_LINE_OR_MOBILE: the numbering plan
# does not tell them apart.
_SMS_LINE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

BUDGET_RULE = "sms_daily_budget"
BUDGET_KEY = "all"  # the budget has one counter for every SMS


class SmsUnavailable(ApplicationError):
    code = "sms_unavailable"
    message = _("We cannot send a code to this number. Use another number or an e-mail address.")


class ChallengeRequired(ApplicationError):
    code = "challenge_required"
    message = _("Complete the challenge and send its response with the request.")


class ChallengeFailed(ApplicationError):
    code = "challenge_failed"
    message = _("The challenge was not passed. Complete it again and send the new response.")


@dataclass(frozen=True)
class SmsClient:
    """Who asks for an SMS."""

    network: str  # users.ratelimits.sms_network: what the per-network rules count
    address: str  # the client address, passed on to the challenge provider
    challenge: str = ""  # the challenge response the client sent, if any

    @classmethod
    def of(cls, request: HttpRequest, *, challenge: str = "") -> "SmsClient":
        return cls(network=sms_network(request), address=client_ip(request), challenge=challenge)


def _refused() -> SmsUnavailable:
    return SmsUnavailable(fields={"email_phone_number": [SmsUnavailable.message]})


def _challenge_due() -> bool:
    if not settings.SMS_CHALLENGE_BACKEND:
        return False
    share = settings.SMS_CHALLENGE_AFTER_SHARE
    usage = limit_usage(Hit(BUDGET_RULE, BUDGET_KEY)) if share > 0 else None
    # With no budget to take a share of, the challenge is always due.
    return usage is None or usage[0] >= share * usage[1]


def _challenge_check(client: SmsClient) -> None:
    if not client.challenge:
        raise ChallengeRequired(fields={"challenge": [ChallengeRequired.message]})
    if not challenge_verify(response=client.challenge, remoteip=client.address):
        raise ChallengeFailed(fields={"challenge": [ChallengeFailed.message]})


def _log_refusal(rule: str, number: str, region: str, client: SmsClient) -> None:
    if rule == BUDGET_RULE:
        logger.error("SMS daily budget spent: new SMS are refused until the window ends")
    elif rule == "sms_prefix":
        logger.warning("SMS refused: burst to number range %s", mask_recipient(number))
    elif rule == "sms_country_day":
        logger.warning("SMS refused: the day's SMS to %s are spent", region)
    else:
        logger.warning("SMS refused: %s reached by client network %s", rule, client.network)


# The SMS rules, in the order they are counted: the budget, the breaker, last.
SMS_RULES = ("sms_network_hour", "sms_network_day", "sms_prefix", "sms_country_day", BUDGET_RULE)


def sms_guard_hits(*, number: str, client: SmsClient) -> list[Hit]:
    """Check what can be checked before counting (country, line type, the challenge when due) and
    return the SMS rules' hits for ``number`` (E.164), for the caller to count with its own limits
    in one step (users.ratelimits.limits_hit, or the code store's scripts). A LimitReached of one of
    these rules is turned into the generic refusal by :func:`sms_refusal`."""
    parsed = phonenumbers.parse(number)
    region = phonenumbers.region_code_for_number(parsed) or "ZZ"
    allowed = settings.SMS_ALLOWED_COUNTRIES
    if allowed and region not in allowed:
        metrics.SMS_REFUSED.labels("country").inc()
        raise _refused()
    if phonenumbers.number_type(parsed) not in _SMS_LINE_TYPES:
        metrics.SMS_REFUSED.labels("line_type").inc()
        raise _refused()
    if _challenge_due():
        _challenge_check(client)
    keys = (client.network, client.network, number[:-3], region, BUDGET_KEY)
    return [Hit(rule, key) for rule, key in zip(SMS_RULES, keys, strict=True)]


def sms_refusal(reached: LimitReached, *, number: str, client: SmsClient) -> ApplicationError:
    """What the client is told when ``reached`` came from a rule: the generic SMS refusal for the
    SMS rules (logged with the rule), the 429 itself for any other."""
    if reached.rule not in SMS_RULES:
        return reached
    region = phonenumbers.region_code_for_number(phonenumbers.parse(number)) or "ZZ"
    _log_refusal(reached.rule, number, region, client)
    metrics.SMS_REFUSED.labels(reached.rule).inc()
    return _refused()


def sms_guard_check(*, number: str, client: SmsClient) -> None:
    """Raise unless an SMS may be sent to ``number`` (E.164) for ``client``; if it may, it is
    counted under every SMS rule (one round trip)."""
    hits = sms_guard_hits(number=number, client=client)
    try:
        limits_hit(hits)
    except LimitReached as reached:
        raise sms_refusal(reached, number=number, client=client) from None
