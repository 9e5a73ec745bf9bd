"""project/masking.py: personal data as it may appear in logs and the admin."""

import pytest

from project.masking import mask_email, mask_phone, mask_recipient


def test_phone_keeps_country_prefix_and_last_four_digits():
    assert mask_phone("+12025550001") == "+1******0001"


def test_short_phone_is_masked_entirely():
    assert mask_phone("+12345") == "******"


def test_email_keeps_first_letter_and_domain():
    assert mask_email("jane.doe@example.com") == "j***@example.com"


def test_text_without_domain_is_masked_entirely():
    assert mask_email("jane.doe") == "***"


@pytest.mark.parametrize(
    ("recipient", "masked"),
    [("+442079460958", "+4*******0958"), ("jane@example.com", "j***@example.com")],
)
def test_recipient_is_masked_by_its_kind(recipient, masked):
    assert mask_recipient(recipient) == masked
