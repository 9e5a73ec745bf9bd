"""Logging in: with a password, or with a one-time code (what phone users expect).

Both start a session (users/services/sessions.py). A password login answers every failure with
the same 401 at the cost of the same one password hash. A login by code answers alike for every
name: a finished account gets a code, anything else a flow decoy whose message is never sent.
"""

import logging
from collections.abc import Sequence

from django.contrib.auth import authenticate
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import status

from notifications.services import TEMPLATE_LOGIN_CODE
from project import metrics
from project.exceptions import ApplicationError
from users.backends import login_candidate
from users.decoys import Decoy, flow_subject, is_decoy
from users.identifiers import Identifier, LoginName, login_name
from users.models import AuthType, SessionMethod, User
from users.ratelimits import Hit, limit_refund, limits_hit
from users.services.codeflow import PURPOSE_LOGIN_CODE, Message, code_confirm, code_send, fixed_test_code
from users.services.sessions import ClientInfo, session_start
from users.services.signup import account_identifier
from users.sms_guard import ChallengeFailed, ChallengeRequired, SmsClient, SmsUnavailable, sms_guard_check
from users.tokens import LoginCodeToken

logger = logging.getLogger(__name__)


class InvalidCredentials(ApplicationError):
    status = status.HTTP_401_UNAUTHORIZED
    code = "invalid_credentials"
    message = _("No active account found with the given credentials.")


def login_with_password(
    *,
    request: HttpRequest | None,
    user_input: str,
    password: str,
    client_address: str,
    client: ClientInfo,
    hits: Sequence[Hit] = (),
) -> dict[str, str]:
    """Check the credentials (users/backends.py: exactly one password hash, whatever the outcome)
    and start a session. Every failure is the same 401. Failures slow down further tries of that
    name from that address for a while (login_account_failures): keyed on the canonical form of
    what was typed (look-alike spellings of a name count together), not on the account, so the
    limit neither locks the owner out from elsewhere nor tells which names belong to one account.
    Each try is counted before the hash, with the request's other limits (``hits``) in the same
    step, and refunded on success, so parallel guesses cannot slip past.
    """
    name = login_name(user_input)
    failures = Hit("login_account_failures", f"{name.kind}:{name.value}|{client_address}")
    limits_hit([*hits, failures])
    user = authenticate(request, user_input=user_input, password=password)
    if user is None:
        metrics.LOGINS.labels("password", "failure").inc()
        raise InvalidCredentials()
    metrics.LOGINS.labels("password", "success").inc()
    limit_refund(failures)
    logger.info("login %s", user.id)
    return session_start(user=user, method=SessionMethod.PASSWORD, client=client)


def _code_destination(name: LoginName, user: User | None) -> Identifier | None:
    """Where a login code for ``name`` goes: the address or number typed, or for a username the
    identifier the account signed up with."""
    if name.kind == "email":
        return Identifier(AuthType.EMAIL, name.value)
    if name.kind == "phone":
        return Identifier(AuthType.PHONE, name.value)
    return account_identifier(user) if user is not None else None


def login_code_request(*, user_input: str, client: SmsClient, hits: Sequence[Hit] = ()) -> str:
    """Send a login code to a finished account (a decoy's message otherwise); return the
    login-code token."""
    name = login_name(user_input)
    user = login_candidate(name)
    to = _code_destination(name, user)
    guard_refused = False
    if to is not None and not to.is_email and fixed_test_code(to) is None:
        try:
            sms_guard_check(number=to.value, client=client)
        except (SmsUnavailable, ChallengeRequired, ChallengeFailed) as exc:
            if name.kind != "username" and isinstance(exc, SmsUnavailable):  # the number typed
                raise SmsUnavailable(fields={"user_input": [SmsUnavailable.message]}) from exc
            if name.kind != "username":
                raise
            # A username's number is the account's, unknown to the client: refusing would tell
            # a phone account's username from any other name. It answers alike and sends nothing.
            guard_refused = True
    typed = to or Identifier(AuthType.EMAIL, "")  # an unknown username: nowhere to send anything
    subject = flow_subject(purpose=PURPOSE_LOGIN_CODE, identifier=Identifier(name.kind, name.value), account=user)
    if subject.decoy or guard_refused:
        message = Message.suppressed(typed, PURPOSE_LOGIN_CODE)
    else:
        message = Message.code(typed, TEMPLATE_LOGIN_CODE, PURPOSE_LOGIN_CODE, user.language)
    code_send(purpose=PURPOSE_LOGIN_CODE, subject=subject.id, message=message, client=None, hits=hits)
    logger.info("login code %s requested", subject.id)
    return str(LoginCodeToken.for_subject(subject.id))


def login_code_confirm(
    *, account: User | Decoy, code: str, client: ClientInfo, hits: Sequence[Hit] = ()
) -> dict[str, str]:
    """Check the code (with the request's limits in the same step) and start a session."""
    try:
        code_confirm(purpose=PURPOSE_LOGIN_CODE, subject=account.id, code=code, decoy=is_decoy(account), hits=hits)
    except ApplicationError:
        metrics.LOGINS.labels("code", "failure").inc()
        raise
    metrics.LOGINS.labels("code", "success").inc()
    logger.info("login by code %s", account.id)
    return session_start(user=account, method=SessionMethod.CODE, client=client)
