"""The officials' journey: sign in, answer for each of their localities, see what they answered."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_POST

from surveys.errors import SurveysError
from surveys.models import Audience, Locality
from surveys.selectors import (
    locality_get_for_official,
    official_assignments,
    official_current_answers,
    user_is_official,
    version_definition,
    wave_get,
)
from surveys.services.drafts import draft_start
from surveys.services.responses import wave_accepts_responses
from surveys.views import journey as j

View = Callable[..., HttpResponse]


def official_required(view: View) -> View:
    """Signed in, and an official (anyone else gets a clear 403 page)."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not user_is_official(request.user):
            return j.unavailable(request, "forbidden", status=403)
        return view(request, *args, **kwargs)

    return wrapped


def _journey(request: HttpRequest, wave: str, locality: str) -> j.Journey:
    found = wave_get(wave)
    if found is None or locality_get_for_official(request.user, locality) is None:
        raise Http404("No such questionnaire for you.")
    return j.Journey(wave=found, audience=Audience.OFFICIAL, locality_code=locality, user=request.user)


@official_required
def home(request: HttpRequest) -> HttpResponse:
    """The official's open waves, one row per locality they answer for."""
    return render(request, "surveys/official_home.html", {"assignments": official_assignments(request.user)})


@official_required
@require_POST
def start(request: HttpRequest, wave: str, locality: str) -> HttpResponse:
    """Begin answering, or change an earlier answer (it stays counted until the new one is submitted)."""
    journey = _journey(request, wave, locality)
    if not wave_accepts_responses(journey.wave):
        return j.wave_unavailable(request, journey.wave)
    draft = journey.draft(request)
    if draft is None or draft.submitted:
        target = Locality.objects.get(code=locality)
        try:
            draft = draft_start(
                wave=journey.wave,
                audience=Audience.OFFICIAL,
                locality_code=locality,
                language=j._language(version_definition(journey.wave.official_version_id)),
                user=request.user,  # type: ignore[arg-type]
                answers=official_current_answers(request.user, journey.wave, target),  # type: ignore[arg-type]
            )
        except SurveysError:
            return j.unavailable(request, "forbidden", status=403)
    return journey.remember(request, HttpResponseRedirect(journey.url("page", number=1)), draft)


@official_required
def page(request: HttpRequest, wave: str, locality: str, number: int) -> HttpResponse:
    return j.page(request, _journey(request, wave, locality), number)


@official_required
def review(request: HttpRequest, wave: str, locality: str) -> HttpResponse:
    return j.review(request, _journey(request, wave, locality))


@official_required
def done(request: HttpRequest, wave: str, locality: str) -> HttpResponse:
    return j.done(request, _journey(request, wave, locality))


@official_required
def saved(request: HttpRequest, wave: str, locality: str) -> HttpResponse:
    return j.saved(request, _journey(request, wave, locality))
