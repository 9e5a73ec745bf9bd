"""Log lines an operator can follow: a request id on every line, and one JSON object per line
with ``LOG_FORMAT=json``.

Each HTTP request gets an id: the client's ``X-Request-ID`` if it is a plain token (letters,
digits and ``._:=+/-``, at most 128 characters), otherwise a new one. The answer carries it back in
``X-Request-ID``, every line logged while the request runs carries it, and so does every task the
request queues (a Celery message header), whose worker lines carry it in turn. A line may also
name the request's subject, already masked (``log_subject``). What the lines say is the callers'
business: codes, tokens, passwords and full identifiers are never passed to a logger.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings import this module: nothing of Django's at import time
    from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_CLIENT_ID = re.compile(r"[A-Za-z0-9._:=+/-]{1,128}")

request_id: ContextVar[str] = ContextVar("request_id", default="")
subject: ContextVar[str] = ContextVar("subject", default="")


def log_subject(masked: str) -> None:
    """Name the subject of the current request or task (a masked address or number, or an id) on
    the lines logged from now on."""
    subject.set(masked)


def request_id_from(value: str | None) -> str:
    """The client's id if it is a plain token, else a new one."""
    if value and _CLIENT_ID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Outermost: the id is set before anything logs and returned on every answer, error answers
    included."""

    def __init__(self, get_response: Callable[["HttpRequest"], "HttpResponse"]) -> None:
        self.get_response = get_response

    def __call__(self, request: "HttpRequest") -> "HttpResponse":
        rid = request_id_from(request.headers.get(HEADER))
        rid_token, subject_token = request_id.set(rid), subject.set("")
        try:
            response = self.get_response(request)
        finally:
            request_id.reset(rid_token)
            subject.reset(subject_token)
        response[HEADER] = rid
        return response


class ContextFilter(logging.Filter):
    """Puts the current request id and subject on every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        record.subject = subject.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request id, and the
    subject and the exception when there are."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if getattr(record, "subject", ""):
            line["subject"] = record.subject
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=True)


def logging_config(*, level: str, fmt: str) -> dict:
    """The LOGGING setting: ``fmt`` is ``plain`` or ``json``."""
    if fmt not in ("plain", "json"):
        raise ValueError(f"LOG_FORMAT must be plain or json, not {fmt!r}")
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "project.logs.ContextFilter"}},
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "project.logs.JsonFormatter"},
        },
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["context"]}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},  # SQL parameters could hold personal data
            "twilio": {"level": "WARNING"},  # logs request bodies (codes, numbers) at INFO
        },
    }
