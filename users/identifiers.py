"""Reading what a person types as "e-mail or phone number", or as a login name, into the canonical
forms of users/canonical.py: which kind of identifier it is, and its value in that form."""

from dataclasses import dataclass

from users.canonical import fold, nfkc, normalize_email, normalize_phone, username_key
from users.models import AuthType

__all__ = ["Identifier", "LoginName", "login_name", "normalize_email", "normalize_phone", "parse_identifier"]


@dataclass(frozen=True)
class Identifier:
    kind: str  # AuthType value
    value: str  # canonical e-mail address or E.164 number

    @property
    def is_email(self) -> bool:
        return self.kind == AuthType.EMAIL


def parse_identifier(value: str) -> Identifier | None:
    """An e-mail address or a phone number in canonical form, or None if it is neither."""
    value = nfkc(value)  # a full-width at sign (U+FF20) is an "@"
    if "@" in value:
        email = normalize_email(value)
        return Identifier(AuthType.EMAIL, email) if email else None
    phone = normalize_phone(value)
    return Identifier(AuthType.PHONE, phone) if phone else None


@dataclass(frozen=True)
class LoginName:
    kind: str  # "email", "phone" or "username"
    value: str  # canonical e-mail address, E.164 number, or username key


def login_name(value: str) -> LoginName:
    """What a login's ``user_input`` names: an e-mail address if it has an "@", else a phone number
    if it reads as one, else a username (its key, so that look-alike spellings name one account)."""
    value = nfkc(value).strip()
    if "@" in value:
        return LoginName("email", normalize_email(value) or fold(value))
    if phone := normalize_phone(value):
        return LoginName("phone", phone)
    return LoginName("username", username_key(value))
