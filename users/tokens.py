"""The project's tokens, and the authentication classes that read them.

Access and refresh tokens belong to a session (``sid``; users/services/sessions.py): a refresh
token also carries the session's generation (``gen``), so that rotation is one compare-and-swap
and the reuse of a rotated token is seen; an access token is accepted only while its session is
live, so ending a session ends its access tokens too.

The code flows answer with tokens scoped to themselves, each with its own ``token_type``: ``signup``
(sign-up, verify, resend, delivery status, profile completion), ``password_reset`` and
``login_code``. simplejwt's authentication refuses them (it takes ``access`` only), so each opens
nothing but its own flow. A sign-up token's ``stage`` says how far the sign-up went (``new``, then
``verified``) and its ``attempt`` names this one sign-up, so that once a code is verified only the
attempt that verified it can complete the profile. A flow token's ``user_id`` is the account's id,
or a decoy's (users/decoys.py) that answers alike and can never succeed.

Every token read here has its claims checked for type first: a token that is correctly signed but
carries a malformed claim is refused like any other bad token (401 ``token_not_valid``).
"""

import re
import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt import tokens as jwt_tokens
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import InvalidToken, TokenBackendError, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from users.decoys import Decoy, flow_account, signup_account
from users.models import User
from users.session_store import live_session_user

STAGE_NEW = "new"
STAGE_VERIFIED = "verified"
_STAGES = (STAGE_NEW, STAGE_VERIFIED)


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
    if "stage" in payload and payload["stage"] not in _STAGES:
        return True
    if "gen" in payload and (type(payload["gen"]) is not int or payload["gen"] < 1):
        return True
    if "to" in payload and not isinstance(payload["to"], str):
        return True
    if "ck" in payload and not (isinstance(payload["ck"], str) and re.fullmatch(r"[0-9a-f]{32}", payload["ck"])):
        return True
    return any(name in payload and not _is_uuid(payload[name]) for name in ("attempt", "sid"))


class KeyRing:
    """simplejwt's token backend over several keys: signs with JWT_SIGNING_KEY, verifies with it
    and then with each of JWT_SIGNING_KEY_FALLBACKS, so that tokens signed before a rotation keep
    working until they expire. Only a wrong signature moves on to the next key: an expired or
    malformed token is refused as it is."""

    def __init__(self, backends: tuple[TokenBackend, ...]) -> None:
        self.backends = backends

    def encode(self, payload: dict[str, Any]) -> str:
        return self.backends[0].encode(payload)

    def decode(self, token: str, verify: bool = True) -> dict[str, Any]:
        *older, last = self.backends
        for backend in older:
            try:
                return backend.decode(token, verify=verify)
            except TokenBackendError as exc:
                if not isinstance(exc.__cause__, jwt.InvalidSignatureError):
                    raise
        return last.decode(token, verify=verify)

    def get_leeway(self):
        return self.backends[0].get_leeway()


@lru_cache(maxsize=4)
def _key_ring(keys: tuple[str, ...]) -> KeyRing:
    return KeyRing(
        tuple(
            TokenBackend(
                jwt_settings.ALGORITHM,
                key,
                audience=jwt_settings.AUDIENCE,
                issuer=jwt_settings.ISSUER,
                leeway=jwt_settings.LEEWAY,
                json_encoder=jwt_settings.JSON_ENCODER,
            )
            for key in keys
        )
    )


class ClaimsChecked:
    """Mixed into a simplejwt token class: its claims are checked for type before anything reads
    them, and it is signed and verified through the key ring (the current key and the previous ones)."""

    def get_token_backend(self) -> KeyRing:
        return _key_ring((settings.SIMPLE_JWT["SIGNING_KEY"], *settings.JWT_SIGNING_KEY_FALLBACKS))

    def verify(self) -> None:
        if _claims_malformed(self.payload):
            raise TokenError(_("Token has malformed claims."))
        super().verify()


class AccessToken(ClaimsChecked, jwt_tokens.AccessToken):
    """The access token of a session (SIMPLE_JWT["AUTH_TOKEN_CLASSES"])."""

    @property
    def session_id(self) -> uuid.UUID | None:
        return uuid.UUID(self["sid"]) if "sid" in self.payload else None


class RefreshToken(ClaimsChecked, jwt_tokens.Token):
    """The refresh token of a session, at one generation of it. Its state lives in the session
    row, not in simplejwt's blacklist."""

    token_type = "refresh"

    @property
    def lifetime(self):
        return jwt_settings.REFRESH_TOKEN_LIFETIME

    def verify(self) -> None:
        super().verify()
        if "sid" not in self.payload or "gen" not in self.payload:
            raise TokenError(_("Token has no session."))

    @property
    def session_id(self) -> uuid.UUID:
        return uuid.UUID(self["sid"])

    @property
    def generation(self) -> int:
        return self["gen"]


def token_pair(*, user_id: uuid.UUID, session_id: uuid.UUID, generation: int) -> dict[str, str]:
    """A new access and refresh token of a session at ``generation``."""
    refresh, access = RefreshToken(), AccessToken()
    for token in (refresh, access):
        token[jwt_settings.USER_ID_CLAIM] = str(user_id)
        token["sid"] = str(session_id)
    refresh["gen"] = generation
    return {"access": str(access), "refresh": str(refresh)}


class AccessTokenAuthentication(JWTAuthentication):
    """An access token, accepted while its session is live: the user and the session are read in
    one query. (Ending every session on a password change is what revokes older access tokens.)"""

    def get_user(self, validated_token: AccessToken) -> User:
        session_id = validated_token.session_id
        if session_id is None:
            raise InvalidToken(_("Token has no session."))
        user_id = uuid.UUID(validated_token[jwt_settings.USER_ID_CLAIM])
        user = live_session_user(user_id=user_id, session_id=session_id, now=timezone.now())
        if user is None:
            raise InvalidToken(_("Token is invalid or expired."))
        return user


@dataclass(frozen=True)
class AccessHolder:
    """Who holds an access token, before anything is read about them: for an endpoint whose one
    statement checks the token's session itself (logout)."""

    id: uuid.UUID
    is_authenticated: bool = True
    is_active: bool = True


class AccessTokenOnlyAuthentication(JWTAuthentication):
    """An access token, checked for signature, expiry and claims only: the view's service must
    check that its session is live."""

    def get_user(self, validated_token: AccessToken) -> AccessHolder:
        if validated_token.session_id is None:
            raise InvalidToken(_("Token has no session."))
        return AccessHolder(uuid.UUID(validated_token[jwt_settings.USER_ID_CLAIM]))


class FlowToken(ClaimsChecked, jwt_tokens.Token):
    """A token that opens one code flow for one subject (an account or a decoy)."""

    @property
    def lifetime(self):  # read at use, so tests and deployments can change the setting
        return settings.FLOW_TOKEN_LIFETIME

    @classmethod
    def for_subject(cls, subject: uuid.UUID | str, **claims: Any) -> "FlowToken":
        token = cls()
        token[jwt_settings.USER_ID_CLAIM] = str(subject)
        for name, value in claims.items():
            token[name] = value
        return token

    @property
    def subject(self) -> uuid.UUID:
        return uuid.UUID(self[jwt_settings.USER_ID_CLAIM])


class SignupToken(FlowToken):
    token_type = "signup"

    @property
    def lifetime(self):
        return settings.SIGNUP_TOKEN_LIFETIME

    @classmethod
    def for_subject(
        cls,
        subject: uuid.UUID | str,
        *,
        stage: str,
        attempt: uuid.UUID | str | None = None,
        code_key: str | None = None,
    ) -> "SignupToken":
        """A token of ``subject`` at ``stage`` for sign-up ``attempt`` (None: a new attempt), whose
        code is kept under ``code_key`` (users.services.signup.signup_code_key)."""
        claims = {"stage": stage, "attempt": str(attempt or uuid.uuid4())}
        if code_key is not None:
            claims["ck"] = code_key
        return super().for_subject(subject, **claims)

    @property
    def attempt(self) -> uuid.UUID | None:
        """The sign-up attempt this token belongs to (None for a token from before attempts)."""
        return uuid.UUID(self["attempt"]) if "attempt" in self.payload else None


class PasswordResetToken(FlowToken):
    token_type = "password_reset"


class LoginCodeToken(FlowToken):
    token_type = "login_code"


class FlowTokenAuthentication(JWTAuthentication):
    """Authenticates one code flow with its own token only (``token_class``)."""

    token_class: type[FlowToken] = FlowToken

    def get_validated_token(self, raw_token: bytes) -> FlowToken:
        try:
            return self.token_class(raw_token)
        except TokenError as exc:
            raise InvalidToken({"detail": str(exc), "code": "token_not_valid"}) from exc

    def get_user(self, validated_token: FlowToken) -> User | Decoy:
        return flow_account(validated_token.subject)


class SignupTokenAuthentication(FlowTokenAuthentication):
    token_class = SignupToken

    def get_user(self, validated_token: SignupToken) -> User | Decoy:
        account = signup_account(validated_token.subject)
        if account is None:  # the pending sign-up was removed: start again
            raise InvalidToken(_("This sign-up no longer exists."))
        return account


@dataclass(frozen=True)
class SignupHolder:
    """Who holds a sign-up token, before anything is read about its subject: what verify needs,
    so that a wrong code costs no database read."""

    id: uuid.UUID
    is_authenticated: bool = True
    is_active: bool = True


class SignupTokenOnlyAuthentication(FlowTokenAuthentication):
    """A sign-up token, its subject not looked up (verify looks it up only for a right code)."""

    token_class = SignupToken

    def get_user(self, validated_token: SignupToken) -> SignupHolder:
        return SignupHolder(validated_token.subject)


class PasswordResetAuthentication(FlowTokenAuthentication):
    token_class = PasswordResetToken


class LoginCodeAuthentication(FlowTokenAuthentication):
    token_class = LoginCodeToken


class SignupOrAccessAuthentication(SignupTokenAuthentication):
    """Takes a sign-up token, or else an access token (for endpoints used in both states)."""

    def get_validated_token(self, raw_token: bytes) -> jwt_tokens.Token:
        try:
            return SignupToken(raw_token)
        except TokenError:
            return JWTAuthentication.get_validated_token(self, raw_token)  # AUTH_TOKEN_CLASSES

    def get_user(self, validated_token: jwt_tokens.Token) -> User | Decoy:
        if isinstance(validated_token, SignupToken):
            return super().get_user(validated_token)
        return AccessTokenAuthentication.get_user(self, validated_token)
