"""The questionnaire journey, page by page, for citizens and officials alike.

One section per page, back and next, relevance rules, errors beside each
question and in a summary, a review page, submit, a receipt. Answers are
saved server-side on every page (a Draft), so leaving, reloading or coming
back later with a resume code never loses them. Works without JavaScript.
"""

from __future__ import annotations

import functools
import math
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import get_script_prefix, reverse
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from surveys.db import fetch_one, one_or_none
from surveys.definition.answers import (
    answers_validate,
    clean_answers,
    is_unanswered,
    storable,
    visible_items,
)
from surveys.definition.relevance import rule_holds
from surveys.errors import InvalidResponse, InvitationUsed, SurveysError, WaveNotOpen
from surveys.forms import (
    Question,
    answers_from_post,
    as_shown,
    current_language,
    questions_for,
    translate,
)
from surveys.models import Audience, Draft, Response, Wave
from surveys.ratelimit import over_limit
from surveys.selectors import version_definition, wave_get
from surveys.services.drafts import draft_resume_code_issue, draft_save_page, draft_submit
from surveys.services.responses import wave_accepts_responses

# The resume code travels from "save" to the page that shows it once in a
# short-lived signed cookie scoped to that page (not in a server-side session).
SAVED_CODE_COOKIE = "coprod_resume_code"
SAVED_CODE_SECONDS = 600


def citizen_session_key(wave_code: str) -> str:
    return f"coprod:draft:citizen:{wave_code}"


@dataclass(frozen=True)
class Journey:
    """Where a respondent's draft is remembered and which URLs serve it.

    A citizen's browser holds a signed cookie naming their draft, so the
    citizens' pages need no server-side session at all (no session read on
    every page, no session row written when they begin). The signature
    (SECRET_KEY, salted per wave) means the cookie cannot be altered to point
    at another draft. Officials are signed in, and their drafts follow their
    session."""

    wave: Wave
    audience: str
    locality_code: str = ""  # officials answer per locality; citizens choose theirs in the draft
    user: Any = None  # the signed-in official, whose drafts follow them from device to device

    @property
    def session_key(self) -> str:
        if self.audience == Audience.OFFICIAL:
            return f"coprod:draft:official:{self.wave.code}:{self.locality_code}"
        return citizen_session_key(self.wave.code)

    @property
    def cookie_name(self) -> str:
        # __Host-: only this exact host, over HTTPS, may set it (not a sibling subdomain).
        prefix = "__Host-" if settings.SESSION_COOKIE_SECURE else ""
        return f"{prefix}coprod_draft_{self.wave.code}"

    @property
    def _cookie_salt(self) -> str:
        return f"coprod.draft:{self.wave.code}"

    @property
    def start_url(self) -> str:
        if self.audience == Audience.OFFICIAL:
            return _reversed("surveys:official_home")
        return _reversed("surveys:start", wave=self.wave.code)

    def url(self, name: str, **kwargs: Any) -> str:
        if name == "start":
            return self.start_url
        if self.audience == Audience.OFFICIAL:
            return _reversed(
                f"surveys:official_{name}", wave=self.wave.code, locality=self.locality_code, **kwargs
            )
        return _reversed(f"surveys:{name}", wave=self.wave.code, **kwargs)

    def draft_key(self, request: HttpRequest) -> dict[str, Any] | None:
        """What names this browser's draft: ``{"submission_id": ...}`` or
        ``{"id": ...}``; None when it has none. Checked against the wave and
        audience wherever it is used."""
        if self.audience == Audience.CITIZEN:
            signed = request.get_signed_cookie(
                self.cookie_name, default=None, salt=self._cookie_salt, max_age=_draft_cookie_age()
            )
            if signed:
                try:
                    return {"submission_id": uuid.UUID(signed)}
                except ValueError:
                    return None
        if request.session.get(self.session_key) is not None:
            # Officials; and citizens who began before drafts moved to the cookie
            # (until DRAFT_RETENTION_DAYS after that release: remove then).
            return {"id": request.session[self.session_key]}
        if self.audience == Audience.OFFICIAL and self.user is not None:
            found = one_or_none(
                Draft.objects.filter(
                    wave=self.wave,
                    audience=self.audience,
                    respondent=self.user,
                    locality__code=self.locality_code,
                    response__isnull=True,
                ).only("pk")
            )
            return {"id": found.pk} if found is not None else None
        return None

    def draft(self, request: HttpRequest) -> Draft | None:
        """This browser's draft of the wave, sent or not.

        Read on every page of every journey, so by a fixed SQL statement: the
        ORM's compiling of the equivalent filter took longer than the query,
        and a raw queryset's mapping of columns to fields about as long again."""
        key = self.draft_key(request)
        found = fetch_one(Draft, **key, wave_id=self.wave.pk, audience=self.audience) if key else None
        if found is not None:
            found.wave = self.wave
        return found

    def storage_key(self, draft: Draft) -> str:
        """What names the draft where the browser keeps what was typed on a
        page but not yet sent (coprod.js, sessionStorage): per draft, so a
        respondent who starts afresh never sees the last one's, and opaque,
        since the page's script has no need of the submission_id."""
        return salted_hmac("coprod.draft-storage", str(draft.submission_id)).hexdigest()[:24]

    def remember(self, request: HttpRequest, response: HttpResponse, draft: Draft) -> HttpResponse:
        """Make ``draft`` this browser's answers in progress from ``response`` on."""
        if self.audience == Audience.OFFICIAL:
            request.session[self.session_key] = draft.pk
        else:
            _set_private_cookie(
                response,
                self.cookie_name,
                str(draft.submission_id),
                salt=self._cookie_salt,
                max_age=_draft_cookie_age(),
            )
        return response

    def forget(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        """This browser no longer continues its draft (a shared computer)."""
        if request.session.get(self.session_key) is not None:
            request.session.pop(self.session_key)
        if self.audience == Audience.CITIZEN:
            response.delete_cookie(self.cookie_name, samesite="Lax")
        return response


def _reversed(name: str, **kwargs: Any) -> str:
    """reverse(), remembered: a journey's few URLs are asked for on every page."""
    return _reverse_under(get_script_prefix(), name, tuple(sorted(kwargs.items())))


@functools.lru_cache(maxsize=4096)
def _reverse_under(script_prefix: str, name: str, kwargs: tuple[tuple[str, Any], ...]) -> str:
    return reverse(name, kwargs=dict(kwargs))


def _draft_cookie_age() -> int:
    return settings.DRAFT_RETENTION_DAYS * 24 * 3600


def _set_private_cookie(
    response: HttpResponse, name: str, value: str, *, salt: str, max_age: int, path: str = "/"
) -> None:
    """A signed cookie only this site's pages read: HTTP-only, SameSite=Lax, secure in production."""
    response.set_signed_cookie(
        name,
        value,
        salt=salt,
        max_age=max_age,
        path=path,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def definition_of(draft: Draft) -> dict[str, Any]:
    return version_definition(draft.wave.version_id_for(draft.audience))


def visible_pages(definition: dict[str, Any], answers: dict[str, Any]) -> list[int]:
    """1-based numbers of the sections shown, given the answers so far."""
    return [
        number
        for number, section in enumerate(definition["sections"], start=1)
        if rule_holds(section.get("relevant"), answers)
    ]


def unavailable(request: HttpRequest, reason: str, status: int = 409) -> HttpResponse:
    """A clear page, in the respondent's language, saying why they cannot answer."""
    messages = {
        "not_open": _("This survey is not open at the moment. Please come back when it opens."),
        "closed": _("This survey has closed. Thank you for your interest."),
        "invitation_used": _("This invitation has already been used to answer the survey."),
        "invitation_invalid": _(
            "This invitation link is not valid. Please check that you copied it completely."
        ),
        "forbidden": _("You cannot answer this questionnaire with this account."),
    }
    titles = {
        "not_open": _("Survey not open"),
        "closed": _("Survey closed"),
        "invitation_used": _("Invitation already used"),
        "invitation_invalid": _("Invitation not valid"),
        "forbidden": _("Not available"),
    }
    return render(
        request,
        "surveys/unavailable.html",
        {"title": titles[reason], "message": messages[reason]},
        status=status,
    )


def too_many(request: HttpRequest, wait_seconds: float) -> HttpResponse:
    """429, in the respondent's language, with how long to wait."""
    minutes = max(math.ceil(wait_seconds / 60), 1)
    response = render(request, "surveys/too_many.html", {"minutes": minutes}, status=429)
    response["Retry-After"] = str(math.ceil(wait_seconds))
    return response


def wave_unavailable(request: HttpRequest, wave: Wave | None) -> HttpResponse:
    """409: the wave has closed, or is not open yet (also when it is not known which)."""
    return unavailable(request, "closed" if wave is not None and wave.has_closed else "not_open")


def _no_draft(journey: Journey) -> HttpResponse:
    return HttpResponseRedirect(journey.url("start"))


def _elsewhere(journey: Journey, draft: Draft | None) -> HttpResponse:
    """No answers in progress: to the start, or to the receipt once sent."""
    return HttpResponseRedirect(journey.url("done") if draft is not None else journey.url("start"))


@never_cache  # answers in progress: never kept by a shared cache, never shown from one
@require_http_methods(["GET", "POST"])
def page(request: HttpRequest, journey: Journey, number: int) -> HttpResponse:
    definition = version_definition(journey.wave.version_id_for(journey.audience))
    if not 1 <= number <= len(definition["sections"]):
        raise Http404("No such page.")
    if not wave_accepts_responses(journey.wave):
        # Said at once, not after the respondent answered every page; the
        # draft keeps what it holds (a page posted now is not saved).
        return wave_unavailable(request, journey.wave)
    if request.method == "POST":
        return _page_post(request, journey, definition, number)
    draft = journey.draft(request)
    if draft is None or draft.submitted:
        return _elsewhere(journey, draft)
    answers: dict[str, Any] = dict(draft.answers)
    pages = visible_pages(definition, answers)
    if number not in pages:
        return HttpResponseRedirect(_next_url(journey, pages, number))
    # The answers on this page already given and wrong are shown with their
    # errors (the review page's links lead here); a question not answered
    # yet is no error until the page is sent.
    shown = {item["code"] for item in visible_items(definition, answers)}
    answered = [
        item["code"]
        for item in definition["sections"][number - 1]["items"]
        if item["code"] in shown and not is_unanswered(answers.get(item["code"]))
    ]
    errors = answers_validate(definition, answers, only=answered) if answered else {}
    return _render_page(request, journey, draft, definition, number, answers, errors)


def _page_post(
    request: HttpRequest, journey: Journey, definition: dict[str, Any], number: int
) -> HttpResponse:
    section = definition["sections"][number - 1]
    posted = answers_from_post(section, request.POST, definition["choice_lists"])
    key = journey.draft_key(request)
    # Saved before anything else is read: one statement for most pages.
    language = _language(definition)
    draft = (
        draft_save_page(
            wave=journey.wave, audience=journey.audience, answers=posted, language=language, **key
        )
        if key
        else None
    )
    if draft is None:  # none, or sent already
        return _elsewhere(journey, journey.draft(request) if key else None)
    candidate: dict[str, Any] = dict(draft.answers)
    # Items this page's own answers made irrelevant are dropped, not refused:
    # without JavaScript the respondent saw them and may have filled them in.
    shown = {item["code"] for item in visible_items(definition, candidate)}
    page_codes = [item["code"] for item in section["items"]]
    hidden = {code: None for code in page_codes if code not in shown and code in candidate}
    if hidden:
        cleared = draft_save_page(
            wave=journey.wave, audience=journey.audience, answers=hidden, language=language, id=draft.pk
        )
        if cleared is None:  # sent from another tab in between
            return _elsewhere(journey, journey.draft(request))
        draft, candidate = cleared, dict(cleared.answers)
    pages = visible_pages(definition, candidate)
    action = request.POST.get("action", "next")
    refused = {code: value for code, value in posted.items() if not storable(value)}
    if refused:
        # Not saved (a NUL character): shown back beside its question with
        # the validator's error, whichever button was pressed.
        typed = {**candidate, **refused}
        errors = answers_validate(definition, typed, only=[c for c in page_codes if c in shown])
        shown_back = {**candidate, **{code: as_shown(value) for code, value in refused.items()}}
        return _render_page(request, journey, draft, definition, number, shown_back, errors)

    if action == "back":
        earlier = [p for p in pages if p < number]
        return HttpResponseRedirect(
            journey.url("page", number=earlier[-1]) if earlier else journey.url("start")
        )
    if action == "save" and journey.audience == Audience.OFFICIAL:
        return HttpResponseRedirect(journey.start_url)  # officials find their draft when they sign in
    if action == "save":
        saved_url = journey.url("saved")
        response = HttpResponseRedirect(saved_url)
        code = draft_resume_code_issue(draft=draft)
        _set_private_cookie(
            response,
            SAVED_CODE_COOKIE,
            code,
            salt=SAVED_CODE_COOKIE,
            max_age=SAVED_CODE_SECONDS,
            path=saved_url,
        )
        return response
    errors = answers_validate(definition, candidate, only=[c for c in page_codes if c in shown])
    if errors:
        return _render_page(request, journey, draft, definition, number, candidate, errors)
    return HttpResponseRedirect(_next_url(journey, pages, number))


def _next_url(journey: Journey, pages: list[int], number: int) -> str:
    later = [p for p in pages if p > number]
    return journey.url("page", number=later[0]) if later else journey.url("review")


def _language(definition: dict[str, Any]) -> str:
    language = current_language()
    return language if language in definition["languages"] else definition["languages"][0]


def _render_page(
    request: HttpRequest,
    journey: Journey,
    draft: Draft,
    definition: dict[str, Any],
    number: int,
    answers: dict[str, Any],
    errors: dict[str, list[str]],
) -> HttpResponse:
    section = definition["sections"][number - 1]
    pages = visible_pages(definition, answers)
    on_page = {item["code"] for item in section["items"]}
    shown = {item["code"] for item in visible_items(definition, answers)}
    questions = [
        q
        for q in questions_for(section, definition, answers, errors, on_page)
        # Shown: relevant now, or relevance the browser re-evaluates as the page is answered.
        if q.code in shown or q.relevant_json
    ]
    position = pages.index(number) + 1 if number in pages else 1
    context = {
        "journey": journey,
        "draft": draft,
        "title": translate(definition["title"], definition["languages"]),
        "introduction": translate(definition.get("introduction"), definition["languages"])
        if position == 1
        else "",
        "section_title": translate(section["title"], definition["languages"]),
        "section_description": translate(section.get("description"), definition["languages"]),
        "questions": questions,
        "error_questions": [q for q in questions if q.errors],
        "position": position,
        "total": len(pages),
        "number": number,
        "action_url": journey.url("page", number=number),
        "storage_key": journey.storage_key(draft),
        # The answers just sent, shown back with their errors: the browser's
        # copy of what was typed must not replace them (coprod.js).
        "posted": request.method == "POST",
    }
    return render(request, "surveys/page.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def review(request: HttpRequest, journey: Journey) -> HttpResponse:
    if not wave_accepts_responses(journey.wave):
        return wave_unavailable(request, journey.wave)
    draft = journey.draft(request)
    if draft is None or draft.submitted:
        return _elsewhere(journey, draft)
    definition = definition_of(draft)
    if request.method == "POST" and journey.audience == Audience.CITIZEN:
        wait = over_limit(request, "submit_anon")
        if wait:
            return too_many(request, wait)
    if request.method == "POST":
        try:
            draft_submit(draft=draft, user=request.user if request.user.is_authenticated else None)  # type: ignore[arg-type]
        except InvalidResponse as exc:
            return _render_review(request, journey, draft, definition, exc.errors)
        except WaveNotOpen:
            # Refused by the wave as stored now, which this process's copy may not show yet.
            return wave_unavailable(request, wave_get(journey.wave.code) or journey.wave)
        except InvitationUsed:
            return unavailable(request, "invitation_used")
        except SurveysError:
            return unavailable(request, "forbidden", status=403)
        return HttpResponseRedirect(journey.url("done"))
    errors = answers_validate(definition, clean_answers(definition, draft.answers))
    return _render_review(request, journey, draft, definition, errors)


@dataclass(frozen=True)
class ReviewGroup:
    title: str
    url: str
    questions: list[Question]


def _render_review(
    request: HttpRequest,
    journey: Journey,
    draft: Draft,
    definition: dict[str, Any],
    errors: dict[str, list[str]],
) -> HttpResponse:
    answers = clean_answers(definition, draft.answers)
    pages = visible_pages(definition, answers)
    shown = {item["code"] for item in visible_items(definition, answers)}
    groups = [
        ReviewGroup(
            title=translate(definition["sections"][number - 1]["title"], definition["languages"]),
            url=journey.url("page", number=number),
            questions=[
                q
                for q in questions_for(definition["sections"][number - 1], definition, answers, errors)
                if q.code in shown
            ],
        )
        for number in pages
    ]
    error_questions = [q for g in groups for q in g.questions if q.errors]
    page_of = {q.code: g.url for g in groups for q in g.questions}
    return render(
        request,
        "surveys/review.html",
        {
            "journey": journey,
            "title": translate(definition["title"], definition["languages"]),
            "groups": groups,
            "error_questions": error_questions,
            "page_of": page_of,
            "back_url": journey.url("page", number=pages[-1]) if pages else journey.url("start"),
            "action_url": journey.url("review"),
        },
        status=200,
    )


@never_cache
def done(request: HttpRequest, journey: Journey) -> HttpResponse:
    draft = journey.draft(request)
    receipt = None
    if draft is not None and draft.response_id is not None:  # submitted
        # Only the receipt: the response row also holds every answer.
        receipt = next(
            iter(Response.objects.filter(pk=draft.response_id).values_list("receipt", flat=True)), None
        )
    if receipt is None:
        return _no_draft(journey)
    return render(
        request,
        "surveys/done.html",
        {
            "journey": journey,
            "receipt": receipt,
            "official": journey.audience == Audience.OFFICIAL,
        },
    )


@never_cache
def saved(request: HttpRequest, journey: Journey) -> HttpResponse:
    draft = journey.draft(request)
    if draft is None:
        return _no_draft(journey)
    code = request.get_signed_cookie(
        SAVED_CODE_COOKIE, default=None, salt=SAVED_CODE_COOKIE, max_age=SAVED_CODE_SECONDS
    )
    pages = visible_pages(definition_of(draft), draft.answers)
    response = render(
        request,
        "surveys/saved.html",
        {
            "journey": journey,
            "code": code,
            "continue_url": journey.url("page", number=pages[0]) if pages else journey.url("review"),
            "resume_url": reverse("surveys:resume", kwargs={"wave": journey.wave.code}),
        },
    )
    response.delete_cookie(SAVED_CODE_COOKIE, path=journey.url("saved"), samesite="Lax")  # shown once
    return response


def first_open_page(draft: Draft) -> int | None:
    """The first page with a required question still unanswered, if any."""
    definition = definition_of(draft)
    shown = {item["code"] for item in visible_items(definition, draft.answers)}
    for number in visible_pages(definition, draft.answers):
        for item in definition["sections"][number - 1]["items"]:
            if item["code"] in shown and item.get("required") and item["code"] not in draft.answers:
                return number
    return None
