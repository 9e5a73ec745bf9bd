"""How many segments an SMS costs, and a check that every SMS we send costs one.

A carrier sends a text in GSM-7 (3GPP TS 23.038: 160 characters a segment) when every character
is in the GSM-7 alphabet, and in UCS-2 (70 characters, counted in UTF-16 units) as soon as one is
not, as any Cyrillic letter is; a longer text is split into segments of 153 or 67 and billed per
segment. The check renders every SMS template in every language with the longest values the
settings allow (a code of VERIFICATION_CODE_LENGTH digits, the configured SMS_PRODUCT_NAME,
WEBOTP_DOMAIN and lifetime) and reports any that would cost more than one.
"""

import math
from dataclasses import dataclass

from django.conf import settings
from django.core.checks import Error, register

# The GSM-7 default alphabet, and its extension table (each of those costs two septets).
_GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

SMS_TEMPLATES = (
    "verification_code",
    "login_code",
    "password_reset_code",
    "identifier_change_code",
    "signup_notice",
    "password_changed_notice",
    "identifier_change_notice",
    "identifier_claim_notice",
)


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def sms_length(text: str) -> SmsLength:
    """The encoding a carrier uses for ``text``, its length in that encoding and its segments."""
    if all(char in _GSM7 or char in _GSM7_EXTENSION for char in text):
        units = len(text) + sum(char in _GSM7_EXTENSION for char in text)
        single, part = 160, 153
        encoding = "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part = 70, 67
        encoding = "UCS-2"
    segments = 1 if units <= single else math.ceil(units / part)
    return SmsLength(encoding, units, segments)


def sms_texts(*, ttl_minutes: int | None = None) -> dict[tuple[str, str], str]:
    """Every SMS in every language, (template, language) -> text, with the longest code the
    settings allow (and the configured names, domain and lifetime, or ``ttl_minutes``)."""
    from notifications.services import message_render  # services import the models: not at import time

    code = "9" * settings.VERIFICATION_CODE_LENGTH
    return {
        (template, language): message_render(template, code, language, ("sms",), ttl_minutes=ttl_minutes)["sms"]
        for template in SMS_TEMPLATES
        for language, _name in settings.LANGUAGES
    }


@register()
def sms_fit_one_segment(app_configs, **kwargs) -> list[Error]:
    """A system check (manage.py check, migrate, runserver): every SMS costs one segment."""
    errors = []
    for (template, language), text in sms_texts().items():
        length = sms_length(text)
        if length.segments > 1:
            errors.append(
                Error(
                    f"The {language} SMS {template!r} takes {length.segments} segments "
                    f"({length.units} {length.encoding} characters).",
                    hint="Shorten SMS_PRODUCT_NAME or WEBOTP_DOMAIN, or the translation.",
                    id="notifications.E001",
                )
            )
    return errors
