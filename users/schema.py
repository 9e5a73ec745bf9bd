"""OpenAPI descriptions (drf-spectacular) for the project's own authentication classes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class SignupTokenScheme(OpenApiAuthenticationExtension):
    target_class = "users.tokens.SignupTokenAuthentication"
    name = "signupToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `access` token returned by sign-up or verify; it opens only the sign-up steps.",
        }


class SignupOrAccessScheme(OpenApiAuthenticationExtension):
    target_class = "users.tokens.SignupOrAccessAuthentication"
    name = "signupOrAccessToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A verified sign-up token, or a normal access token from login.",
        }
