"""Request checks that hold for every page and endpoint."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse


class RefuseNulMiddleware:
    """400 for a NUL character in the path or the query string; a cookie
    holding one is ignored.

    No link holds one, and PostgreSQL refuses it in text and JSON alike: let
    through, it fails whichever query it reaches (an analytics filter, a wave
    code in the path) with a 500. Form fields and JSON bodies are checked
    where they are read (Django's form fields, the questionnaire's answer
    checks, the API serializers), which name the field at fault."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            raise BadRequest("NUL character in the address")
        if "\\000" in request.META.get("HTTP_COOKIE", ""):
            # A quoted cookie value may escape a NUL as \000. Such a cookie is
            # treated as absent (a session key holding one failed its query):
            # refusing the request would lock the browser out until it is cleared.
            request.COOKIES = {k: v for k, v in request.COOKIES.items() if "\x00" not in v}
        return self.get_response(request)
