"""Reads of the analytics app: stored rows only, never a recomputation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet
from django.utils import timezone

from analytics.models import IndexRow, LocalityState
from surveys.selectors import earliest_submission_after, response_fingerprints


def indices_for_wave(
    wave_id: int,
    *,
    locality_ids: set[int] | None = None,
    locality_code: str | None = None,
    audience: str | None = None,
    level: str | None = None,
    key: str | None = None,
) -> QuerySet[IndexRow]:
    rows = IndexRow.objects.filter(wave_id=wave_id).select_related("wave", "locality")
    if locality_ids is not None:
        rows = rows.filter(locality_id__in=locality_ids)
    if locality_code:
        rows = rows.filter(locality__code=locality_code)
    if audience:
        rows = rows.filter(audience=audience)
    if level:
        rows = rows.filter(level=level)
    if key:
        rows = rows.filter(key=key)
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


def freshness(wave_id: int | None = None) -> dict[tuple[int, int], Freshness]:
    """Freshness of every (wave, locality) that has responses or figures."""
    states = {
        (s.wave_id, s.locality_id): s
        for s in LocalityState.objects.filter(**({"wave_id": wave_id} if wave_id else {}))
    }
    now = timezone.now()
    out: dict[tuple[int, int], Freshness] = {}
    for fp in response_fingerprints(wave_id):
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
