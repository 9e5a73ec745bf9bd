"""Sealing: small payloads encrypted and authenticated (Fernet) with a key derived from SECRET_KEY
and a purpose, for values that must travel through hands that may not read them: a delivery's
recipient and code through the broker, the identifier a password reset was asked for inside its
token. A sealed value is opaque and tamper-evident; a different purpose gives a different key."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


class Unsealable(ValueError):
    """The value was not sealed with this purpose and key, or was tampered with."""


def _key(purpose: str, secret: str) -> Fernet:
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def _fernet(purpose: str) -> Fernet | MultiFernet:
    """Seals with SECRET_KEY; opens what SECRET_KEY or one of SECRET_KEY_FALLBACKS sealed, so that a
    delivery queued before a key rotation is still sent after it."""
    current = _key(purpose, settings.SECRET_KEY)
    if not settings.SECRET_KEY_FALLBACKS:
        return current
    return MultiFernet([current, *(_key(purpose, old) for old in settings.SECRET_KEY_FALLBACKS)])


def seal(data: bytes, *, purpose: str) -> str:
    return _fernet(purpose).encrypt(data).decode()


def unseal(token: str, *, purpose: str) -> bytes:
    try:
        return _fernet(purpose).decrypt(token.encode())
    except (InvalidToken, ValueError, TypeError) as exc:
        raise Unsealable(purpose) from exc
