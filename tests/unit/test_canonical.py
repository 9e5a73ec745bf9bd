"""users/canonical.py: one canonical form for e-mail addresses, phone numbers and usernames.

Look-alike characters are written as escapes, so that the test says which one it uses:
U+0131 dotless i, U+017F long s, U+0430 Cyrillic a, U+03BF Greek omicron, U+FF41.. full-width.
"""

import pytest
from django.core.exceptions import ValidationError

from users.canonical import (
    USERNAME_KEY_MAX_LENGTH,
    fold,
    normalize_email,
    normalize_phone,
    normalize_username,
    username_key,
    validate_email_address,
    validate_username,
)
from users.identifiers import Identifier, parse_identifier
from users.models import AuthType

FULL_WIDTH_EXAMPLE = "\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45"  # "example" in full-width letters


@pytest.fixture(autouse=True)
def _us_region(settings):
    settings.DEFAULT_PHONE_REGION = "US"


# --- e-mail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("casep@example.com", "casep@example.com"),
        (f"casep@{FULL_WIDTH_EXAMPLE}.com", "casep@example.com"),
        ("casep\uff20example.com", "casep@example.com"),  # full-width at sign
        ("\uff43\uff41\uff53\uff45\uff50@example.com", "casep@example.com"),  # full-width local part
        ("  CaseP@EXAMPLE.Com ", "casep@example.com"),
        ("jane@b\u00fccher.example", "jane@xn--bcher-kva.example"),
        ("Jane@B\u00dcCHER.example", "jane@xn--bcher-kva.example"),
        ("jane@xn--bcher-kva.example", "jane@xn--bcher-kva.example"),
        ("jane@stra\u00dfe.de", "jane@xn--strae-oqa.de"),  # IDNA 2008 keeps the sharp s in domains
        ("jane@example\u3002com", "jane@example.com"),  # ideographic full stop
        ("jane@example.com.", "jane@example.com"),  # the root's dot names the same domain
        ("exi\u017ft@example.com", "exist@example.com"),  # long s is an s
        ("\u212aate@example.com", "kate@example.com"),  # Kelvin sign is a K
        ("Stra\u00dfe@example.com", "strasse@example.com"),  # the local part is case-folded: sharp s is ss
    ],
)
def test_email_has_one_canonical_form(typed, canonical):
    assert normalize_email(typed) == canonical
    assert parse_identifier(typed) == Identifier(AuthType.EMAIL, canonical)


@pytest.mark.parametrize(
    "typed",
    [
        "jane@\u2603.com",  # a snowman: not allowed by IDNA 2008
        "jane@-bad.com",  # a label that starts with a hyphen
        "jane@ab--c.com",  # hyphens in the 3rd and 4th position of a label that is not an A-label
        "jane@xn--zz.com",  # an A-label that does not decode
        "jane@exa\u200dmple.com",  # a zero-width joiner outside its context
        "jane@a..com",
        f"jane@{'x' * 64}.com",  # a label longer than 63
        "jane@[127.0.0.1]",  # codes go to mail domains, not to addresses
        "ex\u0131st@example.com",  # the dotless i is not ASCII: internationalized mailboxes are refused
        "\u0130nci@example.com",  # dotted capital I folds to i + U+0307
        "jane@",
        "@example.com",
        "jane",
    ],
)
def test_email_without_a_canonical_form_is_refused(typed):
    assert normalize_email(typed) is None
    assert parse_identifier(typed) is None
    with pytest.raises(ValidationError):
        validate_email_address(typed)


def test_email_longer_than_254_once_its_domain_is_encoded_is_refused():
    domain = ".".join(["\u00fc" * 57] * 3) + ".com"  # each label is 63 characters in ASCII
    typed = f"{'x' * 64}@{domain}"
    assert len(typed) <= 254

    assert normalize_email(typed) is None


# --- phone -----------------------------------------------------------------------------------


def test_phone_is_e164_whatever_the_digits_look_like():
    assert normalize_phone("\uff0b\uff11 202 555 0143") == "+12025550143"  # full-width + and 1
    assert parse_identifier("(202) 555-0143") == Identifier(AuthType.PHONE, "+12025550143")


# --- usernames -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "group",
    [
        ["EXIST3p", "ex\u0131st3p", "exi\u017ft3p", "exist3p"],
        ["adminp", "\u0430dminp", "ADMINP", "\uff41\uff44\uff4d\uff49\uff4e\uff50"],  # Cyrillic, full-width
        ["\u017fi\u017fip", "s\u0131\u017fip", "si\u017fip", "sisip", "SISIP"],
        ["istanbul", "ISTANBUL", "\u0131stanbul"],  # Turkish: capital I, dotless i and i are one letter
        ["strasse", "STRASSE", "stra\u00dfe", "STRA\u1e9eE"],  # sharp s, small and capital, folds to ss
        ["google", "g\u03bf\u03bfgle"],  # Greek omicron
        ["paypal", "\u0440\u0430\u0443\u0440\u0430l"],  # Cyrillic er, a, u
        ["jane", "\uff2a\uff41\uff4e\uff45"],  # full-width
    ],
    ids=[
        "finding-dotless-and-long-s",
        "finding-cyrillic-a",
        "finding-race-names",
        "turkish-i",
        "sharp-s",
        "greek",
        "cyrillic-word",
        "full-width",
    ],
)
def test_look_alike_spellings_of_a_username_have_one_key(group):
    assert len({username_key(name) for name in group}) == 1, [username_key(name) for name in group]


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("jane", "jana"),
        ("mail", "mall"),
        ("jane.doe", "jane_doe"),
        ("john1", "john2"),
        ("i\u0307nci", "inci"),
        # Documented limits: case is folded before the skeleton is taken, so a capital I is an i,
        # not an l; and TR39 confuses the digit 0 with a capital O only.
        ("paypaI", "paypal"),
        ("j0hn", "john"),
    ],
)
def test_different_usernames_keep_different_keys(one, other):
    assert username_key(one) != username_key(other)


def test_username_is_stored_nfkc_and_keeps_its_case():
    assert normalize_username("\uff2a\uff41\uff4e\uff45") == "Jane"
    assert normalize_username("EXIST3p") == "EXIST3p"


def test_fold_is_nfkc_case_fold_and_stable():
    assert fold("\uff2a\uff41\uff4e\uff45") == "jane"
    assert fold("Stra\u00dfe") == "strasse"
    assert fold("\u0390") == "\u0390"  # case folding decomposes it; the second NFKC composes it again


@pytest.mark.parametrize(
    "bad",
    [
        "jane doe",
        "x" * 151,
        "\ufdfa",  # one character, 18 once normalized, with spaces
        "jane@example.com",
        "jane\uff20example",  # a full-width at sign is an @
        "2025550143",
        "\uff12\uff10\uff12\uff15\uff15\uff15\uff10\uff11\uff14\uff13",  # full-width digits of a phone number
        "\uaf66" * 86,  # 86 Hangul syllables: a key of 602 characters
    ],
)
def test_username_validation_judges_the_nfkc_form(bad):
    with pytest.raises(ValidationError):
        validate_username(bad)


def test_username_key_length_bound_lets_long_names_in_other_scripts_through():
    name = "\uaf66" * 85
    assert len(username_key(name)) <= USERNAME_KEY_MAX_LENGTH

    validate_username(name)
    validate_username("\uff4a\uff41\uff4e\uff45")  # full-width letters are plain letters
