"""The SMS-pumping guard: what must hold before a sign-up or a resend may queue an SMS.

Checked in this order, before anything is written or sent:

1. The number: its country is in SMS_ALLOWED_COUNTRIES and its line type can receive SMS.
2. The rate rules, counted together in one atomic step (users.ratelimits.ratelimit_hit_all):
   the client's network (``sms_network_hour``, ``sms_network_day``), the number range
   (``sms_prefix``), the destination country (``sms_country_day``) and, last, the daily budget
   (``sms_daily_budget``), the breaker. A request that one rule refuses is counted by none, so a
   few clients run into their own limits long before they could spend the budget of everyone.

Refusals are one generic ``sms_unavailable`` whatever the reason, so that the rules
cannot be probed one by one. Every request that passes counts, even one whose code the resend
cooldown then keeps from being sent: the budget errs on the safe side.
"""

import logging
from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.http import HttpRequest
from phonenumbers import PhoneNumberType

from project.exceptions import ApplicationError
from project.masking import mask_recipient
from users.ratelimits import ratelimit_hit_all, sms_network

logger = logging.getLogger(__name__)

# Line types that can receive SMS. US numbers are mostly FIXED_LINE_OR_MOBILE: the numbering plan
# does not tell them apart.
_SMS_LINE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})

BUDGET_RULE = "sms_daily_budget"
BUDGET_KEY = "all"  # the budget has one counter for every SMS


class SmsUnavailable(ApplicationError):
    code = "sms_unavailable"
    message = "We cannot send a code to this number. Use another number or an e-mail address."


@dataclass(frozen=True)
class SmsClient:
    """Who asks for an SMS."""

    network: str  # users.ratelimits.sms_network: what the per-network rules count

    @classmethod
    def of(cls, request: HttpRequest) -> "SmsClient":
        return cls(network=sms_network(request))


def _refused() -> SmsUnavailable:
    return SmsUnavailable(fields={"email_phone_number": [SmsUnavailable.message]})


def _log_refusal(rule: str, number: str, region: str, client: SmsClient) -> None:
    if rule == BUDGET_RULE:
        logger.error("SMS daily budget spent: new SMS are refused until the window ends")
    elif rule == "sms_prefix":
        logger.warning("SMS refused: burst to number range %s", mask_recipient(number))
    elif rule == "sms_country_day":
        logger.warning("SMS refused: the day's SMS to %s are spent", region)
    else:
        logger.warning("SMS refused: %s reached by client network %s", rule, client.network)


def sms_guard_check(*, number: str, client: SmsClient) -> None:
    """Raise unless an SMS may be sent to ``number`` (E.164) for ``client``; if it may, it is
    counted under every SMS rule."""
    parsed = phonenumbers.parse(number)
    region = phonenumbers.region_code_for_number(parsed) or "ZZ"
    allowed = settings.SMS_ALLOWED_COUNTRIES
    if allowed and region not in allowed:
        raise _refused()
    if phonenumbers.number_type(parsed) not in _SMS_LINE_TYPES:
        raise _refused()
    refused_by = ratelimit_hit_all(
        [
            ("sms_network_hour", client.network),
            ("sms_network_day", client.network),
            ("sms_prefix", number[:-3]),
            ("sms_country_day", region),
            (BUDGET_RULE, BUDGET_KEY),
        ]
    )
    if refused_by is not None:
        _log_refusal(refused_by, number, region, client)
        raise _refused()
