"""Reads of the surveys app. Other apps (analytics) read survey data only through here."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Max, Min, Prefetch, QuerySet, Sum

from surveys.db import one_or_none
from surveys.definition.validate import CONSTRAINT_KEYS
from surveys.models import (
    Activity,
    Audience,
    Locality,
    OfficialProfile,
    QuestionnaireVersion,
    Response,
    ServiceArea,
    Study,
    Wave,
    WaveLocality,
    WaveStatus,
)
from surveys.roles import ANALYSTS, API_CLIENTS, SURVEY_MANAGERS


def waves_open() -> QuerySet[Wave]:
    """Waves accepting responses now (``Wave.objects.accepting_responses``),
    newest first, with their study and number of localities.

    (No response counts: counting a wave's responses on a public page would
    scan them on every visit.)"""
    return (
        Wave.objects.accepting_responses()
        .select_related("study")
        .annotate(locality_count=Count("wave_localities"))
        .order_by("-opens_at", "code")
    )


def wave_get(code: str) -> Wave | None:
    return one_or_none(Wave.objects.filter(code=code).select_related("study"))


# code -> (monotonic expiry, wave): waves as this process read them recently.
_recent_waves: dict[str, tuple[float, Any]] = {}
# wave code -> (monotonic expiry, the wave's localities by code).
_recent_localities: dict[str, tuple[float, Any]] = {}


def _recent(store: dict[str, tuple[float, Any]], key: str, load: Callable[[], Any]) -> Any:
    """``load()`` as this process computed it at most WAVE_CACHE_SECONDS ago
    (None is never kept)."""
    now = time.monotonic()
    hit = store.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    if value is not None and settings.WAVE_CACHE_SECONDS > 0:
        store[key] = (now + settings.WAVE_CACHE_SECONDS, value)
    return value


def wave_get_recent(code: str) -> Wave | None:
    """The wave with this code as this process read it at most
    ``WAVE_CACHE_SECONDS`` ago: for the busiest pages and the submission fast
    path, which must not cost a query each. Only for decisions the database
    re-checks when it matters: the submission insert itself refuses a wave that
    is not open (``services.responses``), whatever this copy says. Saving or
    deleting a wave drops this process's copy at once; other processes'
    copies age out."""
    return cast("Wave | None", _recent(_recent_waves, code, lambda: wave_get(code)))


def recent_waves_forget(code: str | None = None) -> None:
    if code is None:
        _recent_waves.clear()
        _recent_localities.clear()
    else:
        _recent_waves.pop(code, None)
        _recent_localities.pop(code, None)


def wave_localities(wave: Wave) -> QuerySet[Locality]:
    return Locality.objects.filter(wave_localities__wave=wave).order_by("code")


def wave_localities_recent(wave: Wave) -> dict[str, Locality]:
    """The wave's localities by code, ordered by code, as this process read
    them at most ``WAVE_CACHE_SECONDS`` ago; same rules as ``wave_get_recent``
    (the submission re-checks the locality in the database). Changing a
    wave's localities drops this process's copy at once."""
    return cast(
        "dict[str, Locality]",
        _recent(_recent_localities, wave.code, lambda: {loc.code: loc for loc in wave_localities(wave)}),
    )


def study_get(code: str) -> Study | None:
    return Study.objects.filter(code=code).first()


def questionnaire_version_latest(study: Study, audience: str) -> QuestionnaireVersion | None:
    return (
        QuestionnaireVersion.objects.filter(questionnaire__study=study, questionnaire__audience=audience)
        .order_by("-number")
        .first()
    )


@lru_cache(maxsize=128)
def version_definition(version_id: int) -> dict[str, Any]:
    """A questionnaire version's definition, cached in the process.

    Safe because a version used by a wave never changes (a database trigger
    refuses it; see migration 0002), and only versions a wave uses are asked
    for. Callers must not mutate the returned document.
    """
    return QuestionnaireVersion.objects.values_list("definition", flat=True).get(pk=version_id)


def user_in_roles(user: AbstractBaseUser | AnonymousUser, *groups: str) -> bool:
    """Signed in, and a superuser or a member of one of these role groups."""
    if not user.is_authenticated:
        return False
    return bool(
        getattr(user, "is_superuser", False) or user.groups.filter(name__in=groups).exists()  # type: ignore[union-attr,attr-defined]
    )


def user_is_survey_manager(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user_in_roles(user, SURVEY_MANAGERS)


def user_may_enter_citizen_responses(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Survey managers and API clients may submit citizen responses on a
    respondent's behalf (telephone interviews, paper questionnaires)."""
    return user_in_roles(user, SURVEY_MANAGERS, API_CLIENTS)


def waves_for_api(user: AbstractBaseUser | AnonymousUser, status: str | None = None) -> QuerySet[Wave]:
    """Waves a caller may see: those accepting responses now for everybody;
    any status and time for survey managers (optionally filtered by status).
    Localities are prefetched."""
    waves = Wave.objects.select_related("study").prefetch_related(
        Prefetch(
            "wave_localities",
            queryset=WaveLocality.objects.select_related("locality").order_by("locality__code"),
        )
    )
    if user_is_survey_manager(user):
        return waves.filter(status=status) if status else waves
    return waves.accepting_responses()


def questionnaire_document(wave: Wave, audience: str) -> dict[str, Any]:
    """The questionnaire a wave asks an audience, as clients consume it: choices
    inlined with their scores, engaged flags and labels; constraints flattened;
    each measured activity with its service area and kind."""
    version = wave.version_for(audience)
    definition = version.definition
    activities = {
        a.code: a for a in Activity.objects.filter(study_id=wave.study_id).select_related("service_area")
    }
    constraint_keys = sorted(set().union(*CONSTRAINT_KEYS.values()) - {"message"})
    sections = []
    for section in definition["sections"]:
        items = []
        for item in section["items"]:
            out: dict[str, Any] = {
                "code": item["code"],
                "type": item["type"],
                "required": item["required"],
                "text": item["text"],
                "hint": item.get("hint"),
                "choices": definition["choice_lists"][item["choices"]] if "choices" in item else None,
                "relevant": item.get("relevant"),
                "activity": None,
            }
            constraint = item.get("constraint", {})
            out.update({key: constraint.get(key) for key in constraint_keys})
            activity = activities.get(item.get("activity", ""))
            if activity is not None:
                out["activity"] = {
                    "code": activity.code,
                    "service_area": activity.service_area.code,
                    "kind": activity.kind,
                    "phase": activity.phase,
                }
            items.append(out)
        sections.append(
            {
                "code": section["code"],
                "title": section["title"],
                "description": section.get("description"),
                "relevant": section.get("relevant"),
                "items": items,
            }
        )
    return {
        "wave": wave.code,
        "audience": audience,
        "questionnaire": version.questionnaire.code,
        "version": version.number,
        "checksum": version.checksum,
        "languages": definition["languages"],
        "title": definition["title"],
        "introduction": definition.get("introduction") or None,
        "sections": sections,
    }


@dataclass(frozen=True)
class OfficialAssignment:
    """An open wave and one of the official's localities in it, with their current answer."""

    wave: Wave
    locality: Locality
    answered_at: datetime | None
    receipt: str | None


def official_assignments(user: AbstractBaseUser | AnonymousUser) -> list[OfficialAssignment]:
    """Every (wave accepting responses now, locality) the official answers
    for, with their current response."""
    if not user.is_authenticated:
        return []
    localities = list(Locality.objects.filter(officials__user_id=user.pk).order_by("code"))
    if not localities:
        return []
    pairs = (
        WaveLocality.objects.filter(wave__in=Wave.objects.accepting_responses(), locality__in=localities)
        .select_related("wave", "locality")
        .order_by("wave__code", "locality__code")
    )
    current = {
        (r.wave_id, r.locality_id): r
        for r in Response.objects.filter(respondent=user, is_current=True, audience=Audience.OFFICIAL)  # type: ignore[misc]
    }
    out = []
    for pair in pairs:
        response = current.get((pair.wave_id, pair.locality_id))
        out.append(
            OfficialAssignment(
                wave=pair.wave,
                locality=pair.locality,
                answered_at=response.submitted_at if response else None,
                receipt=response.receipt if response else None,
            )
        )
    return out


def official_current_answers(user: AbstractBaseUser, wave: Wave, locality: Locality) -> dict[str, Any] | None:
    response = Response.objects.filter(
        respondent=user,
        wave=wave,
        locality=locality,
        is_current=True,  # type: ignore[misc]
    ).first()
    return dict(response.answers) if response else None


def user_is_official(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and OfficialProfile.objects.filter(user=user).exists()  # type: ignore[misc]


# --- for analytics ---------------------------------------------------------------------


@dataclass(frozen=True)
class MeasuredActivity:
    """How one activity is measured in a wave: the paired citizen and official items."""

    code: str
    service_area: str
    kind: str
    citizen_item: str
    engaged: frozenset[str]
    scores: dict[str, float]
    official_item: str


def wave_measurement_plan(wave_id: int) -> list[MeasuredActivity]:
    """The activities a wave measures, in questionnaire order, with their paired items."""
    wave = Wave.objects.only("study_id", "citizen_version_id", "official_version_id").get(pk=wave_id)
    citizen = version_definition(wave.citizen_version_id)
    official = version_definition(wave.official_version_id)
    official_items = {
        item["activity"]: item["code"]
        for section in official["sections"]
        for item in section["items"]
        if item.get("activity")
    }
    activities = {
        a.code: a for a in Activity.objects.filter(study_id=wave.study_id).select_related("service_area")
    }
    plan = []
    for section in citizen["sections"]:
        for item in section["items"]:
            code = item.get("activity")
            if not code or code not in official_items:
                continue
            choices = citizen["choice_lists"][item["choices"]]
            plan.append(
                MeasuredActivity(
                    code=code,
                    service_area=activities[code].service_area.code,
                    kind=activities[code].kind,
                    citizen_item=item["code"],
                    engaged=frozenset(c["code"] for c in choices if c.get("engaged")),
                    scores={c["code"]: float(c["score"]) for c in choices},
                    official_item=official_items[code],
                )
            )
    return plan


def locality_margins(locality_id: int) -> dict[str, dict[str, int]] | None:
    """The locality's adult population by age band and gender, if it has one."""
    return Locality.objects.filter(pk=locality_id).values_list("population_margins", flat=True).first()


def margins_by_locality() -> dict[int, dict[str, dict[str, int]]]:
    """Every locality's population table, for those that have one."""
    rows = Locality.objects.exclude(population_margins=None).values_list("id", "population_margins")
    return {pk: margins for pk, margins in rows if margins}


def current_responses(wave_id: int, locality_id: int) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """(id, audience, answers) of every response that counts for a wave and locality,
    streamed from one query (one consistent snapshot)."""
    return (
        Response.objects.filter(wave_id=wave_id, locality_id=locality_id, is_current=True)
        .order_by()
        .values_list("id", "audience", "answers")
        .iterator(chunk_size=2000)
    )


@dataclass(frozen=True)
class ResponseFingerprint:
    """What responses count for a (wave, locality), summarised: any change to that
    set changes the fingerprint (count and id sum; a superseded official answer
    is replaced by one with a higher id)."""

    wave_id: int
    locality_id: int
    count: int
    id_sum: int
    max_id: int
    last_submitted_at: datetime | None


def response_fingerprints(
    wave_id: int | None = None, locality_ids: Iterable[int] | None = None
) -> list[ResponseFingerprint]:
    """The fingerprint of every (wave, locality) with responses, from one grouped query."""
    rows = Response.objects.filter(is_current=True)
    if wave_id is not None:
        rows = rows.filter(wave_id=wave_id)
    if locality_ids is not None:
        rows = rows.filter(locality_id__in=list(locality_ids))
    grouped = (
        rows.order_by()
        .values("wave_id", "locality_id")
        .annotate(count=Count("id"), id_sum=Sum("id"), max_id=Max("id"), last=Max("submitted_at"))
    )
    return [
        ResponseFingerprint(g["wave_id"], g["locality_id"], g["count"], g["id_sum"], g["max_id"], g["last"])
        for g in grouped
    ]


def wave_locality_pairs(wave_id: int | None = None, locality_id: int | None = None) -> list[tuple[int, int]]:
    """(wave id, locality id) of every locality in scope of a wave (not archived)."""
    pairs = WaveLocality.objects.exclude(wave__status=WaveStatus.ARCHIVED)
    if wave_id is not None:
        pairs = pairs.filter(wave_id=wave_id)
    if locality_id is not None:
        pairs = pairs.filter(locality_id=locality_id)
    return list(pairs.order_by("wave_id", "locality_id").values_list("wave_id", "locality_id"))


def locality_get_for_official(
    user: AbstractBaseUser | AnonymousUser, code: str, *, wave: Wave | None = None
) -> Locality | None:
    """The locality with this code, if the user is one of its officials (and,
    given a wave, the locality takes part in it)."""
    if not user.is_authenticated:
        return None
    localities = Locality.objects.filter(code=code, officials__user_id=user.pk)
    if wave is not None:
        localities = localities.filter(wave_localities__wave=wave)
    return one_or_none(localities)


def official_answered_locality_ids(user: AbstractBaseUser | AnonymousUser, wave_id: int) -> set[int]:
    """The localities the official has a current response for in this wave."""
    if not user.is_authenticated:
        return set()
    return set(
        Response.objects.filter(
            respondent_id=user.pk, wave_id=wave_id, audience=Audience.OFFICIAL, is_current=True
        ).values_list("locality_id", flat=True)
    )


def user_official_locality_ids(user: AbstractBaseUser | AnonymousUser) -> set[int]:
    if not user.is_authenticated:
        return set()
    return set(Locality.objects.filter(officials__user_id=user.pk or 0).values_list("pk", flat=True))


def user_is_analyst(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Survey managers and analysts read every figure."""
    return user_in_roles(user, SURVEY_MANAGERS, ANALYSTS)


def earliest_submission_after(wave_id: int, locality_id: int, response_id: int) -> datetime | None:
    """When the first response of a (wave, locality) after ``response_id`` arrived."""
    return (
        Response.objects.filter(wave_id=wave_id, locality_id=locality_id, id__gt=response_id)
        .order_by()
        .aggregate(first=Min("submitted_at"))["first"]
    )


def activity_names(study_id: int) -> dict[str, dict[str, str]]:
    """Activity code -> its name per language."""
    return dict(Activity.objects.filter(study_id=study_id).values_list("code", "name"))


def service_area_names(study_id: int) -> dict[str, dict[str, str]]:
    """Service area code -> its name per language."""
    return dict(ServiceArea.objects.filter(study_id=study_id).values_list("code", "name"))


def item_choice_labels(version_id: int, item_code: str) -> dict[str, dict[str, str]]:
    """Choice code -> its label per language, of one choice item of a
    questionnaire version ({} when the version has no such item)."""
    definition = version_definition(version_id)
    for section in definition["sections"]:
        for item in section["items"]:
            if item["code"] == item_code and "choices" in item:
                return {c["code"]: c.get("label") or {} for c in definition["choice_lists"][item["choices"]]}
    return {}


def wave_thresholds(wave_id: int) -> tuple[int, int]:
    """(min_citizens, min_officials): the wave's suppression thresholds."""
    return Wave.objects.values_list("min_citizens", "min_officials").get(pk=wave_id)


def waves_thresholds() -> dict[int, tuple[int, int]]:
    """Every wave's (min_citizens, min_officials)."""
    return {w: (c, o) for w, c, o in Wave.objects.values_list("pk", "min_citizens", "min_officials")}


@dataclass(frozen=True)
class LocalityScope:
    locality_id: int
    code: str
    name: str
    citizen_target: int | None
    official_target: int | None


def wave_scope(wave_id: int) -> list[LocalityScope]:
    """The localities of a wave, with their response targets, by code."""
    return [
        LocalityScope(lid, code, name, ct, ot)
        for lid, code, name, ct, ot in WaveLocality.objects.filter(wave_id=wave_id)
        .order_by("locality__code")
        .values_list("locality_id", "locality__code", "locality__name", "citizen_target", "official_target")
    ]
