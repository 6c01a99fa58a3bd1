"""One error shape for the whole API, and the one place domain errors become HTTP.

Every error body is ``{"code": "<machine-readable>", "message": "<human>"}``,
plus ``"errors": {"<field>": ["..."]}`` when fields are at fault.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from surveys import errors as domain

# Domain error -> HTTP status. The error's own ``code`` is the body's code.
DOMAIN_STATUS: dict[type[domain.SurveysError], int] = {
    domain.WaveNotOpen: status.HTTP_409_CONFLICT,
    domain.UnknownLocality: status.HTTP_400_BAD_REQUEST,
    domain.InvitationUsed: status.HTTP_409_CONFLICT,
    domain.InvitationInvalid: status.HTTP_400_BAD_REQUEST,
    domain.SubmissionForbidden: status.HTTP_403_FORBIDDEN,
    domain.SubmissionConflict: status.HTTP_409_CONFLICT,
    domain.InvalidResponse: status.HTTP_400_BAD_REQUEST,
    domain.InvalidWave: status.HTTP_400_BAD_REQUEST,
    domain.InvalidWaveTransition: status.HTTP_409_CONFLICT,
}

# DRF exception -> our code, where DRF's own default code is not the one we document.
DRF_CODES: dict[type[exceptions.APIException], str] = {
    exceptions.ParseError: "malformed_json",
    exceptions.UnsupportedMediaType: "unsupported_media_type",
    exceptions.NotAuthenticated: "not_authenticated",
    exceptions.AuthenticationFailed: "authentication_failed",
    exceptions.PermissionDenied: "forbidden",
    exceptions.NotFound: "not_found",
    exceptions.MethodNotAllowed: "method_not_allowed",
    exceptions.NotAcceptable: "not_acceptable",
    exceptions.Throttled: "throttled",
    exceptions.ValidationError: "invalid_response",
}


def error_body(code: str, message: str, errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return body


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, domain.SurveysError):
        errors = getattr(exc, "errors", None)
        message = exc.__class__.__doc__ or exc.code
        if not errors:
            message = exc.message
        return Response(
            error_body(exc.code, message.strip(), errors), status=DOMAIN_STATUS.get(type(exc), 400)
        )
    # As DRF's own handler does, so that these too get the one error shape.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(*exc.args)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*exc.args)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    code = next((c for cls, c in DRF_CODES.items() if isinstance(exc, cls)), None)
    code = code or str(exc.default_code)
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(code, "The request is not valid.", _flatten(exc.detail))
    else:
        response.data = error_body(code, str(exc.detail))
    return response


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field.sub": ["message", ...]}."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" and not prefix else f"{prefix}{key}"
            out.update(_flatten(value, f"{name}."))
            if not isinstance(value, dict | list) or (
                isinstance(value, list) and all(not isinstance(v, dict | list) for v in value)
            ):
                out[name] = [str(v) for v in (value if isinstance(value, list) else [value])]
        return {k: v for k, v in out.items() if v}
    if isinstance(detail, list):
        return {prefix.rstrip(".") or "non_field_errors": [str(v) for v in detail]}
    return {prefix.rstrip(".") or "non_field_errors": [str(detail)]}
