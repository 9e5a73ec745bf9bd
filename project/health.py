"""Health endpoints for orchestrators: liveness (the process answers) and readiness (the
database, Redis and the Celery broker answer). Readiness failures use the one error shape, with
each failed dependency under ``fields``."""

import logging

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from project.exceptions import error_body

logger = logging.getLogger(__name__)


@require_GET
def live(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _check_redis() -> None:
    if settings.CACHES["default"]["BACKEND"].startswith("django_redis"):
        from django_redis import get_redis_connection

        get_redis_connection("default").ping()


def _check_broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return
    from project.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


@require_GET
def ready(request: HttpRequest) -> JsonResponse:
    failed: dict[str, list[str]] = {}
    for name, check in (("database", _check_database), ("redis", _check_redis), ("broker", _check_broker)):
        try:
            check()
        except Exception as exc:  # any failure means "not ready"
            logger.warning("readiness: %s unavailable: %s", name, type(exc).__name__)
            failed[name] = ["unavailable"]
    if failed:
        response = JsonResponse(error_body(_("Not ready."), "service_unavailable", failed), status=503)
        response["Retry-After"] = "5"
        return response
    return JsonResponse({"status": "ok", "checks": {"database": "ok", "redis": "ok", "broker": "ok"}})
