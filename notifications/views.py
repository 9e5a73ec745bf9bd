"""Twilio's delivery status callback. Requests must carry a valid X-Twilio-Signature."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from twilio.request_validator import RequestValidator

from notifications.services import delivery_status_update


class TwilioStatusInput(serializers.Serializer):
    MessageSid = serializers.CharField(max_length=64)  # Twilio's field names
    MessageStatus = serializers.CharField(max_length=32)
    ErrorCode = serializers.CharField(max_length=16, required=False, allow_blank=True)


class TwilioStatusCallbackView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    parser_classes = [FormParser]

    @extend_schema(
        request=TwilioStatusInput,
        responses={204: None, 400: OpenApiResponse(), 403: OpenApiResponse()},
        auth=[],
        summary="Twilio message status callback (signed by Twilio)",
    )
    def post(self, request: Request) -> Response:
        url = settings.TWILIO_STATUS_CALLBACK_URL or request.build_absolute_uri()
        params = {key: request.POST.get(key) for key in request.POST}
        signature = request.headers.get("X-Twilio-Signature", "")
        token = settings.TWILIO_AUTH_TOKEN
        if not token or not signature or not RequestValidator(token).validate(url, params, signature):
            raise PermissionDenied("Invalid Twilio signature.")
        data = TwilioStatusInput(data=params)
        data.is_valid(raise_exception=True)
        delivery_status_update(
            provider_message_id=data.validated_data["MessageSid"],
            provider_status=data.validated_data["MessageStatus"],
            error_code=data.validated_data.get("ErrorCode", ""),
        )
        return Response(status=204)
