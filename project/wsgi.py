"""WSGI entry point for gunicorn: ``gunicorn project.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings.production")

application = get_wsgi_application()

# Made now rather than by the first login of an unknown name, which would otherwise cost two hashes.
from users.backends import dummy_hash  # noqa: E402 - needs the apps loaded

dummy_hash()
