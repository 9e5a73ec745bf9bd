"""OpenAPI descriptions (drf-spectacular) for the project's own authentication classes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class _BearerScheme(OpenApiAuthenticationExtension):
    description = ""

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": self.description}


class SignupTokenScheme(_BearerScheme):
    target_class = "users.tokens.SignupTokenAuthentication"
    name = "signupToken"
    description = "The `access` token returned by sign-up or verify; it opens only the sign-up steps."


class SignupOrAccessScheme(_BearerScheme):
    target_class = "users.tokens.SignupOrAccessAuthentication"
    name = "signupOrAccessToken"
    description = "A verified sign-up token, or a normal access token from login."


class PasswordResetTokenScheme(_BearerScheme):
    target_class = "users.tokens.PasswordResetAuthentication"
    name = "passwordResetToken"
    description = "The `access` token returned by /user/password-reset/; it opens only the reset steps."


class LoginCodeTokenScheme(_BearerScheme):
    target_class = "users.tokens.LoginCodeAuthentication"
    name = "loginCodeToken"
    description = "The `access` token returned by /user/login-code/; it opens only /user/login-code/confirm/."


class AccessTokenScheme(_BearerScheme):
    target_class = "users.tokens.AccessTokenAuthentication"
    name = "accessToken"
    description = "The `access` token of a live session, from a login."


class AccessTokenOnlyScheme(_BearerScheme):
    target_class = "users.tokens.AccessTokenOnlyAuthentication"
    name = "accessTokenOfALiveSession"
    description = "The `access` token of a live session, from a login."


class SignupTokenOnlyScheme(_BearerScheme):
    target_class = "users.tokens.SignupTokenOnlyAuthentication"
    name = "signupTokenForTheCode"
    description = "The `access` token returned by sign-up or verify; it opens only the sign-up steps."
