"""Sign-up-scoped tokens and the authentication classes that read them.

Sign-up and verify answer with a token whose ``token_type`` is ``signup``: simplejwt's normal
authentication refuses it (it only takes ``access``), so it opens nothing but the sign-up steps.
Its ``stage`` claim says how far the sign-up went: ``new`` after sign-up, ``verified`` after a
correct code. Its ``user_id`` is either a pending account's id or, when someone signed up with an
identifier that already belongs to a finished account, a random id that matches no account (a
decoy): the answers look the same, and nothing can be completed with it.
"""

import uuid
from dataclasses import dataclass

from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import RefreshToken, Token

from users.decoys import decoy_target
from users.identifiers import Identifier
from users.models import AuthStatus, User

STAGE_NEW = "new"
STAGE_VERIFIED = "verified"


class SignupToken(Token):
    token_type = "signup"

    @property
    def lifetime(self):  # read at use, so tests and deployments can change the setting
        return settings.SIGNUP_TOKEN_LIFETIME

    @classmethod
    def for_subject(cls, subject: uuid.UUID | str, *, stage: str) -> "SignupToken":
        token = cls()
        token["user_id"] = str(subject)
        token["stage"] = stage
        return token


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
        try:
            subject = uuid.UUID(str(validated_token["user_id"]))
        except (KeyError, ValueError) as exc:
            raise InvalidToken("Token contained no recognizable user identification") from exc
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

    def get_validated_token(self, raw_token: bytes) -> Token:
        try:
            return SignupToken(raw_token)
        except TokenError:
            return JWTAuthentication.get_validated_token(self, raw_token)

    def get_user(self, validated_token: Token) -> User | DecoySignup:
        if isinstance(validated_token, SignupToken):
            return super().get_user(validated_token)
        return JWTAuthentication.get_user(self, validated_token)


class RotatingRefreshToken(RefreshToken):
    """A refresh token read for rotation: signature and expiry are verified here, the blacklist
    is checked by the rotation itself, atomically, so that reuse of a rotated token is seen."""

    def check_blacklist(self) -> None:
        pass
