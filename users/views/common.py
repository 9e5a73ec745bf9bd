"""What the views of every flow share: the documented error answers and the challenge header."""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.request import Request

from users.serializers import ErrorOutput, ResendInput
from users.sms_guard import SmsClient


def errors(*statuses: int) -> dict[int, OpenApiResponse]:
    descriptions = {
        400: "Invalid input; `fields` says which.",
        401: "Missing, invalid or expired token, or wrong credentials.",
        403: "Not allowed in this state (for example, before verification).",
        404: "Nothing to show, or no such thing of yours.",
        413: "Request body too large.",
        415: "Unsupported content type; send JSON.",
        429: "Too many requests; see the Retry-After header.",
        503: "A backing service is unavailable; try again shortly.",
    }
    return {code: OpenApiResponse(ErrorOutput, description=descriptions[code]) for code in statuses}


# The challenge response of a resend travels in a header: a resend is a GET without a body, and a
# query string would end up in access logs and can outgrow a proxy's request-line limit.
CHALLENGE_HEADER = "X-Challenge"
CHALLENGE_PARAMETER = OpenApiParameter(
    CHALLENGE_HEADER,
    {"type": "string", "maxLength": 4096},
    OpenApiParameter.HEADER,
    description="The challenge response, as in sign-up's `challenge` field (a header: this is a GET).",
)


def resend_client(request: Request) -> SmsClient:
    """The SMS client of a resend, with the challenge response from its header."""
    data = ResendInput(data={"challenge": request.headers.get(CHALLENGE_HEADER, "")})
    data.is_valid(raise_exception=True)
    return SmsClient.of(request, challenge=data.validated_data["challenge"])
