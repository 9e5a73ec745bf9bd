"""The Celery application. Workers start it with ``celery -A project worker -Q notifications``."""

import logging.config
import os

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun, worker_init

from project import logs

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.production")

app = Celery("project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# --- logs: the worker logs like the web processes, and a task carries its request's id -----------


@setup_logging.connect
def _logging_from_settings(loglevel=None, **kwargs) -> None:
    """The worker's lines in the project's format (LOG_FORMAT), not Celery's own; ``-l`` still sets
    the level."""
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@before_task_publish.connect
def _request_id_to_task(headers=None, **kwargs) -> None:
    rid = logs.request_id.get()
    if rid and headers is not None:
        headers.setdefault("request_id", rid)


@task_prerun.connect
def _request_id_from_task(task=None, **kwargs) -> None:
    if task.request.is_eager:  # run inside the request itself: its id is already set
        return
    rid = getattr(task.request, "request_id", None) or (task.request.headers or {}).get("request_id")
    logs.request_id.set(rid or "")
    logs.subject.set("")


@task_postrun.connect
def _request_id_done(task=None, **kwargs) -> None:
    if task.request.is_eager:
        return
    logs.request_id.set("")
    logs.subject.set("")


# --- metrics: the worker's own page, on an internal address ---------------------------------------


@worker_init.connect
def _metrics_page(**kwargs) -> None:
    """With WORKER_METRICS_PORT, serve the worker's counts (deliveries, attempts, provider times)
    for Prometheus. The pool's processes count, so their counts are gathered from
    PROMETHEUS_MULTIPROC_DIR, which must then be set."""
    from django.conf import settings
    from prometheus_client import start_http_server

    from project.metrics import registry

    if not settings.WORKER_METRICS_PORT:
        return
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        logging.getLogger(__name__).warning(
            "WORKER_METRICS_PORT without PROMETHEUS_MULTIPROC_DIR: the pool's counts are not seen"
        )
    start_http_server(settings.WORKER_METRICS_PORT, addr=settings.WORKER_METRICS_ADDRESS, registry=registry())
