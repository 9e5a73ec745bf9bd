"""Project package: settings, URL routes, the Celery app and the one exception handler."""

from project.celery import app as celery_app

__all__ = ("celery_app",)
