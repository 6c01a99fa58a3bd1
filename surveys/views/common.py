"""Pages shared by every visitor: the landing page and the login lockout page."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from surveys.selectors import user_is_analyst, user_is_official, waves_open


def home(request: HttpRequest) -> HttpResponse:
    """The landing page: the waves open for responses."""
    return render(
        request,
        "surveys/home.html",
        {"waves": waves_open(), "results_links": user_is_analyst(request.user)},
    )


def after_login(request: HttpRequest) -> HttpResponse:
    """Where signing in leads without a ?next=: officials to their surveys, others home."""
    if user_is_official(request.user):
        return redirect("surveys:official_home")
    return redirect("surveys:home")


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """What django-axes answers once a username is locked out from an address:
    429 with Retry-After, as JSON on the API and as a page elsewhere."""
    seconds = int(settings.AXES_COOLOFF_TIME * 3600)
    headers = {"Retry-After": str(seconds)}
    if request.path.startswith("/api/"):
        body = {"code": "locked_out", "message": "Too many failed attempts; try again later."}
        return JsonResponse(body, status=429, headers=headers)
    context = {"minutes": math.ceil(seconds / 60)}
    response = render(request, "registration/locked_out.html", context, status=429)
    response["Retry-After"] = headers["Retry-After"]
    return response
