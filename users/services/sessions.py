"""Sessions: each login (password or code) starts one, a family of refresh tokens.

A session row is the durable record of its tokens (nothing lives in Redis): rotation moves its
``generation`` on by one in a single compare-and-swap UPDATE, so of parallel refreshes of one token
exactly one wins; a refresh token of an older generation is a reuse. Within
REFRESH_REUSE_GRACE_SECONDS of the rotation that superseded it (a client retrying a refresh that
timed out, two tabs refreshing at once) the reuse is only refused; after that it ends the session
(a stolen token is detected when either party uses it). Ending a session (logout, from another
session, logout everywhere, a password change, deletion) ends its refresh and access tokens at once.
"""

import ipaddress
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from project import metrics
from project.batches import BATCH_SIZE, delete_in_batches
from project.exceptions import ApplicationError
from users.models import Session, SessionEnd, User
from users.ratelimits import client_ip
from users.session_store import session_end_by_live_caller, session_rotate
from users.tokens import AccessToken, RefreshToken, token_pair

logger = logging.getLogger(__name__)


class RefreshTokenInvalid(ApplicationError):
    status = status.HTTP_401_UNAUTHORIZED
    code = "token_not_valid"
    message = _("Token is invalid or expired.")


class SessionNotFound(ApplicationError):
    status = status.HTTP_404_NOT_FOUND
    code = "not_found"
    message = _("No such session.")


def mask_address(address: str) -> str:
    """A client address as a session list shows it: its network, not the host ("203.0.113.x",
    "2001:db8:1::/48")."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return ""
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    if parsed.version == 4:
        return ".".join(str(parsed).split(".")[:3]) + ".x"
    return str(ipaddress.ip_network(f"{parsed}/48", strict=False))


@dataclass(frozen=True)
class ClientInfo:
    """What a session remembers of the client that started it."""

    user_agent: str
    client: str

    @classmethod
    def of(cls, request: HttpRequest) -> "ClientInfo":
        agent = request.META.get("HTTP_USER_AGENT", "")
        return cls(user_agent=agent.encode("utf-8", "ignore").decode()[:256], client=mask_address(client_ip(request)))


def session_start(*, user: User, method: str, client: ClientInfo) -> dict[str, str]:
    """Start a session for ``user`` and return its first token pair."""
    now = timezone.now()
    session = Session.objects.create(
        user=user,
        method=method,
        created_at=now,
        last_used_at=now,
        expires_at=now + jwt_settings.REFRESH_TOKEN_LIFETIME,
        user_agent=client.user_agent,
        client=client.client,
    )
    logger.info("session %s started for %s (%s)", session.id, user.id, method)
    return token_pair(user_id=user.pk, session_id=session.id, generation=session.generation)


def _refresh_token(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)
    except TokenError as exc:
        raise RefreshTokenInvalid() from exc


def session_refresh(*, refresh: str) -> dict[str, str]:
    """Rotate a refresh token: one compare-and-swap on its session (one table, so that PostgreSQL
    re-checks the generation on the locked row and parallel refreshes cannot both win); on
    failure, tell a stale client from a reuse. Sessions only exist for finished accounts, and a
    deactivated account's sessions are ended (User.save), so the user row need not be read."""
    token = _refresh_token(refresh)
    now = timezone.now()
    rotated = session_rotate(
        session_id=token.session_id,
        user_id=uuid.UUID(token[jwt_settings.USER_ID_CLAIM]),
        generation=token.generation,
        now=now,
        expires_at=now + jwt_settings.REFRESH_TOKEN_LIFETIME,
    )
    if not rotated:
        _refused_refresh(token, now)
    user_id = uuid.UUID(token[jwt_settings.USER_ID_CLAIM])
    return token_pair(user_id=user_id, session_id=token.session_id, generation=token.generation + 1)


def _refused_refresh(token: RefreshToken, now) -> None:
    session = Session.objects.filter(id=token.session_id, user_id=token[jwt_settings.USER_ID_CLAIM]).first()
    if session is None or session.ended_at is not None or session.generation <= token.generation:
        raise RefreshTokenInvalid()  # unknown, ended, expired or its user cannot log in
    grace = timedelta(seconds=settings.REFRESH_REUSE_GRACE_SECONDS)
    superseded_moments_ago = session.generation == token.generation + 1 and session.rotated_at >= now - grace
    if not superseded_moments_ago:
        sessions_end(user_id=session.user_id, session_ids=[session.id], reason=SessionEnd.REUSE)
        metrics.REFRESH_REUSE.inc()
        logger.warning("refresh token reuse in session %s of %s: session ended", session.id, session.user_id)
    raise RefreshTokenInvalid()


def session_logout(*, access: AccessToken, refresh: str) -> None:
    """End the session of ``refresh`` for the holder of ``access``: one UPDATE that also checks,
    in its WHERE, that the access token's own session is live (no read before the write)."""
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise ApplicationError(
            _("The refresh token is invalid or expired."), fields={"refresh": [_("Token is invalid or expired.")]}
        ) from exc
    user_id = access[jwt_settings.USER_ID_CLAIM]
    if token[jwt_settings.USER_ID_CLAIM] != user_id:
        raise ApplicationError(
            _("The refresh token does not belong to you."),
            fields={"refresh": [_("The refresh token does not belong to you.")]},
        )
    now = timezone.now()
    ended = session_end_by_live_caller(
        session_id=token.session_id, caller_session_id=access.session_id, user_id=uuid.UUID(user_id), now=now
    )
    if not ended:
        caller_live = Session.objects.filter(
            id=access.session_id, user_id=user_id, ended_at__isnull=True, expires_at__gt=now, user__is_active=True
        )
        if not caller_live.exists():
            raise InvalidToken(_("Token is invalid or expired."))  # the access token's session is over
        raise ApplicationError(
            _("The refresh token is invalid or expired."), fields={"refresh": [_("Token is invalid or expired.")]}
        )
    metrics.SESSIONS_ENDED.labels("logout").inc()
    logger.info("logout %s", user_id)


def sessions_live(*, user: User) -> list[Session]:
    """The user's live sessions, newest first."""
    return list(
        Session.objects.filter(user=user, ended_at__isnull=True, expires_at__gt=timezone.now()).order_by("-created_at")
    )


def session_end(*, user: User, session_id: uuid.UUID) -> None:
    """End one of the user's live sessions (404 for any other)."""
    if not sessions_end(user_id=user.pk, session_ids=[session_id], reason=SessionEnd.ENDED):
        raise SessionNotFound()


def sessions_end(*, user_id: uuid.UUID, reason: str, session_ids: list[uuid.UUID] | None = None) -> int:
    """End the user's live sessions (those of ``session_ids``, or all); returns how many."""
    live = Session.objects.filter(user_id=user_id, ended_at__isnull=True)
    if session_ids is not None:
        live = live.filter(id__in=session_ids)
    ended = live.update(ended_at=timezone.now(), end_reason=reason)
    if ended:
        metrics.SESSIONS_ENDED.labels(reason).inc(ended)
    if ended and session_ids is None:
        logger.info("%d sessions of %s ended (%s)", ended, user_id, reason)
    return ended


def sessions_prune(*, batch_size: int = BATCH_SIZE) -> int:
    """Delete sessions that ended or expired more than a day ago, in batches (no long lock);
    returns how many."""
    cutoff = timezone.now() - timedelta(days=1)
    return delete_in_batches(
        Session.objects.filter(Q(expires_at__lt=cutoff) | Q(ended_at__lt=cutoff)), batch_size=batch_size
    )
