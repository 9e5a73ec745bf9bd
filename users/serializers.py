"""Input and output serializers, one small pair per endpoint, on plain ``serializers.Serializer``."""

from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from notifications.models import Channel, DeliveryStatus
from users.canonical import USERNAME_MAX_LENGTH, normalize_username, validate_username
from users.identifiers import parse_identifier
from users.models import AuthStatus, AuthType, Gender, SessionMethod


class Text(serializers.CharField):
    """A CharField that takes JSON strings only (DRF's would turn a number into one, against the
    schema) and refuses lone UTF-16 surrogates, which no database can store."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        value = super().to_internal_value(data)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            self.fail("invalid")
        return value


@extend_schema_field({"type": "string", "maxLength": USERNAME_MAX_LENGTH})
class Username(Text):
    """A username, NFKC-normalized before it is validated (users.canonical.validate_username: length,
    characters, not an e-mail address or a phone number), so that full-width and plain letters are
    one name and no expansion slips past the limits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("validators", [validate_username])
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        return normalize_username(super().to_internal_value(data))


class Secret(Text):
    """A password field: never trimmed, never echoed, bounded before any hashing."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("max_length", settings.PASSWORD_MAX_LENGTH)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class ErrorOutput(serializers.Serializer):
    """The one error shape of every 4xx and 5xx answer."""

    detail = serializers.CharField()
    code = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ChallengeField(Text):
    """The response token of a Turnstile or hCaptcha challenge; optional, never echoed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 4096)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("write_only", True)
        kwargs.setdefault(
            "help_text",
            "The response of the Turnstile or hCaptcha challenge, when the service has one: SMS need it "
            "once the day's SMS pass a share of the budget (else 400 challenge_required).",
        )
        super().__init__(**kwargs)


class IdentifierField(Text):
    """An e-mail address or a phone number, read into its canonical Identifier."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("help_text", "An e-mail address or a phone number.")
        super().__init__(**kwargs)

    def run_validation(self, data: Any = serializers.empty):
        identifier = parse_identifier(super().run_validation(data))  # a string of at most 254
        if identifier is None:
            raise serializers.ValidationError(_("Enter a valid e-mail address or phone number."))
        return identifier


class SignupInput(serializers.Serializer):
    email_phone_number = IdentifierField()
    challenge = ChallengeField()


class SignupOutput(serializers.Serializer):
    access = serializers.CharField(help_text="Sign-up token: opens verify, new-verify and change-user-info.")
    auth_type = serializers.ChoiceField(choices=AuthType.choices)
    auth_status = serializers.ChoiceField(choices=AuthStatus.choices)


@extend_schema_field({"oneOf": [{"type": "string", "pattern": "^[0-9]+$"}, {"type": "integer", "minimum": 0}]})
class CodeField(serializers.Field):
    """A code as a string of digits, or as a JSON integer zero-padded to the code length."""

    default_error_messages = {"invalid": _("Enter the {length}-digit code.")}

    def to_internal_value(self, data: Any) -> str:
        length = settings.VERIFICATION_CODE_LENGTH
        if isinstance(data, int) and not isinstance(data, bool) and 0 <= data < 10**length:
            return f"{data:0{length}d}"
        if isinstance(data, str):
            value = data.strip()
            if len(value) == length and value.isascii() and value.isdigit():
                return value
        self.fail("invalid", length=length)

    def to_representation(self, value: str) -> str:
        return value


class VerifyInput(serializers.Serializer):
    code = CodeField(help_text="The code received, as a string or an integer.")


class VerifyOutput(serializers.Serializer):
    auth_status = serializers.ChoiceField(choices=AuthStatus.choices)
    access = serializers.CharField(help_text="A fresh sign-up token, now allowed to complete the profile.")


class ResendInput(serializers.Serializer):
    """Read from the X-Challenge header: new-verify is a GET, without a body."""

    challenge = ChallengeField()


class ResendOutput(serializers.Serializer):
    detail = serializers.CharField()
    auth_status = serializers.ChoiceField(choices=AuthStatus.choices)
    retry_after = serializers.IntegerField(help_text="Seconds before another code may be requested.")


GENDER_ALIASES = {"men": "male", "man": "male", "m": "male", "women": "female", "woman": "female", "f": "female"}


class GenderField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=Gender.choices, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        if isinstance(data, str):
            data = GENDER_ALIASES.get(data.strip().lower(), data.strip().lower())
        return super().to_internal_value(data)


class ProfileInput(serializers.Serializer):
    first_name = Text(max_length=150, required=False, allow_blank=True)
    username = Username(required=False)
    bio = Text(max_length=500, required=False, allow_blank=True)
    gender = GenderField(
        required=False, allow_blank=True, help_text="male, female, other or unspecified (men/women are accepted)."
    )
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="The language of the messages sent to the account."
    )
    password = Secret(required=False)
    confirm_password = Secret(required=False)
    old_password = Secret(required=False, help_text="Required to change an existing password.")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # The seed's clients send the misspelt "fistname".
        if isinstance(data, dict) and "fistname" in data and "first_name" not in data:
            data = {**data, "first_name": data["fistname"]}
        return super().to_internal_value(data)


def profile_body(user) -> dict[str, Any]:
    """ProfileOutput's representation of ``user``, built directly: a serializer instance deep-copies
    its fields on every request, and the profile is on the hot path of every session (GET /me/).
    ProfileOutput stays what the schema documents; a test keeps the two equal."""
    return {
        "id": str(user.id),
        "username": user.username,
        "first_name": user.first_name,
        "bio": user.bio,
        "gender": user.gender,
        "language": user.language,
        "email": user.email,
        "phone_number": user.phone_number,
        "auth_type": user.auth_type,
        "auth_status": user.auth_status,
    }


class ProfileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField(allow_null=True)
    first_name = serializers.CharField()
    bio = serializers.CharField()
    gender = serializers.CharField()
    language = serializers.CharField(help_text="The language of the messages sent to the account (en, es, ru).")
    email = serializers.EmailField(allow_null=True)
    phone_number = serializers.CharField(allow_null=True)
    auth_type = serializers.ChoiceField(choices=AuthType.choices)
    auth_status = serializers.ChoiceField(choices=AuthStatus.choices)


class LoginInput(serializers.Serializer):
    user_input = Text(max_length=254, help_text="Username, e-mail address or phone number.")
    password = Secret()


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class LoginOutput(TokenPairOutput):
    auth_status = serializers.ChoiceField(choices=AuthStatus.choices)


class LogoutInput(serializers.Serializer):
    refresh = Text(max_length=4096)


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


class RefreshInput(serializers.Serializer):
    refresh = Text(max_length=4096)
    access = Text(max_length=4096, required=False, allow_blank=True, help_text="Accepted and ignored.")


class DeliveryStatusOutput(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    recipient = serializers.CharField(source="recipient_masked", help_text="Masked address or number.")
    # A decoy's suppressed message reads like a sent one.
    status = serializers.ChoiceField(choices=[c for c in DeliveryStatus.choices if c[0] != DeliveryStatus.SUPPRESSED])
    attempts = serializers.IntegerField()
    detail = serializers.SerializerMethodField()
    updated_at = serializers.DateTimeField()

    def to_representation(self, delivery) -> dict:
        data = super().to_representation(delivery)
        if data["status"] == DeliveryStatus.SUPPRESSED:
            data["status"] = DeliveryStatus.SENT
            data["detail"] = str(self._DETAILS[DeliveryStatus.SENT])
        return data

    # Whole sentences for each channel, so that each language can say them its own way.
    _DETAILS = {
        "queued": _("Sending your code."),
        "sent": _("Your code was sent."),
        "delivered": _("Your code was delivered."),
        "expired": _("Your code expired before we could send it. Ask for a new one."),
        ("failed", "email"): _("We could not send your code to this address. Check it, or sign up another way."),
        ("failed", "sms"): _("We could not send your code to this number. Check it, or sign up another way."),
        ("undelivered", "email"): _(
            "Your code could not be delivered to this address. Check it, or sign up another way."
        ),
        ("undelivered", "sms"): _("Your code could not be delivered to this number. Check it, or sign up another way."),
    }

    def get_detail(self, delivery) -> str:
        if delivery.expired_unsent:
            return str(self._DETAILS["expired"])
        detail = self._DETAILS.get(delivery.status) or self._DETAILS.get((delivery.status, delivery.channel), "")
        return str(detail)


# --- the rest of an account's life ------------------------------------------------------------------


class FlowTokenOutput(serializers.Serializer):
    access = serializers.CharField(help_text="A token that opens only this flow's next steps.")


class PasswordResetInput(serializers.Serializer):
    email_phone_number = IdentifierField()
    challenge = ChallengeField()


class PasswordResetConfirmInput(serializers.Serializer):
    code = CodeField(help_text="The code received, as a string or an integer.")
    password = Secret()
    confirm_password = Secret()


class LoginCodeInput(serializers.Serializer):
    user_input = Text(max_length=254, help_text="Username, e-mail address or phone number.")
    challenge = ChallengeField()


class CodeInput(serializers.Serializer):
    code = CodeField(help_text="The code received, as a string or an integer.")


class ChangeIdentifierInput(serializers.Serializer):
    email_phone_number = IdentifierField(help_text="The new e-mail address or phone number.")
    password = Secret(help_text="The account's current password.")
    challenge = ChallengeField()


class CodeSentOutput(serializers.Serializer):
    detail = serializers.CharField()
    retry_after = serializers.IntegerField(help_text="Seconds before another code may be requested.")


class DeleteAccountInput(serializers.Serializer):
    password = Secret(required=False, help_text="The account's password.")
    code = CodeField(required=False, help_text="For an account without a password: a code from /user/login-code/.")


class SessionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(help_text="The login, or the last refresh.")
    user_agent = serializers.CharField()
    client = serializers.CharField(help_text="The client's network (203.0.113.x, 2001:db8:1::/48).")
    method = serializers.ChoiceField(choices=SessionMethod.choices)
    current = serializers.SerializerMethodField()

    def get_current(self, session) -> bool:
        return session.id == self.context.get("current")
