"""The citizens' way in: an open wave link, an invitation link, a resume code."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from surveys.errors import InvitationInvalid, InvitationUsed, SurveysError, WaveNotOpen
from surveys.forms import ResumeForm, StartForm
from surveys.models import Audience, Invitation, Wave
from surveys.ratelimit import client_ident, over_limit
from surveys.selectors import version_definition, wave_get_recent, wave_localities_recent
from surveys.services.drafts import draft_for_resume_code, draft_start, invitation_for_token
from surveys.services.responses import wave_accepts_responses
from surveys.views import journey as j


def _journey(code: str) -> j.Journey:
    wave = wave_get_recent(code)
    if wave is None:
        raise Http404("No such survey.")
    return j.Journey(wave=wave, audience=Audience.CITIZEN)


def _language(wave: Wave) -> str:
    return j._language(version_definition(wave.citizen_version_id))


@never_cache  # the answer depends on this browser's draft cookie
@require_http_methods(["GET", "POST"])
def start(request: HttpRequest, wave: str) -> HttpResponse:
    """The open wave link /w/<wave>/: choose a locality and begin (or continue)."""
    journey = _journey(wave)
    if not wave_accepts_responses(journey.wave):
        return j.wave_unavailable(request, journey.wave)
    existing = journey.draft(request)
    localities = [(loc.code, loc.name) for loc in wave_localities_recent(journey.wave).values()]
    initial = {"locality": localities[0][0]} if len(localities) == 1 else {}
    form = StartForm(request.POST or None, localities=localities, initial=initial)
    if request.method == "POST" and form.is_valid():
        wait = over_limit(request, "web_start")
        if wait:
            return j.too_many(request, wait)
        draft = draft_start(
            wave=journey.wave,
            audience=Audience.CITIZEN,
            locality_code=form.cleaned_data["locality"],
            language=_language(journey.wave),
        )
        return journey.remember(request, HttpResponseRedirect(journey.url("page", number=1)), draft)
    definition = version_definition(journey.wave.citizen_version_id)
    return render(
        request,
        "surveys/start.html",
        {
            "journey": journey,
            "form": form,
            "locality": form.locality_question(),
            "title": j.translate(definition["title"], definition["languages"]),
            "introduction": j.translate(definition.get("introduction"), definition["languages"]),
            "existing": existing,
            "continue_url": _continue_url(journey, existing) if existing else None,
        },
    )


def _continue_url(journey: j.Journey, draft) -> str:  # type: ignore[no-untyped-def]
    if draft.submitted:
        return journey.url("done")
    number = j.first_open_page(draft)
    return journey.url("page", number=number) if number else journey.url("review")


# What an invitation link that cannot be used leads to: the token-free page's
# name in its URL -> (what it says, its status).
INVITATION_PROBLEMS = {
    "used": ("invitation_used", 410),
    "invalid": ("invitation_invalid", 404),
    "not-open": ("not_open", 409),
    "closed": ("closed", 409),
}


@never_cache
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The invitation link /i/<token>/: exchanged for a draft cookie on first
    visit, so the token never appears in later URLs or Referer headers.

    Always a redirect with ``Referrer-Policy: no-referrer``: to the journey,
    or to a token-free page saying what is wrong. Never a page with a form:
    under that policy the browser would post the language menu with
    ``Origin: null``, which Django's CSRF check refuses."""
    try:
        found = invitation_for_token(token)
    except InvitationInvalid:
        response = _invitation_problem("invalid")
    except InvitationUsed:
        response = _invitation_problem("used")
    except WaveNotOpen as exc:
        response = _invitation_problem(_wave_problem(exc.wave))
    else:
        response = _invitation_accepted(request, found)
    response["Referrer-Policy"] = "no-referrer"
    return response


def _invitation_accepted(request: HttpRequest, found: Invitation) -> HttpResponse:
    """The redirect into the journey, with this browser's draft for the
    invitation (or to the page saying why there can be none)."""
    if found.audience == Audience.OFFICIAL:
        return HttpResponseRedirect(reverse("surveys:official_home"))
    journey = j.Journey(wave=found.wave, audience=Audience.CITIZEN)
    current = journey.draft(request)
    if current is None or current.invitation_id != found.pk or current.submitted:
        try:
            current = draft_start(
                wave=found.wave,
                audience=Audience.CITIZEN,
                locality_code=found.locality.code,
                language=_language(found.wave),
                invitation=found,
            )
        except WaveNotOpen as exc:  # its closing time passed a moment ago
            return _invitation_problem(_wave_problem(exc.wave))
        except SurveysError:  # its locality was taken out of the wave
            return _invitation_problem("invalid")
    return journey.remember(request, HttpResponseRedirect(_continue_url(journey, current)), current)


def _wave_problem(wave: Wave | None) -> str:
    return "closed" if wave is not None and wave.has_closed else "not-open"


def _invitation_problem(problem: str) -> HttpResponse:
    return HttpResponseRedirect(reverse("surveys:invitation_problem", kwargs={"problem": problem}))


@never_cache
def invitation_problem(request: HttpRequest, problem: str) -> HttpResponse:
    """Why an invitation link cannot be used, in the citizen's language, at a
    URL without the token (so the language menu works as on every page)."""
    if problem not in INVITATION_PROBLEMS:
        raise Http404("No such page.")
    reason, status = INVITATION_PROBLEMS[problem]
    return j.unavailable(request, reason, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
def resume(request: HttpRequest, wave: str) -> HttpResponse:
    """Continue answering on another device (or after the session expired) with a resume code."""
    journey = _journey(wave)
    if not wave_accepts_responses(journey.wave):
        return j.wave_unavailable(request, journey.wave)
    form = ResumeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Resume codes are 60-bit secrets; counting wrong guesses per client
        # address only keeps guessing from being cheap.
        blocked = f"resume-blocked:{client_ident(request)}"
        until = cache.get(blocked)
        if until:
            return j.too_many(request, until - time.time())
        draft = draft_for_resume_code(wave=journey.wave, code=form.cleaned_data["code"])
        if draft is not None:
            return journey.remember(request, HttpResponseRedirect(_continue_url(journey, draft)), draft)
        wait = over_limit(request, "resume_fail")
        if wait:
            cache.set(blocked, time.time() + wait, int(wait) + 1)
            return j.too_many(request, wait)
        form.add_error(
            "code", _("We could not find answers saved under this code. Check the code and try again.")
        )
    return render(request, "surveys/resume.html", {"journey": journey, "form": form})


def page(request: HttpRequest, wave: str, number: int) -> HttpResponse:
    return j.page(request, _journey(wave), number)


def review(request: HttpRequest, wave: str) -> HttpResponse:
    return j.review(request, _journey(wave))


def done(request: HttpRequest, wave: str) -> HttpResponse:
    return j.done(request, _journey(wave))


def saved(request: HttpRequest, wave: str) -> HttpResponse:
    return j.saved(request, _journey(wave))


@require_http_methods(["POST"])
def restart(request: HttpRequest, wave: str) -> HttpResponse:
    """Forget this browser's draft (a shared computer: the next person starts afresh)."""
    journey = _journey(wave)
    return journey.forget(request, HttpResponseRedirect(journey.url("start")))
