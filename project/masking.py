"""Masking of personal data for logs, the admin and API answers about deliveries.

Full phone numbers and e-mail addresses never go to a log line: ``+12025550001`` becomes
``+1******0001`` and ``jane.doe@example.com`` becomes ``j***@example.com``.
"""


def mask_phone(number: str) -> str:
    if len(number) <= 6:
        return "*" * len(number)
    return f"{number[:2]}{'*' * (len(number) - 6)}{number[-4:]}"


def mask_email(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_recipient(recipient: str) -> str:
    return mask_email(recipient) if "@" in recipient else mask_phone(recipient)
