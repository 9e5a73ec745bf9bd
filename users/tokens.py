"""The project's tokens, and the authentication classes that read them.

Sign-up and verify answer with a token whose ``token_type`` is ``signup``: simplejwt's normal
authentication refuses it (it only takes ``access``), so it opens nothing but the sign-up steps.
Its ``stage`` claim says how far the sign-up went: ``new`` after sign-up, ``verified`` after a
correct code; its ``attempt`` claim names this one sign-up (each POST /user/signup/ is a new
attempt), so that once a code is verified only the attempt that verified it can complete the
profile. Its ``user_id`` is either a pending account's id or, when someone signed up with an
identifier that already belongs to a finished account, a random id that matches no account (a
decoy): the answers look the same, and nothing can be completed with it.

Every token read here has its claims checked for type first: a token that is correctly signed but
carries a malformed claim is refused like any other bad token (401 ``token_not_valid``).
"""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from users.decoys import decoy_target
from users.identifiers import Identifier
from users.models import AuthStatus, User

STAGE_NEW = "new"
STAGE_VERIFIED = "verified"
_STAGES = frozenset({STAGE_NEW, STAGE_VERIFIED})


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _claims_malformed(payload: dict[str, Any]) -> bool:
    """Whether a claim this project reads has the wrong type or form."""
    if not _is_uuid(payload.get(jwt_settings.USER_ID_CLAIM)):
        return True
    jti = payload.get(jwt_settings.JTI_CLAIM)
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        return True
    if not isinstance(payload.get(jwt_settings.TOKEN_TYPE_CLAIM), str):
        return True
    revoke = payload.get(jwt_settings.REVOKE_TOKEN_CLAIM)
    if revoke is not None and not isinstance(revoke, str):
        return True
    if "stage" in payload and (not isinstance(payload["stage"], str) or payload["stage"] not in _STAGES):
        return True
    return "attempt" in payload and not _is_uuid(payload["attempt"])


class ClaimsChecked:
    """Mixed into a simplejwt token class: its claims are checked for type before anything, the
    blacklist included, reads them."""

    def verify(self) -> None:
        if _claims_malformed(self.payload):
            raise TokenError("Token has malformed claims.")
        super().verify()


class AccessToken(ClaimsChecked, jwt_tokens.AccessToken):
    """The access token as authentication reads it (SIMPLE_JWT["AUTH_TOKEN_CLASSES"])."""


class RefreshToken(ClaimsChecked, jwt_tokens.RefreshToken):
    """A refresh token read back from a client (logout)."""


class SignupToken(ClaimsChecked, jwt_tokens.Token):
    token_type = "signup"

    @property
    def lifetime(self):  # read at use, so tests and deployments can change the setting
        return settings.SIGNUP_TOKEN_LIFETIME

    @classmethod
    def for_subject(
        cls, subject: uuid.UUID | str, *, stage: str, attempt: uuid.UUID | str | None = None
    ) -> "SignupToken":
        """A token of ``subject`` at ``stage`` for sign-up ``attempt`` (None: a new attempt)."""
        token = cls()
        token["user_id"] = str(subject)
        token["stage"] = stage
        token["attempt"] = str(attempt or uuid.uuid4())
        return token

    @property
    def attempt(self) -> uuid.UUID | None:
        """The sign-up attempt this token belongs to (None for a token from before attempts)."""
        return uuid.UUID(self["attempt"]) if "attempt" in self.payload else None


@dataclass
class DecoySignup:
    """Stands in for an account in the sign-up steps of a decoy token; it can never succeed.
    ``target`` is the identifier the decoy was made for (resends go there), if any."""

    id: uuid.UUID
    target: Identifier | None = None
    auth_status: str = AuthStatus.NEW
    is_authenticated: bool = True
    is_active: bool = True


class SignupTokenAuthentication(JWTAuthentication):
    """Authenticates the sign-up steps with a sign-up token only."""

    def get_validated_token(self, raw_token: bytes) -> SignupToken:
        try:
            return SignupToken(raw_token)
        except TokenError as exc:
            raise InvalidToken({"detail": str(exc), "code": "token_not_valid"}) from exc

    def get_user(self, validated_token: SignupToken) -> User | DecoySignup:
        subject = uuid.UUID(validated_token["user_id"])  # a UUID: the claims were checked
        user = User.objects.filter(pk=subject).first()
        if user is None:
            target = decoy_target(subject)
            if target is None:  # the pending sign-up was removed: start again
                raise InvalidToken("This sign-up no longer exists.")
            return DecoySignup(id=subject, target=target)
        if not user.is_active or user.auth_status == AuthStatus.DONE:
            # Once the profile is finished, a sign-up token opens nothing more; it answers like a
            # decoy, so that a stranger holding one does not learn when the owner finished.
            return DecoySignup(id=subject)
        return user


class SignupOrAccessAuthentication(SignupTokenAuthentication):
    """Takes a sign-up token, or else a normal access token (for endpoints used in both states)."""

    def get_validated_token(self, raw_token: bytes) -> jwt_tokens.Token:
        try:
            return SignupToken(raw_token)
        except TokenError:
            return JWTAuthentication.get_validated_token(self, raw_token)  # AUTH_TOKEN_CLASSES

    def get_user(self, validated_token: jwt_tokens.Token) -> User | DecoySignup:
        if isinstance(validated_token, SignupToken):
            return super().get_user(validated_token)
        return JWTAuthentication.get_user(self, validated_token)


class RotatingRefreshToken(ClaimsChecked, jwt_tokens.RefreshToken):
    """A refresh token read for rotation: signature and expiry are verified here, the blacklist
    is checked by the rotation itself, atomically, so that reuse of a rotated token is seen."""

    def check_blacklist(self) -> None:
        pass
