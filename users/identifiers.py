"""Reading what a person types as "e-mail or phone number" into one canonical form.

E-mail addresses are lower-cased whole (one person, one account, whatever the capitals); phone
numbers are parsed with phonenumbers and kept in E.164. Numbers written without "+" are read in
``settings.DEFAULT_PHONE_REGION``.
"""

from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from users.models import AuthType

_email_validator = EmailValidator()


@dataclass(frozen=True)
class Identifier:
    kind: str  # AuthType value
    value: str  # lower-cased e-mail or E.164 number

    @property
    def is_email(self) -> bool:
        return self.kind == AuthType.EMAIL


def normalize_email(value: str) -> str | None:
    value = value.strip().lower()
    try:
        _email_validator(value)
    except ValidationError:
        return None
    return value


def normalize_phone(value: str) -> str | None:
    value = value.strip()
    if not value or len(value) > 32:
        return None
    try:
        parsed = phonenumbers.parse(value, settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def parse_identifier(value: str) -> Identifier | None:
    """An e-mail address or a phone number in canonical form, or None if it is neither."""
    if "@" in value:
        email = normalize_email(value)
        return Identifier(AuthType.EMAIL, email) if email else None
    phone = normalize_phone(value)
    return Identifier(AuthType.PHONE, phone) if phone else None


@dataclass(frozen=True)
class LoginName:
    kind: str  # "email", "phone" or "username"
    value: str  # normalized: lower-cased e-mail, E.164 number, lower-cased username


def login_name(value: str) -> LoginName:
    """What a login's ``user_input`` names: an e-mail address if it has an "@", else a phone number
    if it reads as one, else a username."""
    value = value.strip()
    if "@" in value:
        return LoginName("email", normalize_email(value) or value.lower())
    if phone := normalize_phone(value):
        return LoginName("phone", phone)
    return LoginName("username", value.lower())
