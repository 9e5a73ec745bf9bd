"""Every SMS fits one segment: the encoding and segment count of a text, every SMS template in
every language at the longest values the settings allow, and the system check that refuses
settings under which one would not fit."""

import pytest
from django.test import override_settings

from notifications.sms_text import SMS_TEMPLATES, sms_fit_one_segment, sms_length, sms_texts

# The longest values documented as supported: an 11-character SMS_PRODUCT_NAME, a 20-character
# WEBOTP_DOMAIN and an 8-digit code; and lifetimes that take every plural form of each language.
LONGEST = {"SMS_PRODUCT_NAME": "Abcdefghijk", "WEBOTP_DOMAIN": "auth.abcdefghijk.com", "VERIFICATION_CODE_LENGTH": 8}
LIFETIMES = (1, 2, 3, 5, 11, 21, 22, 25, 60)


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),  # two parts of 153
        ("a" * 307, "GSM-7", 307, 3),
        ("ñÑüé¿¡@£", "GSM-7", 8, 1),  # in the GSM-7 alphabet
        ("€" * 80, "GSM-7", 160, 1),  # the extension table costs two septets a character
        ("€" * 81, "GSM-7", 162, 2),
        ("á" + "a" * 69, "UCS-2", 70, 1),  # one character outside GSM-7 turns the whole text to UCS-2
        ("á" + "a" * 70, "UCS-2", 71, 2),
        ("ж" * 134, "UCS-2", 134, 2),  # parts of 67
        ("ж" * 135, "UCS-2", 135, 3),
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two UTF-16 units
    ],
)
def test_the_encoding_and_segments_of_a_text(text, encoding, units, segments):
    length = sms_length(text)

    assert (length.encoding, length.units, length.segments) == (encoding, units, segments)


@override_settings(**LONGEST)
@pytest.mark.parametrize("minutes", LIFETIMES)
def test_every_sms_in_every_language_fits_one_segment_at_the_longest_values(minutes, settings):
    texts = sms_texts(ttl_minutes=minutes)

    assert {language for _, language in texts} == {code for code, _ in settings.LANGUAGES}
    assert {template for template, _ in texts} == set(SMS_TEMPLATES)
    too_long = {key: (sms_length(text), text) for key, text in texts.items() if sms_length(text).segments > 1}
    assert too_long == {}


@override_settings(**LONGEST)
def test_the_russian_sms_is_ucs2_and_the_code_sms_end_with_the_webotp_line():
    texts = sms_texts(ttl_minutes=10)

    assert all(sms_length(texts[template, "ru"]).encoding == "UCS-2" for template in SMS_TEMPLATES)
    for template in ("verification_code", "login_code", "password_reset_code", "identifier_change_code"):
        for language in ("en", "es", "ru"):
            assert texts[template, language].splitlines()[-1] == "@auth.abcdefghijk.com #99999999"


def test_the_defaults_pass_the_system_check():
    assert sms_fit_one_segment(None) == []


@override_settings(SMS_PRODUCT_NAME="The Very Long Name Of A Product", WEBOTP_DOMAIN="accounts.example-company.com")
def test_the_system_check_refuses_settings_under_which_an_sms_takes_two_segments():
    errors = sms_fit_one_segment(None)

    assert errors
    assert {error.id for error in errors} == {"notifications.E001"}
    assert any("ru SMS 'verification_code' takes 2 segments" in error.msg for error in errors)
