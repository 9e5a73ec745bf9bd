"""Logging in (password or code), refreshing, logging out, and the caller's sessions."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from users.identifiers import login_name
from users.models import AuthStatus, SessionEnd
from users.ratelimits import Hit, client_hit, client_network
from users.serializers import (
    CodeInput,
    DetailOutput,
    FlowTokenOutput,
    LoginCodeInput,
    LoginInput,
    LoginOutput,
    LogoutInput,
    RefreshInput,
    SessionOutput,
    TokenPairOutput,
)
from users.services.login import login_code_confirm, login_code_request, login_with_password
from users.services.sessions import (
    ClientInfo,
    session_end,
    session_logout,
    session_refresh,
    sessions_end,
    sessions_live,
)
from users.sms_guard import SmsClient
from users.tokens import AccessTokenOnlyAuthentication, LoginCodeAuthentication
from users.views.common import errors


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginInput,
        responses={200: LoginOutput, **errors(400, 401, 413, 415, 429, 503)},
        auth=[],
        summary="Log in with a username, e-mail address or phone number",
    )
    def post(self, request: Request) -> Response:
        data = LoginInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = login_with_password(
            request=request,
            **data.validated_data,
            client_address=client_network(request),
            client=ClientInfo.of(request),
            hits=[client_hit(request, "login_ip")],
        )
        return Response({**tokens, "auth_status": AuthStatus.DONE})  # LoginOutput


class LoginCodeView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=LoginCodeInput,
        responses={202: FlowTokenOutput, **errors(400, 413, 415, 429, 503)},
        auth=[],
        summary="Send a login code to a username, e-mail address or phone number",
    )
    def post(self, request: Request) -> Response:
        data = LoginCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        name = login_name(data.validated_data["user_input"])
        hits = [client_hit(request, "login_code_ip"), Hit("login_code_identifier", f"{name.kind}:{name.value}")]
        client = SmsClient.of(request, challenge=data.validated_data.get("challenge", ""))
        token = login_code_request(user_input=data.validated_data["user_input"], client=client, hits=hits)
        return Response(FlowTokenOutput({"access": token}).data, status=status.HTTP_202_ACCEPTED)


class LoginCodeConfirmView(APIView):
    authentication_classes = [LoginCodeAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=CodeInput,
        responses={200: LoginOutput, **errors(400, 401, 413, 415, 429, 503)},
        summary="Log in with the code (login-code token)",
    )
    def post(self, request: Request) -> Response:
        data = CodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        hits = [client_hit(request, "verify_ip")]
        tokens = login_code_confirm(
            account=request.user, code=data.validated_data["code"], client=ClientInfo.of(request), hits=hits
        )
        return Response({**tokens, "auth_status": AuthStatus.DONE})  # LoginOutput


class LogoutView(APIView):
    # The access token is checked by the logout's own statement (its session must be live).
    authentication_classes = [AccessTokenOnlyAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=LogoutInput,
        responses={200: DetailOutput, **errors(400, 401, 413, 415)},
        summary="End the session of this refresh token",
    )
    def post(self, request: Request) -> Response:
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        session_logout(access=request.auth, refresh=data.validated_data["refresh"])
        return Response({"detail": _("Logged out.")})  # DetailOutput


class LogoutAllView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: DetailOutput, **errors(401)},
        summary="End every session of the caller, this one included",
    )
    def post(self, request: Request) -> Response:
        sessions_end(user_id=request.user.pk, reason=SessionEnd.LOGOUT_ALL)
        return Response(DetailOutput({"detail": _("Logged out everywhere.")}).data)


class LoginRefreshView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        request=RefreshInput,
        responses={200: TokenPairOutput, **errors(400, 401, 413, 415, 429)},
        auth=[],
        summary="Exchange a refresh token for a new pair (rotation)",
    )
    def post(self, request: Request) -> Response:
        # No rate limit: a forged or garbage token is refused on its signature with no I/O at all,
        # and a real one rotates its own session (one UPDATE), like any other authenticated call.
        data = RefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = session_refresh(refresh=data.validated_data["refresh"])
        return Response(tokens)  # TokenPairOutput: access and refresh


class SessionsView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        responses={200: SessionOutput(many=True), **errors(401)},
        summary="The caller's live sessions (`current` marks this one)",
    )
    def get(self, request: Request) -> Response:
        sessions = sessions_live(user=request.user)
        return Response(SessionOutput(sessions, many=True, context={"current": request.auth.session_id}).data)


class SessionView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=None,
        parameters=[OpenApiParameter("session_id", str, OpenApiParameter.PATH, description="A session's id.")],
        responses={204: None, **errors(401, 404)},
        summary="End one of the caller's sessions (its refresh and access tokens stop working)",
    )
    def delete(self, request: Request, session_id) -> Response:
        session_end(user=request.user, session_id=session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
