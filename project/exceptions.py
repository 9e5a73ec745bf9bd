"""The one error shape of the API, and the only code that builds it.

Every 4xx and 5xx answer has this body::

    {"detail": "Human-readable summary.", "code": "stable_machine_code", "fields": {"name": ["..."]}}

``fields`` maps input field names to their messages and is empty when the error is not about a
particular field. Business failures raise :class:`ApplicationError` subclasses; DRF, simplejwt and
Django errors are translated here, so no view builds an error body itself.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_redis.exceptions import ConnectionInterrupted
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisClusterException, RedisError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JwtAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

logger = logging.getLogger(__name__)

# What Redis raises when it cannot answer: redis-py's errors, and its cluster client's own (no
# reachable node, slots not covered while a failover settles), which are not RedisErrors.
REDIS_UNAVAILABLE = (RedisError, RedisClusterException)
# Only "cannot reach it" errors: a database error caused by the data itself is a bug, not an outage.
_UNAVAILABLE = (*REDIS_UNAVAILABLE, ConnectionInterrupted, KombuOperationalError, OperationalError, InterfaceError)


class ApplicationError(Exception):
    """A business failure with a stable code; the handler turns it into the error shape."""

    status = status.HTTP_400_BAD_REQUEST
    code = "invalid"
    message = _("The request could not be processed.")

    def __init__(
        self, message: str | None = None, *, fields: dict[str, list[str]] | None = None, retry_after: int | None = None
    ) -> None:
        self.message = message or self.message
        self.fields = fields or {}
        self.retry_after = retry_after
        super().__init__(self.message)


class ServiceUnavailable(ApplicationError):
    status = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "service_unavailable"
    message = _("The service is temporarily unavailable. Please try again shortly.")

    def __init__(self, message: str | None = None, *, retry_after: int | None = 5, **kwargs) -> None:
        super().__init__(message, retry_after=retry_after, **kwargs)


class RateLimited(ApplicationError):
    status = status.HTTP_429_TOO_MANY_REQUESTS
    code = "rate_limited"
    message = _("Too many requests. Please wait before trying again.")

    def __init__(self, message: str | None = None, *, retry_after: int | None = None, **kwargs) -> None:
        super().__init__(message or wait_message(retry_after), retry_after=retry_after, **kwargs)


def wait_message(seconds: int | None) -> str | None:
    """ "Too many requests" with the wait in the language's plural forms: seconds under a minute,
    then whole minutes, then whole hours (rounded up, so that nobody comes back too early)."""
    if seconds is None:
        return None
    seconds = max(1, int(seconds))
    if seconds < 60:
        text = ngettext(
            "Too many requests. Try again in %(count)d second.",
            "Too many requests. Try again in %(count)d seconds.",
            seconds,
        )
        return text % {"count": seconds}
    minutes = -(-seconds // 60)
    if minutes < 120:
        text = ngettext(
            "Too many requests. Try again in %(count)d minute.",
            "Too many requests. Try again in %(count)d minutes.",
            minutes,
        )
        return text % {"count": minutes}
    hours = -(-seconds // 3600)
    text = ngettext(
        "Too many requests. Try again in %(count)d hour.", "Too many requests. Try again in %(count)d hours.", hours
    )
    return text % {"count": hours}


def error_body(detail: str, code: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"detail": str(detail), "code": code, "fields": fields or {}}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{key}: {msg}" for key, value in detail.items() for msg in _flatten(value)]
    if isinstance(detail, list):
        return [msg for item in detail for msg in _flatten(item)]
    return [str(detail)]


def _validation_fields(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {str(name): _flatten(value) for name, value in detail.items()}
    return {"non_field_errors": _flatten(detail)}


def _first_code(codes: Any) -> str:
    if isinstance(codes, dict):
        codes = next(iter(codes.values()), "invalid")
    if isinstance(codes, list):
        codes = codes[0] if codes else "invalid"
    return codes if isinstance(codes, str) else "invalid"


@dataclass(frozen=True)
class _Converted:
    """An exception read as an error answer: its status, the body's parts and extra headers."""

    status: int
    detail: str
    code: str
    fields: dict[str, list[str]] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _from_application(exc: ApplicationError) -> _Converted:
    if exc.status == status.HTTP_429_TOO_MANY_REQUESTS:
        from project.metrics import RATE_LIMITED  # metrics answer in this module's shape

        RATE_LIMITED.labels(getattr(exc, "rule", "cooldown")).inc()
    retry = {} if exc.retry_after is None else {"Retry-After": str(max(1, int(exc.retry_after)))}
    return _Converted(exc.status, exc.message, exc.code, exc.fields, retry)


def _from_token(exc: Exception) -> _Converted:
    # Every refused token answers alike: expired, forged, revoked by a password change, of an
    # inactive user or a malformed header. The reason is not the holder's business.
    return _Converted(
        401, _("Token is invalid or expired."), "token_not_valid", headers={"WWW-Authenticate": 'Bearer realm="api"'}
    )


def _from_validation(exc: exceptions.ValidationError) -> _Converted:
    return _Converted(400, _("Invalid input."), "invalid", _validation_fields(exc.detail))


def _from_drf(exc: exceptions.APIException) -> _Converted:
    if isinstance(exc.detail, dict) and {"detail", "code"} <= exc.detail.keys():
        # simplejwt packs its own message and code into the detail ({"detail": ..., "code": ...}).
        code, detail = str(exc.detail["code"]), str(exc.detail["detail"])
    else:
        code = _first_code(exc.get_codes())
        detail = exc.detail if isinstance(exc.detail, str) else " ".join(_flatten(exc.detail))
    headers = {}
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        headers["Retry-After"] = str(int(exc.wait))
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    return _Converted(exc.status_code, detail, code, headers=headers)


def _from_outage(exc: Exception) -> _Converted:
    # Redis, the broker or the database is unreachable: a clean 503, never a traceback.
    logger.error("backing service unavailable: %s", type(exc).__name__)
    return _Converted(503, ServiceUnavailable.message, ServiceUnavailable.code, headers={"Retry-After": "5"})


def _always(status_code: int) -> Callable[[Exception], _Converted]:
    """The fixed answer of a status (the one Django's own handlers give, below)."""
    return lambda exc: _Converted(status_code, *_STATUS_ERRORS[status_code])


# What each kind of exception answers, first match wins (so the specific before the general:
# simplejwt's token errors are DRF errors, RequestDataTooBig is a SuspiciousOperation).
_CONVERSIONS: tuple[tuple[type[Exception] | tuple[type[Exception], ...], Callable[[Any], _Converted]], ...] = (
    (ApplicationError, _from_application),
    ((InvalidToken, TokenError, JwtAuthenticationFailed), _from_token),
    (exceptions.ValidationError, _from_validation),
    (exceptions.APIException, _from_drf),
    (Http404, _always(404)),
    (DjangoPermissionDenied, _always(403)),
    (RequestDataTooBig, _always(413)),
    (SuspiciousOperation, _always(400)),
    (_UNAVAILABLE, _from_outage),
)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's EXCEPTION_HANDLER: every error raised inside an API view comes through here, and is
    answered by the first conversion of its kind. Unexpected ones return None: Django logs them and
    handler500 answers in the same shape."""
    for kinds, convert in _CONVERSIONS:
        if isinstance(exc, kinds):
            converted = convert(exc)
            set_rollback()
            body = error_body(converted.detail, converted.code, converted.fields)
            return Response(body, status=converted.status, headers=converted.headers)
    return None


# Django-level handlers, for errors that never reach a DRF view (unknown URL, crash, CSRF), and
# the answer ErrorShapeMiddleware gives any other error response without a JSON body.
_STATUS_ERRORS = {
    400: (_("Bad request."), "bad_request"),
    403: (_("You do not have permission to perform this action."), "permission_denied"),
    404: (_("Not found."), "not_found"),
    405: (_("Method not allowed."), "method_not_allowed"),
    413: (_("The request body is too large."), "request_too_large"),
    500: (_("Internal server error."), "server_error"),
}


def status_error_response(status_code: int) -> JsonResponse:
    """The error-shape answer for a bare HTTP status."""
    if status_code in _STATUS_ERRORS:
        detail, code = _STATUS_ERRORS[status_code]
    else:
        try:
            phrase = HTTPStatus(status_code).phrase
        except ValueError:
            phrase = "Error"
        detail, code = f"{phrase}.", phrase.lower().replace(" ", "_").replace("-", "_")
    return JsonResponse(error_body(detail, code), status=status_code)


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return status_error_response(400)


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    return status_error_response(403)


def page_not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return status_error_response(404)


def server_error(request: HttpRequest) -> JsonResponse:
    return status_error_response(500)
