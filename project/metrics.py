"""Prometheus metrics: what the service does, for the operator.

The counters live in the process that counts them. Under gunicorn (several worker processes) and
in the Celery worker (a pool of child processes), set ``PROMETHEUS_MULTIPROC_DIR`` to an empty
directory of the host's, the same for every process of one server and emptied when it starts:
prometheus_client then keeps each process's counts in a file there and the scrape adds them up,
so a count is right whichever process served the request. The web processes answer
``GET /metrics`` to a bearer of ``METRICS_TOKEN`` (404 without the setting); the worker serves its
own on ``WORKER_METRICS_PORT`` (off by default), on an internal address.

No label ever holds an identifier, a code or a token: channels, purposes, countries, rules,
outcomes.
"""

import hmac
import os

import phonenumbers
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from project.exceptions import status_error_response

SIGNUPS_STARTED = Counter("auth_signups_started_total", "Sign-ups started (new accounts, decoys excluded)", ["channel"])
CODES_ISSUED = Counter("auth_codes_issued_total", "Codes sent", ["channel", "purpose", "country"])
CODES_VERIFIED = Counter("auth_codes_verified_total", "Codes proven right", ["purpose"])
CODES_WRONG = Counter("auth_codes_wrong_total", "Wrong codes tried", ["purpose"])
CODES_DEAD = Counter("auth_codes_dead_total", "Codes tried after they died", ["purpose", "reason"])
PROFILES_COMPLETED = Counter("auth_profiles_completed_total", "Sign-ups finished with a profile")
RATE_LIMITED = Counter("auth_rate_limited_total", "Requests refused with 429", ["rule"])
SMS_REFUSED = Counter("auth_sms_guard_refusals_total", "SMS refused by the SMS guard", ["reason"])
DELIVERIES = Counter("auth_deliveries_total", "Deliveries settled or retried", ["channel", "outcome"])
DELIVERY_ATTEMPTS = Counter("auth_delivery_attempts_total", "Calls to a provider", ["channel"])
PROVIDER_SECONDS = Histogram(
    "auth_delivery_provider_seconds",
    "Time a provider took to take a message",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0),
)
LOGINS = Counter("auth_logins_total", "Log-ins", ["method", "result"])
REFRESH_REUSE = Counter("auth_refresh_reuse_detected_total", "Rotated refresh tokens used again (session ended)")
SESSIONS_ENDED = Counter("auth_sessions_ended_total", "Sessions ended", ["reason"])


def country_of(value: str) -> str:
    """The destination country of an identifier: a phone number's region, ``none`` for e-mail."""
    if "@" in value:
        return "none"
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(value)) or "ZZ"
    except phonenumbers.NumberParseException:
        return "ZZ"


def registry() -> CollectorRegistry:
    """This process's counts, or every process's when PROMETHEUS_MULTIPROC_DIR is set."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


def metrics_view(request: HttpRequest) -> HttpResponse:
    """``GET /metrics`` for a bearer of METRICS_TOKEN; without the setting there is no such page."""
    if not settings.METRICS_TOKEN:
        return status_error_response(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {settings.METRICS_TOKEN}".encode()):
        response = status_error_response(401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
