"""Decoy sign-ups: what stands for a finished account when someone signs up with its identifier.

A decoy is a random id that matches no account, so its token answers like a pending sign-up's
while nothing can be completed with it. It is kept per (account, identifier typed) for as long as
a pending account would keep its id, so that repeated sign-ups look alike in both cases and two
identifiers of one account never share a decoy. The decoy remembers the identifier typed, so that
a resend reaches the same address or number as the sign-up did (with a notice, never a code).
"""

import uuid

from django.conf import settings
from django.core.cache import cache

from users.identifiers import Identifier


def _decoy_key(owner_pk: uuid.UUID, identifier: Identifier) -> str:
    return f"signup-decoy:{owner_pk}:{identifier.value}"


def _target_key(decoy: uuid.UUID) -> str:
    return f"signup-decoy-target:{decoy}"


def decoy_for(*, owner_pk: uuid.UUID, identifier: Identifier) -> uuid.UUID:
    timeout = settings.SIGNUP_ABANDON_HOURS * 3600
    fresh = str(uuid.uuid4())
    decoy = str(cache.get_or_set(_decoy_key(owner_pk, identifier), fresh, timeout=timeout) or fresh)
    if decoy == fresh:
        cache.set(_target_key(uuid.UUID(decoy)), f"{identifier.kind}|{identifier.value}", timeout=timeout)
    return uuid.UUID(decoy)


def decoy_target(decoy: uuid.UUID) -> Identifier | None:
    """The identifier a decoy was made for, or None if ``decoy`` is not (or no longer) a decoy."""
    stored = cache.get(_target_key(decoy))
    if not stored:
        return None
    kind, _, value = str(stored).partition("|")
    return Identifier(kind, value)
