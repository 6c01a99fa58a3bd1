"""Request checks that hold for every page and endpoint."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class RefuseNulMiddleware:
    """400 for a NUL character in the path, the query string or a form field.

    No person types one, and PostgreSQL refuses it in text and JSON alike: let
    through, it would fail whichever query or save it reached (a 500). The JSON
    API refuses it field by field (the serializers and answer checks)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            "\x00" in request.path_info
            or "%00" in request.META.get("QUERY_STRING", "")
            or (request.method == "POST" and request.content_type in FORM_TYPES and _form_has_nul(request))
        ):
            raise BadRequest("NUL character in the request")
        return self.get_response(request)


def _form_has_nul(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists()
    )
