"""Sign-up: start, verify, ask for a new code, the delivery status, and the profile completion
(change-user-info, which an access token also uses for later changes)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.services import delivery_latest
from users.models import AuthStatus
from users.ratelimits import Hit, client_hit, ratelimit_hit
from users.serializers import (
    DeliveryStatusOutput,
    ProfileInput,
    ProfileOutput,
    ResendOutput,
    SignupInput,
    SignupOutput,
    VerifyInput,
    VerifyOutput,
    profile_body,
)
from users.services.profile import profile_change, profile_complete
from users.services.signup import signup_resend, signup_start, signup_verify
from users.sms_guard import SmsClient
from users.tokens import (
    STAGE_VERIFIED,
    SignupOrAccessAuthentication,
    SignupToken,
    SignupTokenAuthentication,
    SignupTokenOnlyAuthentication,
)
from users.views.common import CHALLENGE_PARAMETER, errors, resend_client


class SignupView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=SignupInput,
        responses={201: SignupOutput, **errors(400, 413, 415, 429, 503)},
        auth=[],
        summary="Start a sign-up with an e-mail address or a phone number",
    )
    def post(self, request: Request) -> Response:
        data = SignupInput(data=request.data)
        data.is_valid(raise_exception=True)
        identifier = data.validated_data["email_phone_number"]
        hits = [client_hit(request, "signup_ip"), Hit("signup_identifier", identifier.value)]
        client = SmsClient.of(request, challenge=data.validated_data.get("challenge", ""))
        result = signup_start(identifier=identifier, client=client, language=request.LANGUAGE_CODE, hits=hits)
        body = {"access": result.access, "auth_type": result.auth_type, "auth_status": result.auth_status}
        return Response(body, status=status.HTTP_201_CREATED)  # SignupOutput, built directly


class VerifyView(APIView):
    authentication_classes = [SignupTokenOnlyAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VerifyInput,
        responses={200: VerifyOutput, **errors(400, 401, 413, 415, 429, 503)},
        summary="Confirm the one-time code (sign-up token)",
    )
    def post(self, request: Request) -> Response:
        data = VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        hits = [client_hit(request, "verify_ip")]
        access = signup_verify(token=request.auth, code=data.validated_data["code"], hits=hits)
        return Response({"auth_status": AuthStatus.CODE_VERIFIED, "access": access})  # VerifyOutput


class NewVerifyView(APIView):
    authentication_classes = [SignupTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        parameters=[CHALLENGE_PARAMETER],
        responses={200: ResendOutput, **errors(400, 401, 429, 503)},
        summary="Send a new code, replacing the previous one (sign-up token)",
    )
    def get(self, request: Request) -> Response:
        hits = [Hit("resend_account", str(request.user.id))]
        retry_after = signup_resend(account=request.user, token=request.auth, client=resend_client(request), hits=hits)
        # The status the token stands for, not the account's: a stranger's sign-up for an address its
        # owner already verified must not learn that.
        status_ = AuthStatus.CODE_VERIFIED if request.auth.get("stage") == STAGE_VERIFIED else AuthStatus.NEW
        body = {"detail": _("A new code has been sent."), "auth_status": status_, "retry_after": retry_after}
        return Response(ResendOutput(body).data)


class DeliveryStatusView(APIView):
    authentication_classes = [SignupTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: DeliveryStatusOutput, **errors(401, 404)},
        summary="Status of the latest code delivery of this sign-up (sign-up token)",
    )
    def get(self, request: Request) -> Response:
        delivery = delivery_latest(subject=request.user.id)
        if delivery is None:
            raise NotFound(_("No delivery yet."))
        return Response(DeliveryStatusOutput(delivery).data)


class ChangeUserInfoView(APIView):
    # The sign-up token completes the profile; an access token changes it later.
    authentication_classes = [SignupOrAccessAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ProfileInput,
        responses={200: ProfileOutput, **errors(400, 401, 403, 413, 415, 503)},
        summary="Complete or change the profile (the sign-up token whose code was verified, or an access token)",
    )
    def patch(self, request: Request) -> Response:
        ratelimit_hit(request, "profile_account", str(request.user.id))
        data = ProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        if isinstance(request.auth, SignupToken):
            user = profile_complete(user=request.user, signup_token=request.auth, **data.validated_data)
        else:
            user = profile_change(user=request.user, **data.validated_data)
        return Response(profile_body(user))
