"""Sealing: small payloads encrypted and authenticated (Fernet) with a key derived from SECRET_KEY
and a purpose, for values that must travel through hands that may not read them: a delivery's
recipient and code through the broker, the identifier a password reset was asked for inside its
token. A sealed value is opaque and tamper-evident; a different purpose gives a different key."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class Unsealable(ValueError):
    """The value was not sealed with this purpose and key, or was tampered with."""


def _fernet(purpose: str) -> Fernet:
    digest = hashlib.sha256(f"{purpose}:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(data: bytes, *, purpose: str) -> str:
    return _fernet(purpose).encrypt(data).decode()


def unseal(token: str, *, purpose: str) -> bytes:
    try:
        return _fernet(purpose).decrypt(token.encode())
    except (InvalidToken, ValueError, TypeError) as exc:
        raise Unsealable(purpose) from exc
