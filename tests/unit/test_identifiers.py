"""users/identifiers.py: what people type as "e-mail or phone number", in canonical form."""

import pytest

from users.canonical import username_key
from users.identifiers import Identifier, LoginName, login_name, normalize_email, normalize_phone, parse_identifier
from users.models import AuthType


@pytest.fixture(autouse=True)
def _us_region(settings):
    settings.DEFAULT_PHONE_REGION = "US"


def test_email_is_lower_cased_whole():
    assert parse_identifier("  Jane.Doe@Example.COM ") == Identifier(AuthType.EMAIL, "jane.doe@example.com")


def test_email_identifier_says_it_is_an_email():
    assert parse_identifier("jane@example.com").is_email
    assert not parse_identifier("+12025550143").is_email


@pytest.mark.parametrize(
    "typed",
    ["+1 202-555-0143", "(202) 555-0143", "202.555.0143", "2025550143", "+12025550143", "1 (202) 555-0143"],
)
def test_us_phone_formats_become_e164(typed):
    assert parse_identifier(typed) == Identifier(AuthType.PHONE, "+12025550143")


@pytest.mark.parametrize(
    ("typed", "region"),
    [
        ("0044 20 7946 0958", "GB"),  # "00" is the international prefix dialled from the UK
        ("011 44 20 7946 0958", "US"),  # "011" is the one dialled from the US
        ("+44 20 7946 0958", "US"),
        ("020 7946 0958", "GB"),
    ],
)
def test_international_prefixes_are_read_in_the_default_region(settings, typed, region):
    settings.DEFAULT_PHONE_REGION = region

    assert normalize_phone(typed) == "+442079460958"


def test_national_number_is_read_in_the_default_region(settings):
    settings.DEFAULT_PHONE_REGION = "GB"

    assert normalize_phone("(202) 555-0143") is None
    assert normalize_phone("020 7946 0958") == "+442079460958"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "12345",
        "not a number",
        "+1 202 555 014",  # one digit short
        "+999 123 456 789",  # no such country code
        "+1" + "2" * 40,  # longer than any number
        "0044 20 7946 0958",  # "00" is not an international prefix in the US
    ],
)
def test_invalid_phone_numbers_are_refused(typed):
    assert normalize_phone(typed) is None
    assert parse_identifier(typed) is None


@pytest.mark.parametrize(
    "typed",
    ["jane@", "@example.com", "jane@@example.com", "jane doe@example.com", "jane@example", "jane@exa mple.com"],
)
def test_invalid_emails_are_refused(typed):
    assert normalize_email(typed) is None
    assert parse_identifier(typed) is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("ex\u0131st3p", LoginName("username", username_key("EXIST3p"))),
        ("exi\u017ft3p", LoginName("username", username_key("EXIST3p"))),
        ("casep@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", LoginName("email", "casep@example.com")),  # full-width
        ("casep\uff20example.com", LoginName("email", "casep@example.com")),
        ("\uff08202) 555-0143", LoginName("phone", "+12025550143")),
    ],
)
def test_login_names_are_canonical(typed, expected):
    assert login_name(typed) == expected


def test_login_name_with_an_unusable_address_is_still_one_name_in_any_case():
    assert login_name("jane@\u2603.com") == login_name("JANE@\u2603.COM")
    assert login_name("jane@\u2603.com").kind == "email"
