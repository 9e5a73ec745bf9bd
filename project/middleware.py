"""Gives every error answer the API's one error shape, whatever produced it.

It is the outermost middleware, so it sees every response: Django's own answers for a bad
``Host`` header, an unknown URL, a wrong method, a CSRF failure or a crash reach the client as
``{"detail", "code", "fields"}`` too, never as an HTML page, a URL list or a traceback, with DEBUG
on or off. Errors already in JSON (the API's own, health checks) pass untouched.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from project.exceptions import status_error_response

# Headers of the original answer that still mean something on the shaped one.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary", "Content-Language")


class ErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or response.get("Content-Type", "").startswith("application/json"):
            return response
        shaped = status_error_response(response.status_code)
        for header in _KEPT_HEADERS:
            if response.has_header(header):
                shaped[header] = response[header]
        return shaped
