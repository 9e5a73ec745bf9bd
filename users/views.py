"""The seven ``/user/`` endpoints of the public contract. Each validates, calls one service and
serializes; errors are raised and shaped by ``project.exceptions``."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications.services import delivery_latest
from users import services
from users.models import AuthStatus
from users.ratelimits import BY_IP, client_network, ratelimit_hit
from users.serializers import (
    DeliveryStatusOutput,
    DetailOutput,
    ErrorOutput,
    LoginInput,
    LoginOutput,
    LogoutInput,
    ProfileInput,
    ProfileOutput,
    RefreshInput,
    ResendInput,
    ResendOutput,
    SignupInput,
    SignupOutput,
    TokenPairOutput,
    VerifyInput,
    VerifyOutput,
)
from users.sms_guard import SmsClient
from users.tokens import STAGE_VERIFIED, SignupOrAccessAuthentication, SignupToken, SignupTokenAuthentication


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "Invalid input; `fields` says which.",
        401: "Missing, invalid or expired token, or wrong credentials.",
        403: "Not allowed in this state (for example, before verification).",
        404: "Nothing to show yet.",
        413: "Request body too large.",
        415: "Unsupported content type; send JSON.",
        429: "Too many requests; see the Retry-After header.",
        503: "A backing service is unavailable; try again shortly.",
    }
    return {code: OpenApiResponse(ErrorOutput, description=descriptions[code]) for code in statuses}


class SignupView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=SignupInput,
        responses={201: SignupOutput, **_errors(400, 413, 415, 429, 503)},
        auth=[],
        summary="Start a sign-up with an e-mail address or a phone number",
    )
    def post(self, request: Request) -> Response:
        ratelimit_hit(request, "signup_ip", BY_IP)
        data = SignupInput(data=request.data)
        data.is_valid(raise_exception=True)
        identifier = data.validated_data["email_phone_number"]
        ratelimit_hit(request, "signup_identifier", identifier.value)
        client = SmsClient.of(request, challenge=data.validated_data.get("challenge", ""))
        result = services.user_signup(identifier=identifier, client=client)
        return Response(SignupOutput(result).data, status=status.HTTP_201_CREATED)


class VerifyView(APIView):
    authentication_classes = [SignupTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=VerifyInput,
        responses={200: VerifyOutput, **_errors(400, 401, 413, 415, 429, 503)},
        summary="Confirm the one-time code (sign-up token)",
    )
    def post(self, request: Request) -> Response:
        ratelimit_hit(request, "verify_ip", BY_IP)
        data = VerifyInput(data=request.data)
        data.is_valid(raise_exception=True)
        access = services.user_verify(
            account=request.user, code=data.validated_data["code"], attempt=request.auth.attempt
        )
        return Response(VerifyOutput({"auth_status": AuthStatus.CODE_VERIFIED, "access": access}).data)


# The challenge response of a resend travels in a header: new-verify is a GET without a body, and a
# query string would end up in access logs and can outgrow a proxy's request-line limit.
CHALLENGE_HEADER = "X-Challenge"


class NewVerifyView(APIView):
    authentication_classes = [SignupTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter(
                CHALLENGE_HEADER,
                {"type": "string", "maxLength": 4096},
                OpenApiParameter.HEADER,
                description="The challenge response, as in sign-up's `challenge` field (a header: this is a GET).",
            )
        ],
        responses={200: ResendOutput, **_errors(400, 401, 429, 503)},
        summary="Send a new code, replacing the previous one (sign-up token)",
    )
    def get(self, request: Request) -> Response:
        ratelimit_hit(request, "resend_account", str(request.user.id))
        data = ResendInput(data={"challenge": request.headers.get(CHALLENGE_HEADER, "")})
        data.is_valid(raise_exception=True)
        client = SmsClient.of(request, challenge=data.validated_data["challenge"])
        retry_after = services.user_resend_code(account=request.user, client=client)
        # The status the token stands for, not the account's: a stranger's sign-up for an address its
        # owner already verified must not learn that.
        status_ = AuthStatus.CODE_VERIFIED if request.auth.get("stage") == STAGE_VERIFIED else AuthStatus.NEW
        body = {"detail": "A new code has been sent.", "auth_status": status_, "retry_after": retry_after}
        return Response(ResendOutput(body).data)


class DeliveryStatusView(APIView):
    authentication_classes = [SignupTokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: DeliveryStatusOutput, **_errors(401, 404)},
        summary="Status of the latest code delivery of this sign-up (sign-up token)",
    )
    def get(self, request: Request) -> Response:
        delivery = delivery_latest(subject=request.user.id)
        if delivery is None:
            raise NotFound("No delivery yet.")
        return Response(DeliveryStatusOutput(delivery).data)


class ChangeUserInfoView(APIView):
    # The sign-up token completes the profile; a normal access token changes it later.
    authentication_classes = [SignupOrAccessAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ProfileInput,
        responses={200: ProfileOutput, **_errors(400, 401, 403, 413, 415, 503)},
        summary="Complete or change the profile (the sign-up token whose code was verified, or an access token)",
    )
    def patch(self, request: Request) -> Response:
        ratelimit_hit(request, "profile_account", str(request.user.id))
        data = ProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        signup_token = request.auth if isinstance(request.auth, SignupToken) else None
        user = services.user_update_profile(user=request.user, data=data.validated_data, signup_token=signup_token)
        return Response(ProfileOutput(user).data)


class MeView(APIView):
    @extend_schema(
        request=None,
        responses={200: ProfileOutput, **_errors(401, 503)},
        summary="The logged-in user's profile (access token)",
    )
    def get(self, request: Request) -> Response:
        return Response(ProfileOutput(request.user).data)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginInput,
        responses={200: LoginOutput, **_errors(400, 401, 413, 415, 429, 503)},
        auth=[],
        summary="Log in with a username, e-mail address or phone number",
    )
    def post(self, request: Request) -> Response:
        ratelimit_hit(request, "login_ip", BY_IP)
        data = LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.user_login(**data.validated_data, client_address=client_network(request))
        return Response(LoginOutput({**tokens, "auth_status": AuthStatus.DONE}).data)


class LogoutView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=LogoutInput,
        responses={200: DetailOutput, **_errors(400, 401, 413, 415)},
        summary="Revoke the caller's refresh token",
    )
    def post(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_logout(user=request.user, refresh=data.validated_data["refresh"])
        return Response(DetailOutput({"detail": "Logged out."}).data)


class LoginRefreshView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RefreshInput,
        responses={200: TokenPairOutput, **_errors(400, 401, 413, 415, 429)},
        auth=[],
        summary="Exchange a refresh token for a new pair (rotation)",
    )
    def post(self, request: Request) -> Response:
        ratelimit_hit(request, "refresh_ip", BY_IP)
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.token_refresh(refresh=data.validated_data["refresh"])
        return Response(TokenPairOutput(tokens).data)
