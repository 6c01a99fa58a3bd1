"""Reads of the analytics app: stored rows only, never a recomputation."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model, QuerySet
from django.utils import timezone

from analytics.models import GapRow, IndexRow, Level, LocalityState
from surveys.models import Locality, Wave
from surveys.selectors import (
    activity_names,
    earliest_submission_after,
    official_current_answers,
    response_fingerprints,
    wave_measurement_plan,
)

M = TypeVar("M", bound=Model)


def _wave_rows(
    rows: QuerySet[M], locality_ids: AbstractSet[int] | None, locality_code: str | None, **exact: str | None
) -> QuerySet[M]:
    """Stored rows of a wave narrowed to some localities and to the given, non-empty fields."""
    rows = rows.select_related("wave", "locality")
    if locality_ids is not None:
        rows = rows.filter(locality_id__in=locality_ids)
    if locality_code:
        rows = rows.filter(locality__code=locality_code)
    return rows.filter(**{name: value for name, value in exact.items() if value})


def indices_for_wave(
    wave_id: int,
    *,
    locality_ids: AbstractSet[int] | None = None,
    locality_code: str | None = None,
    audience: str | None = None,
    level: str | None = None,
    key: str | None = None,
) -> QuerySet[IndexRow]:
    rows = IndexRow.objects.filter(wave_id=wave_id)
    rows = _wave_rows(rows, locality_ids, locality_code, audience=audience, level=level, key=key)
    return rows.order_by("locality__code", "audience", "level", "key")


@dataclass(frozen=True)
class Freshness:
    """How far a (wave, locality)'s figures lag its responses."""

    wave_id: int
    locality_id: int
    responses: int
    included: int
    computed_at: datetime | None
    stale: bool
    lag_seconds: float


def freshness(
    wave_id: int | None = None, locality_ids: Iterable[int] | None = None
) -> dict[tuple[int, int], Freshness]:
    """Freshness of every (wave, locality) that has responses or figures
    (only of ``locality_ids`` when given: a page asks about what it shows)."""
    if locality_ids is not None:
        locality_ids = set(locality_ids)
    state_rows = LocalityState.objects.filter(**({"wave_id": wave_id} if wave_id else {}))
    if locality_ids is not None:
        state_rows = state_rows.filter(locality_id__in=locality_ids)
    states = {(s.wave_id, s.locality_id): s for s in state_rows}
    now = timezone.now()
    out: dict[tuple[int, int], Freshness] = {}
    for fp in response_fingerprints(wave_id, locality_ids):
        state = states.pop((fp.wave_id, fp.locality_id), None)
        stale = state is None or state.response_count != fp.count or state.id_sum != fp.id_sum
        lag = 0.0
        if stale:
            # Figures lag since the first response they miss arrived.
            missed = earliest_submission_after(fp.wave_id, fp.locality_id, state.watermark if state else 0)
            lag = (now - (missed or fp.last_submitted_at or now)).total_seconds()
        out[(fp.wave_id, fp.locality_id)] = Freshness(
            fp.wave_id,
            fp.locality_id,
            fp.count,
            state.response_count if state else 0,
            state.computed_at if state else None,
            stale,
            max(lag, 0.0),
        )
    for (w, loc), state in states.items():  # figures whose responses are all gone
        stale = state.response_count != 0
        out[(w, loc)] = Freshness(w, loc, 0, state.response_count, state.computed_at, stale, 0.0)
    return out


@dataclass(frozen=True)
class ComparisonRow:
    activity: str
    name: dict[str, str]
    service_area: str
    own_estimate: float | None
    citizens_n: int
    citizens_share: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class OfficialComparison:
    """An official's own estimates beside what the locality's citizens report."""

    rows: list[ComparisonRow]
    citizens: int
    min_citizens: int
    answered: bool
    computed_at: datetime | None
    pending_responses: int = 0  # responses received that the figures do not include yet
    lag_seconds: float = 0.0

    @property
    def citizens_needed(self) -> int:
        return max(self.min_citizens - self.citizens, 0)


def official_comparison(wave: Wave, locality: Locality, user: AbstractBaseUser) -> OfficialComparison:
    """Per activity: the official's own estimate and the citizens' engaged share
    with its interval; citizens' figures backed by fewer than the wave's
    citizen threshold are withheld (None). Before the official has answered
    for this wave and locality, no citizens' figure or count at all (their
    estimates must not lean on what citizens reported). Reads stored rows only."""
    answers = official_current_answers(user, wave, locality)
    if answers is None:  # no response; an answer with every item left out still counts
        return OfficialComparison(
            rows=[],
            citizens=0,
            min_citizens=wave.min_citizens,
            answered=False,
            computed_at=None,
        )
    plan = wave_measurement_plan(wave.pk)
    names = activity_names(wave.study_id)
    stored = {
        r.key: r
        for r in IndexRow.objects.filter(
            wave=wave, locality=locality, audience="citizen", level=Level.ACTIVITY
        )
    }
    overall = IndexRow.objects.filter(
        wave=wave, locality=locality, audience="citizen", level=Level.OVERALL
    ).first()
    rows = []
    for activity in plan:
        row = stored.get(activity.code)
        shown = row is not None and row.n >= wave.min_citizens
        value = answers.get(activity.official_item)
        rows.append(
            ComparisonRow(
                activity=activity.code,
                name=names.get(activity.code, {}),
                service_area=activity.service_area,
                own_estimate=value / 100 if isinstance(value, int | float) else None,
                citizens_n=row.n if row else 0,
                citizens_share=row.estimate if shown and row else None,
                ci_low=row.ci_low if shown and row else None,
                ci_high=row.ci_high if shown and row else None,
            )
        )
    fresh = freshness(wave.pk, [locality.pk]).get((wave.pk, locality.pk))
    return OfficialComparison(
        rows=rows,
        citizens=overall.n if overall else 0,
        min_citizens=wave.min_citizens,
        answered=True,
        computed_at=overall.computed_at if overall else None,
        pending_responses=max(fresh.responses - fresh.included, 0) if fresh and fresh.stale else 0,
        lag_seconds=fresh.lag_seconds if fresh and fresh.stale else 0.0,
    )


def gaps_for_wave(
    wave_id: int,
    *,
    locality_ids: AbstractSet[int] | None = None,
    locality_code: str | None = None,
    level: str | None = None,
    key: str | None = None,
    weighted: bool = False,
) -> QuerySet[GapRow]:
    """The wave's gap rows: the unweighted ones, or with ``weighted`` the
    weighted variant (only localities with population figures have it)."""
    rows = _wave_rows(
        GapRow.objects.filter(wave_id=wave_id, weighted=weighted),
        locality_ids,
        locality_code,
        level=level,
        key=key,
    )
    return rows.order_by("locality__code", "level", "key")
