"""The floor of `make bench`: a bare DRF APIView, served by the same gunicorn configuration as the
product, so each endpoint's throughput can be read as a share of what the framework itself allows.
Never part of the product: its own settings, one URL, no middleware, no database, no cache.
Serve with ``gunicorn bench.floor:application``."""

import secrets

import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=secrets.token_urlsafe(50),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=["rest_framework"],
    MIDDLEWARE=[],
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": [],
        "UNAUTHENTICATED_USER": None,
    },
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402 - after settings.configure
from django.urls import path  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402


class Floor(APIView):
    def get(self, request):
        return Response({"status": "ok"})


urlpatterns = [path("", Floor.as_view())]
application = get_wsgi_application()
