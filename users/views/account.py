"""The logged-in user's account: read and change the profile, change the e-mail address or phone
number, delete the account."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from users.ratelimits import ratelimit_hit
from users.serializers import (
    ChangeIdentifierInput,
    CodeInput,
    CodeSentOutput,
    DeleteAccountInput,
    ProfileInput,
    ProfileOutput,
    profile_body,
)
from users.services.deletion import account_delete
from users.services.profile import identifier_change_confirm, identifier_change_request, profile_change
from users.sms_guard import SmsClient
from users.views.common import errors


class MeView(APIView):
    @extend_schema(
        request=None,
        responses={200: ProfileOutput, **errors(401, 503)},
        summary="The logged-in user's profile (access token)",
    )
    def get(self, request: Request) -> Response:
        return Response(profile_body(request.user))

    @extend_schema(
        request=ProfileInput,
        responses={200: ProfileOutput, **errors(400, 401, 413, 415, 429, 503)},
        summary="Change the profile (access token); a new password needs old_password and ends every session",
    )
    def patch(self, request: Request) -> Response:
        ratelimit_hit(request, "profile_account", str(request.user.id))
        data = ProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(profile_body(profile_change(user=request.user, **data.validated_data)))

    @extend_schema(
        request=DeleteAccountInput,
        responses={204: None, **errors(400, 401, 413, 415, 429, 503)},
        summary="Delete the account for good (password, or a login code for an account without one)",
    )
    def delete(self, request: Request) -> Response:
        ratelimit_hit(request, "profile_account", str(request.user.id))
        data = DeleteAccountInput(data=request.data)
        data.is_valid(raise_exception=True)
        account_delete(user=request.user, **data.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChangeIdentifierView(APIView):
    @extend_schema(
        request=ChangeIdentifierInput,
        responses={202: CodeSentOutput, **errors(400, 401, 413, 415, 429, 503)},
        summary="Send a code to a new e-mail address or phone number (access token)",
    )
    def post(self, request: Request) -> Response:
        ratelimit_hit(request, "change_identifier_account", str(request.user.id))
        data = ChangeIdentifierInput(data=request.data)
        data.is_valid(raise_exception=True)
        client = SmsClient.of(request, challenge=data.validated_data.get("challenge", ""))
        retry_after = identifier_change_request(
            user=request.user,
            identifier=data.validated_data["email_phone_number"],
            password=data.validated_data["password"],
            client=client,
        )
        body = {"detail": _("A code has been sent to the new address or number."), "retry_after": retry_after}
        return Response(CodeSentOutput(body).data, status=status.HTTP_202_ACCEPTED)


class ChangeIdentifierConfirmView(APIView):
    @extend_schema(
        request=CodeInput,
        responses={200: ProfileOutput, **errors(400, 401, 413, 415, 429, 503)},
        summary="Confirm the new e-mail address or phone number with its code (access token)",
    )
    def post(self, request: Request) -> Response:
        ratelimit_hit(request, "change_identifier_account", str(request.user.id))
        data = CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(profile_body(identifier_change_confirm(user=request.user, **data.validated_data)))
