"""Challenges a client may have to pass before an SMS is sent: Cloudflare Turnstile or hCaptcha.

The backend is the class named by ``settings.SMS_CHALLENGE_BACKEND`` (empty: no challenge). Both
providers check a response token the same way, which :class:`SiteverifyChallenge` implements: a
POST of the form ``{secret, response, remoteip}`` to their siteverify URL, answered with JSON
``{"success": bool, "error-codes": [...]}``. A siteverify that cannot be reached, or answers
anything else, fails closed: :class:`ServiceUnavailable` (503), never a pass. Neither the secret
nor the response token is ever logged.
"""

import logging

import requests
from django.conf import settings
from django.utils.module_loading import import_string

from project.exceptions import ServiceUnavailable
from users.ratelimits import UNKNOWN_CLIENT

logger = logging.getLogger(__name__)


class SiteverifyChallenge:
    """Checks a response token with a siteverify endpoint (``settings.SMS_CHALLENGE_VERIFY_URL``,
    or the provider's own ``verify_url``)."""

    verify_url = ""

    def verify(self, *, response: str, remoteip: str) -> bool:
        """Whether the provider accepts ``response`` (given by the client at ``remoteip``)."""
        form = {"secret": settings.SMS_CHALLENGE_SECRET, "response": response}
        if remoteip != UNKNOWN_CLIENT:
            form["remoteip"] = remoteip
        try:
            answer = requests.post(
                settings.SMS_CHALLENGE_VERIFY_URL or self.verify_url, data=form, timeout=settings.SMS_CHALLENGE_TIMEOUT
            )
            verdict = answer.json() if answer.status_code == 200 else None
        except (requests.RequestException, ValueError) as exc:
            logger.warning("SMS challenge: siteverify unreachable (%s)", type(exc).__name__)
            raise ServiceUnavailable() from exc
        if not isinstance(verdict, dict) or not isinstance(verdict.get("success"), bool):
            logger.warning("SMS challenge: siteverify answered HTTP %s without a verdict", answer.status_code)
            raise ServiceUnavailable()
        if not verdict["success"]:
            reasons = verdict.get("error-codes")
            reasons = [str(reason)[:64] for reason in reasons[:5]] if isinstance(reasons, list) else []
            # A refused secret is our misconfiguration, not the client's failure: operators must know.
            level = logging.ERROR if any("secret" in reason for reason in reasons) else logging.INFO
            logger.log(level, "SMS challenge refused by siteverify: %s", ", ".join(reasons) or "no reason given")
        return verdict["success"]


class Turnstile(SiteverifyChallenge):
    verify_url = "https://challenges.cloudflare.com/turnstile/v0/siteverify"


class Hcaptcha(SiteverifyChallenge):
    verify_url = "https://api.hcaptcha.com/siteverify"


def challenge_verify(*, response: str, remoteip: str) -> bool:
    """Check ``response`` with the configured backend (SMS_CHALLENGE_BACKEND must be set)."""
    return import_string(settings.SMS_CHALLENGE_BACKEND)().verify(response=response, remoteip=remoteip)
