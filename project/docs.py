"""The API's documentation pages: Swagger UI at /api/docs/ and ReDoc at /api/redoc/.

Both are drf-spectacular's views and templates, with the UIs' files taken from
drf-spectacular-sidecar (static files, served by WhiteNoise) instead of a CDN, and each answer
carries a Content-Security-Policy that names no other origin: the pages load and run only this
site's files and talk only to this site.

Scripts are never inline on either page: Swagger UI's init script is a file of its own (the split
view answers ``?script=`` with it), and ReDoc is started from the attributes of its element.
Styles differ. Swagger UI needs one inline style of its template, which carries a nonce fresh for
each answer. ReDoc writes its styles into the page at run time (styled-components and a bundled
stylesheet inserted before any option of ours can reach them), so its page allows inline styles;
its scripts stay as strict as Swagger UI's.
"""

import secrets
from typing import Any

from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework.request import Request
from rest_framework.response import Response


def content_security_policy(*, style_src: str) -> str:
    """The policy of a docs page; only where styles may come from differs between the two."""
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            # Both UIs draw icons from data: URLs in their stylesheets.
            "img-src 'self' data:",
            "font-src 'self'",
            # Schema downloads and Swagger UI's "Try it out" calls go to this site only.
            "connect-src 'self'",
            # ReDoc's search index runs in a worker it builds from its own bundle (a blob: URL).
            "worker-src 'self' blob:",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


class SwaggerDocs(SpectacularSwaggerSplitView):
    """Swagger UI: the page, and with ``?script=`` its init script."""

    template_name = "docs/swagger_ui.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        nonce = secrets.token_urlsafe(16)
        response = super().get(request, *args, **kwargs)
        response.data["csp_nonce"] = nonce  # the template's context
        response.headers["Content-Security-Policy"] = content_security_policy(style_src=f"'self' 'nonce-{nonce}'")
        return response


class RedocDocs(SpectacularRedocView):
    """ReDoc, without the web fonts drf-spectacular's template fetches from another origin."""

    template_name = "docs/redoc.html"

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().get(request, *args, **kwargs)
        response.headers["Content-Security-Policy"] = content_security_policy(style_src="'self' 'unsafe-inline'")
        return response
