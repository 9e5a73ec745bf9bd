"""The one canonical form of everything that names an account: e-mail addresses, phone numbers and
usernames. Lookups, uniqueness, rate-limit keys and deliveries all go through these functions, so
that two spellings of one thing are one account, one quota and one recipient.

- **E-mail**: the local part is NFKC-normalized and case-folded and must then be ASCII; the domain
  is NFKC-normalized, then mapped and encoded by IDNA 2008 with the UTS #46 mapping (the ``idna``
  package) to its ASCII form (``bücher.example`` → ``xn--bcher-kva.example``), lower-case, without
  a trailing dot. The whole address is case-insensitive: one person, one account.
- **Phone**: E.164 (``phonenumbers``); numbers without "+" are read in
  ``settings.DEFAULT_PHONE_REGION``.
- **Username**: kept as typed after NFKC; compared by its *key*, the Unicode TR39 skeleton (ICU's
  spoof checker) of its NFKC case fold. Names that differ in case or width, or only by look-alike
  letters (Cyrillic a U+0430 for a, dotless i U+0131, long s U+017F), have one key, and the key is
  unique.

Only this module knows the rules; it imports no model, so that the model can use it.
"""

import unicodedata

import icu
import idna
import phonenumbers
from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, MaxLengthValidator
from django.utils.translation import gettext_lazy as _

USERNAME_MAX_LENGTH = 150
# A key is longer than its name where letters decompose (a Hangul syllable is up to 7 characters):
# bounded so that its unique index always fits a database index entry.
USERNAME_KEY_MAX_LENGTH = 600
EMAIL_MAX_LENGTH = 254

_email_validator = EmailValidator()
_username_characters = UnicodeUsernameValidator()
_username_length = MaxLengthValidator(USERNAME_MAX_LENGTH)
# A spoof checker is safe to share between threads once configured; this one is never changed.
_spoof_checker = icu.SpoofChecker()


def nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def fold(value: str) -> str:
    """NFKC, case fold, NFKC again (case folding can leave text decomposed, as with "ΐ")."""
    return nfkc(nfkc(value).casefold())


def _email_domain(domain: str) -> str | None:
    try:
        ascii_domain = idna.encode(nfkc(domain), uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return None
    # "example.com." names the same domain as "example.com".
    return ascii_domain.removesuffix(".").lower()


def normalize_email(value: str) -> str | None:
    """The canonical address, or None if ``value`` is not one we can send to."""
    local, at, domain = nfkc(value).strip().rpartition("@")
    if not at or not local or not domain:
        return None
    local = fold(local)
    domain = _email_domain(domain)
    if not local.isascii() or not domain:
        return None  # internationalized mailboxes (RFC 6531) are not supported
    address = f"{local}@{domain}"
    if len(address) > EMAIL_MAX_LENGTH:
        return None
    try:
        _email_validator(address)
    except ValidationError:
        return None
    return address


def normalize_phone(value: str) -> str | None:
    """The number in E.164, or None if it is not a valid number."""
    value = nfkc(value).strip()
    if not value or len(value) > 32:
        return None
    try:
        parsed = phonenumbers.parse(value, settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_username(value: str) -> str:
    """The username as stored and shown: NFKC, so that full-width and plain letters are one name."""
    return nfkc(value)


def username_key(value: str) -> str:
    """What usernames are compared by: the TR39 skeleton of the NFKC case fold. "EXIST3p" and
    "ex\u0131st3p" (dotless i) have one key; so have "adminp" and "\u0430dminp" (Cyrillic a)."""
    return _spoof_checker.getSkeleton(0, fold(value))


def validate_username(value: str) -> None:
    """Refuse what cannot be a username, judged on its NFKC form (NFKC can turn one character
    into many, U+FDFA into 18): at most 150 letters, digits and @ . + - _; not an e-mail address
    or a phone number, since login takes all three in one field and a username that reads as one
    would shadow it; and a key within USERNAME_KEY_MAX_LENGTH."""
    value = normalize_username(value)
    _username_length(value)
    _username_characters(value)
    if "@" in value or value.isdigit() or normalize_phone(value) is not None:
        raise ValidationError(_("A username cannot be an e-mail address or a phone number."), code="invalid")
    if len(username_key(value)) > USERNAME_KEY_MAX_LENGTH:
        raise ValidationError(_("This username is too long."), code="max_length")


def validate_email_address(value: str) -> None:
    """Refuse an address that has no canonical form (an invalid IDNA domain, a non-ASCII mailbox)."""
    if normalize_email(value) is None:
        raise ValidationError(_("Enter a valid e-mail address."), code="invalid")
