"""The submission API (v1): waves, questionnaires, responses, tokens.

Views parse and authorise, call one selector or service, and serialise.
Domain errors become HTTP in surveys.api.errors, in one place.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotAuthenticated, NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.api.errors import error_body
from surveys.api.serializers import (
    ErrorSerializer,
    QuestionnaireSerializer,
    SubmissionResultSerializer,
    SubmissionSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    WaveSerializer,
    submission_result,
)
from surveys.api.throttling import SubmitAnonThrottle, TokenThrottle, UserThrottle
from surveys.definition.answers import answers_validate
from surveys.models import Audience, Wave, WaveStatus
from surveys.selectors import questionnaire_document, version_definition, wave_get_recent, waves_for_api
from surveys.services.responses import response_submit


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


NOT_FOUND = error_response("not_found: no such wave (or not visible to you).")
# Errors any endpoint may give, whatever it does (docs/api.md, "Errors").
MALFORMED = "bad_request: a NUL character in the address or query string, or too many query parameters"
BAD_CREDENTIALS = "authentication_failed: an Authorization header with an unknown or malformed token"
NOT_ACCEPTABLE = error_response(
    "not_acceptable: the Accept header asks for a format this endpoint does not give."
)
THROTTLED = error_response("throttled; see the Retry-After header.")
UNAVAILABLE = error_response(
    "service_unavailable: the database or Redis is out of reach for now; retry after Retry-After seconds."
)
PAYLOAD_TOO_LARGE = error_response("payload_too_large.")
UNSUPPORTED_MEDIA_TYPE = error_response("unsupported_media_type: send application/json (UTF-8, -16 or -32).")


def errors_of_every_endpoint(
    bad_request: str = "", not_authenticated: str = "", authenticates: bool = True
) -> dict[int, OpenApiResponse]:
    """400, 401, 406, 429 and 503 as any endpoint may give them, each
    description led by the endpoint's own reasons for that status, if any."""
    errors = {
        400: error_response("; ".join(filter(None, [bad_request, MALFORMED])) + "."),
        406: NOT_ACCEPTABLE,
        429: THROTTLED,
        503: UNAVAILABLE,
    }
    if authenticates:
        errors[401] = error_response("; ".join(filter(None, [not_authenticated, BAD_CREDENTIALS])) + ".")
    return errors


def _visible_wave(request: Request, code: str) -> Wave:
    wave = waves_for_api(request.user).filter(code=code).first()
    if wave is None:
        raise NotFound(f"No open wave '{code}'.")
    return wave


class WaveListApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="waves_list",
        summary="Open waves",
        description=(
            "Waves open for responses, with their localities, dates and suppression thresholds. "
            "Survey managers see waves of every status and may filter with ?status=."
        ),
        parameters=[OpenApiParameter("status", str, enum=WaveStatus.values, required=False)],
        responses={
            200: WaveSerializer(many=True),
            **errors_of_every_endpoint("invalid_response: an unknown status (errors.status)"),
        },
    )
    def get(self, request: Request) -> Response:
        status_filter = request.query_params.get("status")
        if status_filter and status_filter not in WaveStatus.values:
            raise ValidationError({"status": [f"Must be one of: {', '.join(WaveStatus.values)}."]})
        waves = waves_for_api(request.user, status=status_filter).order_by("code")
        return Response(WaveSerializer(waves, many=True).data)


class WaveDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="waves_retrieve",
        summary="One wave",
        responses={200: WaveSerializer, 404: NOT_FOUND, **errors_of_every_endpoint()},
    )
    def get(self, request: Request, wave: str) -> Response:
        return Response(WaveSerializer(_visible_wave(request, wave)).data)


class WaveQuestionnaireApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="waves_questionnaire",
        summary="The questionnaire a wave asks an audience",
        description=(
            "Sections and items with code, type, required, choices (code, score, engaged, "
            "labels per language), min/max and other constraints, the activity an item "
            "measures (with its service area and kind) and relevance rules. See "
            "docs/questionnaire-format.md for the meaning of each field."
        ),
        parameters=[OpenApiParameter("audience", str, OpenApiParameter.PATH, enum=Audience.values)],
        responses={200: QuestionnaireSerializer, 404: NOT_FOUND, **errors_of_every_endpoint()},
    )
    def get(self, request: Request, wave: str, audience: str) -> Response:
        if audience not in Audience.values:
            raise NotFound(f"Audience must be one of: {', '.join(Audience.values)}.")
        return Response(questionnaire_document(_visible_wave(request, wave), audience))


class ResponseSubmitApi(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [SubmitAnonThrottle, UserThrottle]

    @extend_schema(
        operation_id="responses_submit",
        summary="Submit a response",
        description=(
            "Validates the answers against the wave's questionnaire and stores them in one "
            "transaction. Idempotent on submission_id: the same payload again returns 200 with "
            "the same body. Officials authenticate (token or session) and may only answer for "
            "their localities; a new submission_id supersedes their earlier answer. Anonymous "
            "submissions are throttled per client and per wave; survey managers and API "
            "clients may enter citizen responses on respondents' behalf without those limits."
        ),
        request=SubmissionSerializer,
        responses={
            201: SubmissionResultSerializer,
            200: OpenApiResponse(SubmissionResultSerializer, description="A safe retry."),
            **errors_of_every_endpoint(
                "invalid_response (errors per field, answers as answers.<item>), "
                "unknown_locality, invitation_invalid, malformed_json",
                "not_authenticated: an official response needs a signed-in official",
            ),
            403: error_response(
                "forbidden: wrong audience for the invitation or caller, "
                "or a locality the official is not bound to."
            ),
            404: NOT_FOUND,
            409: error_response("wave_not_open, invitation_used, submission_conflict."),
            413: PAYLOAD_TOO_LARGE,
            415: UNSUPPORTED_MEDIA_TYPE,
        },
    )
    def post(self, request: Request, wave: str) -> Response:
        target = wave_get_recent(wave)
        if target is None:
            raise NotFound(f"No wave '{wave}'.")
        serializer = SubmissionSerializer(data=request.data)
        if not serializer.is_valid():
            raise ValidationError(_every_problem(target, request.data, serializer.errors))
        data: dict[str, Any] = serializer.validated_data
        if data["audience"] == Audience.OFFICIAL and not request.user.is_authenticated:
            raise NotAuthenticated("Officials must sign in (session or token) to submit.")
        result = response_submit(
            wave=target,
            submission_id=data["submission_id"],
            audience=data["audience"],
            locality_code=data["locality"],
            language=data["language"],
            answers=data["answers"],
            invitation_token=data.get("invitation") or None,
            user=request.user if request.user.is_authenticated else None,
        )
        return Response(
            submission_result(result.response),
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )


def _every_problem(wave: Wave, data: Any, errors: dict[str, Any]) -> dict[str, Any]:
    """The submission's own fields' problems and, when the audience and the
    answers could be read, the answers' too: a client learns of all of them at once."""
    problems = dict(errors)
    audience = data.get("audience") if isinstance(data, dict) else None
    if "answers" not in problems and audience in Audience.values:
        definition = version_definition(wave.version_id_for(audience))
        problems.update(answers_validate(definition, data["answers"]))
    return problems


class AuthTokenApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [TokenThrottle]

    @extend_schema(
        operation_id="auth_token",
        summary="Exchange a username and password for an API token",
        description=(
            "Send the token as `Authorization: Token <token>`. Repeated failures lock the "
            "username out from that address for a while (django-axes)."
        ),
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            **errors_of_every_endpoint(
                "invalid_credentials; invalid_response: username or password missing or not text "
                "(errors per field); malformed_json",
                authenticates=False,
            ),
            413: PAYLOAD_TOO_LARGE,
            415: UNSUPPORTED_MEDIA_TYPE,
            429: error_response("throttled, or locked_out after too many failed attempts; see Retry-After."),
        },
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # A locked-out username gets None here; django-axes' middleware then
        # replaces this response with 429 locked_out (surveys.views.locked_out).
        user = authenticate(request._request, **serializer.validated_data)
        if user is None or not user.is_active:
            return Response(
                error_body("invalid_credentials", "Unknown username or wrong password."),
                status=status.HTTP_400_BAD_REQUEST,
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})
