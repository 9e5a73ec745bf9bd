"""Deleting an account: proven by the password (or, for an account without one, a fresh login
code), it ends every session, erases the account's personal data by deleting its row (its
sessions and sign-up decoys go with it) and anonymises its delivery records. Signing up again with
the same identifier then starts a new account like anyone's.
"""

import logging
import uuid

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from notifications.services import deliveries_anonymise
from project.exceptions import ApplicationError
from users.codes import code_revoke
from users.identifiers import Identifier
from users.models import AuthType, SignupDecoy, User
from users.services.codeflow import PURPOSE_LOGIN_CODE, PURPOSE_SIGNUP, code_confirm
from users.services.signup import signup_code_key

logger = logging.getLogger(__name__)


def account_delete(*, user: User, password: str | None = None, code: str | None = None) -> None:
    """Delete ``user`` for good. An account with a usable password proves it with ``password``;
    one without, with a ``code`` from POST /user/login-code/."""
    if user.has_usable_password():
        if not password or not user.check_password(password):
            raise ApplicationError(
                _("Invalid input."), fields={"password": [_("Your current password is required and must be correct.")]}
            )
    elif not code:
        raise ApplicationError(
            _("Invalid input."),
            fields={"code": [_("Ask for a login code and send it to delete an account without password.")]},
        )
    else:
        code_confirm(purpose=PURPOSE_LOGIN_CODE, subject=user.pk, code=code, decoy=False)
    # Signing up again starts afresh: no code or cooldown of the old identifiers is left behind.
    for identifier in (Identifier(AuthType.EMAIL, user.email), Identifier(AuthType.PHONE, user.phone_number)):
        if identifier.value:
            code_revoke(purpose=PURPOSE_SIGNUP, subject=signup_code_key(identifier))
    user_id: uuid.UUID = user.pk
    decoys = list(SignupDecoy.objects.filter(owner_id=user_id).values_list("id", flat=True))
    with transaction.atomic():
        deliveries_anonymise(subjects=[user_id, *decoys])
        User.objects.filter(pk=user_id).delete()  # its sessions and decoys with it
    logger.info("account %s deleted", user_id)
