"""The pages of the four-step web flow (sign up, verify, complete profile, log in), the two ways back in
without a password (a password reset, a login code) and the account page.

Each page is a template and nothing more: the browser does the flow by calling the ``/user/`` JSON API
from ``web/static/web/app.js``, exactly as any other client would, so the pages hold no server-side
state and no tokens pass through Django's templates.
"""

from typing import Any

from django.conf import settings
from django.http import HttpResponse
from django.views.generic import TemplateView

# Only this origin's own files run or load, and nothing can frame the pages. The pages keep sign-up
# and access tokens in sessionStorage, so closing the door on injected scripts matters.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


class Page(TemplateView):
    """One page of the flow; ``page`` names it for the template (navigation, step) and the script."""

    page = ""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return super().get_context_data(
            page=self.page,
            product_name=settings.PRODUCT_NAME,
            code_length=settings.VERIFICATION_CODE_LENGTH,
            code_minutes=settings.VERIFICATION_CODE_TTL // 60,
            resend_seconds=settings.VERIFICATION_RESEND_COOLDOWN,
            **kwargs,
        )

    def render_to_response(self, context: dict[str, Any], **response_kwargs: Any) -> HttpResponse:
        response = super().render_to_response(context, **response_kwargs)
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response
