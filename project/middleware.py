"""Gives bodiless error answers the API's one error shape.

Django's own 405 (``require_GET`` and class-based views) and similar answers carry no body; a
client of this service always gets ``{"detail", "code", "fields"}``.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from project.exceptions import error_body

_CODES = {405: ("Method not allowed.", "method_not_allowed")}


class ErrorShapeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in _CODES and not response.content:
            detail, code = _CODES[response.status_code]
            shaped = JsonResponse(error_body(detail, code), status=response.status_code)
            if response.has_header("Allow"):
                shaped["Allow"] = response["Allow"]
            return shaped
        return response
