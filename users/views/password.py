"""A forgotten password: ask for a reset code, ask for another, and set a new password with it."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from users.ratelimits import Hit, client_hit, sms_network
from users.serializers import (
    CodeSentOutput,
    DetailOutput,
    FlowTokenOutput,
    PasswordResetConfirmInput,
    PasswordResetInput,
)
from users.services.password import password_reset_confirm, password_reset_request, password_reset_resend
from users.sms_guard import SmsClient
from users.tokens import PasswordResetAuthentication
from users.views.common import CHALLENGE_PARAMETER, errors, resend_client


class PasswordResetView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=PasswordResetInput,
        responses={202: FlowTokenOutput, **errors(400, 413, 415, 429, 503)},
        auth=[],
        summary="Send a password-reset code to an e-mail address or phone number",
    )
    def post(self, request: Request) -> Response:
        data = PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        identifier = data.validated_data["email_phone_number"]
        hits = [
            client_hit(request, "password_reset_ip"),
            Hit("password_reset_network", sms_network(request)),
            Hit("password_reset_identifier", identifier.value),
        ]
        client = SmsClient.of(request, challenge=data.validated_data.get("challenge", ""))
        token = password_reset_request(identifier=identifier, client=client, hits=hits)
        return Response(FlowTokenOutput({"access": token}).data, status=status.HTTP_202_ACCEPTED)


class PasswordResetNewCodeView(APIView):
    authentication_classes = [PasswordResetAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        parameters=[CHALLENGE_PARAMETER],
        responses={200: CodeSentOutput, **errors(400, 401, 429, 503)},
        summary="Send a new reset code, replacing the previous one (reset token)",
    )
    def get(self, request: Request) -> Response:
        retry_after = password_reset_resend(
            account=request.user,
            token=request.auth,
            client=resend_client(request),
            hits=[Hit("resend_account", str(request.user.id))],
        )
        return Response(CodeSentOutput({"detail": _("A new code has been sent."), "retry_after": retry_after}).data)


class PasswordResetConfirmView(APIView):
    authentication_classes = [PasswordResetAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=PasswordResetConfirmInput,
        responses={200: DetailOutput, **errors(400, 401, 413, 415, 429, 503)},
        summary="Set a new password with the reset code (reset token); every session ends",
    )
    def post(self, request: Request) -> Response:
        data = PasswordResetConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        password_reset_confirm(account=request.user, **data.validated_data, hits=[client_hit(request, "verify_ip")])
        return Response(DetailOutput({"detail": _("Your password has been changed. Log in with it.")}).data)
