"""Computing engagement indices: one (wave, locality) at a time, from scratch.

A recompute reads every response that counts for the pair in one query (one
consistent snapshot), computes every index, and upserts the rows together with
the fingerprint of exactly the responses it read. It is idempotent, serialised
per pair by a PostgreSQL advisory lock (released by the database if the worker
dies), and never lets an older snapshot overwrite a newer one.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from analytics.models import INDEX_DEFINITION, GapRow, IndexRow, Level, LocalityState
from analytics.reasons import FEW_CITIZENS, FEW_OFFICIALS, WEIGHTING_FAILED, Note, note, notes_english
from analytics.statistics import Estimate, bh_qvalues, gap_mover, mean_t, share_wilson
from analytics.weighting import (
    Margins,
    WeightingImpossible,
    citizen_weights,
    margins_digest,
    weighted_mean_t,
    weighted_share,
)
from surveys.selectors import (
    MeasuredActivity,
    current_responses,
    locality_margins,
    margins_by_locality,
    response_fingerprints,
    wave_locality_pairs,
    wave_measurement_plan,
    wave_thresholds,
    waves_thresholds,
)

logger = logging.getLogger(__name__)

OVERALL = "overall"


@dataclass
class RecomputeResult:
    wave_id: int
    locality_id: int
    responses: int
    watermark: int
    rows: int
    changed: bool


@dataclass
class _Rows:
    rows: list[IndexRow] = field(default_factory=list)

    def add(
        self,
        audience: str,
        level: str,
        key: str,
        estimate: Estimate,
        mean_score: float | None = None,
    ) -> None:
        self.rows.append(
            IndexRow(
                audience=audience,
                level=level,
                key=key,
                n=estimate.n,
                estimate=estimate.estimate,
                ci_low=estimate.ci_low,
                ci_high=estimate.ci_high,
                sd=estimate.sd,
                mean_score=mean_score,
            )
        )


def _groups(activity: MeasuredActivity) -> list[tuple[str, str]]:
    return [
        (Level.SERVICE_AREA, activity.service_area),
        (Level.KIND, activity.kind),
        (Level.OVERALL, OVERALL),
    ]


def compute_indices(
    plan: list[MeasuredActivity], responses: Iterable[tuple[int, str, dict]]
) -> tuple[list[IndexRow], int, int, int]:
    """Every index row for one locality, and the (count, id sum, max id) of the
    responses read. Pure: no database access besides consuming ``responses``."""
    count = id_sum = max_id = 0
    engaged_k: dict[str, int] = defaultdict(int)
    answered_n: dict[str, int] = defaultdict(int)
    scores: dict[str, list[float]] = defaultdict(list)
    estimates: dict[str, list[float]] = defaultdict(list)
    citizen_groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    citizen_group_scores: dict[tuple[str, str], list[float]] = defaultdict(list)
    official_groups: dict[tuple[str, str], list[float]] = defaultdict(list)

    # The hot loop of a rebuild (a million responses): everything it needs per
    # activity is looked up once here, not per response.
    measured = [(a.code, a.citizen_item, a.engaged, a.scores, a.official_item, _groups(a)) for a in plan]
    for response_id, audience, answers in responses:
        count += 1
        id_sum += response_id
        max_id = max(max_id, response_id)
        engaged_in: dict[tuple[str, str], list[int]] = defaultdict(list)
        score_in: dict[tuple[str, str], list[float]] = defaultdict(list)
        estimate_in: dict[tuple[str, str], list[float]] = defaultdict(list)
        if audience == "citizen":
            for code, item, engaged_codes, choice_scores, _official, groups in measured:
                choice = answers.get(item)
                score = choice_scores.get(choice)  # type: ignore[arg-type]
                if score is None:
                    continue
                engaged = choice in engaged_codes
                answered_n[code] += 1
                engaged_k[code] += engaged
                scores[code].append(score)
                for group in groups:
                    engaged_in[group].append(engaged)
                    score_in[group].append(score)
        else:
            for code, _item, _engaged, _scores, official_item, groups in measured:
                value = answers.get(official_item)
                if isinstance(value, bool) or not isinstance(value, int | float):
                    continue
                share = value / 100
                estimates[code].append(share)
                for group in groups:
                    estimate_in[group].append(share)
        for group, flags in engaged_in.items():
            citizen_groups[group].append(sum(flags) / len(flags))
            citizen_group_scores[group].append(sum(score_in[group]) / len(score_in[group]))
        for group, shares in estimate_in.items():
            official_groups[group].append(sum(shares) / len(shares))

    out = _Rows()
    group_keys: list[tuple[str, str]] = []
    for activity in plan:
        code = activity.code
        activity_scores = scores[code]
        out.add(
            "citizen",
            Level.ACTIVITY,
            code,
            share_wilson(engaged_k[code], answered_n[code]),
            mean_score=sum(activity_scores) / len(activity_scores) if activity_scores else None,
        )
        out.add("official", Level.ACTIVITY, code, mean_t(estimates[code]))
        for group in _groups(activity):
            if group not in group_keys:
                group_keys.append(group)
    for level, key in group_keys:
        group_scores = citizen_group_scores[(level, key)]
        out.add(
            "citizen",
            level,
            key,
            mean_t(citizen_groups[(level, key)]),
            mean_score=sum(group_scores) / len(group_scores) if group_scores else None,
        )
        out.add("official", level, key, mean_t(official_groups[(level, key)]))
    return out.rows, count, id_sum, max_id


GAP_LEVELS = (Level.ACTIVITY, Level.SERVICE_AREA, Level.OVERALL)


def compute_gaps(
    plan: list[MeasuredActivity], rows: list[IndexRow], min_citizens: int, min_officials: int
) -> list[GapRow]:
    """The perception gaps of one locality from its index rows. Pure.
    q-values are left empty: they need every locality of the wave
    (``wave_qvalues_update``)."""
    indexed = {(r.audience, r.level, r.key): r for r in rows}
    area_of = {a.code: a.service_area for a in plan}
    gaps = []
    for (audience, level, key), citizen in indexed.items():
        if audience != "citizen" or level not in GAP_LEVELS:
            continue
        gaps.append(
            _gap_row(
                level,
                key,
                area_of.get(key, key if level == Level.SERVICE_AREA else ""),
                _estimate(citizen),
                _estimate(indexed[("official", level, key)]),
                min_citizens,
                min_officials,
            )
        )
    return gaps


def compute_weighted_gaps(
    plan: list[MeasuredActivity],
    rows: list[IndexRow],
    citizens: list[tuple[int, dict[str, Any]]],
    margins: Margins,
    *,
    min_citizens: int,
    min_officials: int,
    min_cell: int,
) -> list[GapRow]:
    """The weighted variant of ``compute_gaps``: citizens weighted to the
    locality's population by age band x gender (``analytics.weighting``),
    officials as in the unweighted rows. Every row is labelled weighted, with
    its method and Kish effective n; when the responses cannot be weighted,
    every row is suppressed and says why. Pure."""
    indexed = {(r.audience, r.level, r.key): r for r in rows}
    keys: dict[tuple[str, str], str] = {}
    for activity in plan:
        keys[(Level.ACTIVITY, activity.code)] = activity.service_area
        keys.setdefault((Level.SERVICE_AREA, activity.service_area), activity.service_area)
        keys.setdefault((Level.OVERALL, OVERALL), "")
    refused: WeightingImpossible | None = None
    try:
        weighting = citizen_weights(citizens, margins, min_cell=min_cell)
    except WeightingImpossible as impossible:
        refused = impossible
    except Exception as error:
        logger.exception("weighting failed (margins %r)", margins)
        refused = WeightingImpossible(WEIGHTING_FAILED, error=type(error).__name__)
    if refused is not None:
        # Counts only: those of every citizen who answered, as in the unweighted rows.
        return [
            _weighted_label(
                _gap_row(
                    level, key, area, Estimate(indexed[("citizen", level, key)].n, None, None, None, None),
                    _estimate(indexed[("official", level, key)]), min_citizens, min_officials, refused.note,
                ),
                "",
            )
            for (level, key), area in keys.items()
        ]  # fmt: skip

    # One row per weighted citizen, one column per activity: 1 engaged, 0 not,
    # NaN not answered.
    weights = weighting.weights
    weighted = [(weights[rid], answers) for rid, answers in citizens if rid in weights]
    w = np.array([weight for weight, _answers in weighted], dtype=float)
    columns = [(a.citizen_item, a.engaged, a.scores) for a in plan]
    engaged = np.array(
        [
            [
                (1.0 if choice in engaged_codes else 0.0)
                if (choice := answers.get(item)) in scores
                else np.nan
                for item, engaged_codes, scores in columns
            ]
            for _weight, answers in weighted
        ],
        dtype=float,
    ).reshape(len(weighted), len(plan))
    answered = ~np.isnan(engaged)
    position = {a.code: i for i, a in enumerate(plan)}
    in_group: dict[tuple[str, str], list[int]] = defaultdict(list)
    for activity in plan:
        in_group[(Level.SERVICE_AREA, activity.service_area)].append(position[activity.code])
        in_group[(Level.OVERALL, OVERALL)].append(position[activity.code])

    gaps = []
    for (level, key), area in keys.items():
        if level == Level.ACTIVITY:
            column = position[key]
            took = answered[:, column]
            citizen = weighted_share(engaged[took, column].astype(bool), w[took])
        else:
            cols = in_group[(level, key)]
            counts = answered[:, cols].sum(axis=1)
            took = counts > 0
            shares = np.nansum(engaged[:, cols], axis=1)[took] / counts[took]
            citizen = weighted_mean_t(shares, w[took])
        row = _gap_row(
            level,
            key,
            area,
            citizen,
            _estimate(indexed[("official", level, key)]),
            min_citizens,
            min_officials,
        )
        if not row.suppressed:
            row.citizens_n_effective = citizen.n_effective
        gaps.append(_weighted_label(row, weighting.method))
    return gaps


def _weighted_label(row: GapRow, method: str) -> GapRow:
    row.weighted = True
    row.weighting_method = method
    return row


def _estimate(row: IndexRow) -> Estimate:
    return Estimate(row.n, row.estimate, row.ci_low, row.ci_high, row.sd)


def _gap_row(
    level: str,
    key: str,
    service_area: str,
    c: Estimate,
    o: Estimate,
    min_citizens: int,
    min_officials: int,
    *also: Note,
) -> GapRow:
    """One gap row, suppressed (counts only, with the reasons) when a count is
    under its threshold or another reason (``also``) is given."""
    reasons = list(also)
    if c.n < min_citizens:
        reasons.append(note(FEW_CITIZENS, min=min_citizens))
    if o.n < min_officials:
        reasons.append(note(FEW_OFFICIALS, min=min_officials))
    row = GapRow(
        level=level,
        key=key,
        service_area=service_area,
        citizens_n=c.n,
        officials_n=o.n,
        suppressed=bool(reasons),
        suppression_reason=notes_english(reasons),
        suppression_notes=reasons,
    )
    if not reasons:
        gap = gap_mover(c, o)
        row.citizens_estimate, row.citizens_ci_low, row.citizens_ci_high = c.estimate, c.ci_low, c.ci_high
        row.officials_estimate, row.officials_ci_low, row.officials_ci_high = o.estimate, o.ci_low, o.ci_high
        row.gap, row.gap_ci_low, row.gap_ci_high, row.p_value = gap.gap, gap.ci_low, gap.ci_high, gap.p_value
    return row


@transaction.atomic
def wave_qvalues_update(*, wave_id: int) -> int:
    """Benjamini-Hochberg q-values over the p-values of every unsuppressed gap
    row of the wave, level by level, the weighted rows apart from the
    unweighted ones (rows without a p-value get none).
    Idempotent; returns how many rows carry a q-value."""
    updated = 0
    for level, weighted in itertools.product(GAP_LEVELS, (False, True)):
        rows = list(
            GapRow.objects.select_for_update()
            .filter(wave_id=wave_id, level=level, weighted=weighted)
            .order_by("pk")
            .only("pk", "p_value", "suppressed", "q_value")
        )
        tested = [r for r in rows if r.p_value is not None and not r.suppressed]
        qs = dict(zip([r.pk for r in tested], bh_qvalues([r.p_value for r in tested]), strict=True))  # type: ignore[misc]
        changed = []
        for row in rows:
            q = qs.get(row.pk)
            if row.q_value != q:
                row.q_value = q
                changed.append(row)
        _qvalues_write(changed)
        updated += len(qs)
    return updated


def stale_qvalue_waves(wave_id: int | None = None) -> list[int]:
    """The waves (not archived) with tested gap rows left without their
    q-value and no wave_qvalues task on its way: a recompute clears its
    locality's q-values and leaves them to that task, which can be lost
    (broker down, worker killed). One read without locks, on the rows with
    an empty q-value only; the nightly rebuild checks every q-value."""
    from analytics.pending import qvalues_pending

    waves = {w for w, _locality in wave_locality_pairs(wave_id)}
    empty = (
        GapRow.objects.filter(
            wave_id__in=waves,
            level__in=GAP_LEVELS,
            suppressed=False,
            p_value__isnull=False,
            q_value__isnull=True,
        )
        .values_list("wave_id", flat=True)
        .distinct()
    )
    return sorted(w for w in empty if not qvalues_pending(w))


def _qvalues_write(rows: list[GapRow]) -> None:
    """Store the rows' new q-values. On PostgreSQL one UPDATE from two arrays:
    a rebuild changes every row of the wave, and bulk_update's CASE batches
    took 9 s for 44,000 rows."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        GapRow.objects.bulk_update(rows, ["q_value"], batch_size=2000)
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {GapRow._meta.db_table} AS g SET q_value = v.q "  # noqa: S608 - fixed identifiers
            "FROM unnest(%s::bigint[], %s::double precision[]) AS v(id, q) WHERE g.id = v.id",
            [[r.pk for r in rows], [r.q_value for r in rows]],
        )


def weighting_fingerprint(margins: Margins | None) -> str:
    """What the weighted figures depend on besides the responses: the population
    table and the minimum cell size ('' when the locality has no table)."""
    return f"{margins_digest(margins)}/{settings.ANALYTICS_WEIGHTING_MIN_CELL}" if margins else ""


def _lock(wave_id: int, locality_id: int) -> None:
    """Serialise recomputes of one (wave, locality) until the transaction ends.
    PostgreSQL releases the lock if the worker's connection dies; SQLite
    serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [wave_id, locality_id])


def _stamp(
    rows: Iterable[IndexRow | GapRow], wave_id: int, locality_id: int, watermark: int, now: datetime
) -> None:
    """What every stored figure records: where, from which responses, when, how."""
    for row in rows:
        row.wave_id = wave_id
        row.locality_id = locality_id
        row.watermark = watermark
        row.computed_at = now
        row.definition = INDEX_DEFINITION


@transaction.atomic
def locality_recompute(*, wave_id: int, locality_id: int) -> RecomputeResult:
    """Recompute every index of one (wave, locality) from scratch and store it.

    Idempotent: the same responses give the same rows, and nothing is written
    when the stored figures already describe exactly these responses.
    """
    started = time.monotonic()
    _lock(wave_id, locality_id)
    plan = wave_measurement_plan(wave_id)
    margins = locality_margins(locality_id)
    responses: Iterable[tuple[int, str, dict[str, Any]]] = current_responses(wave_id, locality_id)
    if margins:
        responses = list(responses)
    rows, count, id_sum, max_id = compute_indices(plan, responses)
    min_citizens, min_officials = wave_thresholds(wave_id)
    thresholds = f"{min_citizens}/{min_officials}"
    weighting = weighting_fingerprint(margins)
    state = LocalityState.objects.filter(wave_id=wave_id, locality_id=locality_id).first()
    unchanged = (
        state is not None
        and state.response_count == count
        and state.id_sum == id_sum
        and state.definition == INDEX_DEFINITION
        and state.thresholds == thresholds
        and state.weighting == weighting
    )
    if unchanged:
        return RecomputeResult(wave_id, locality_id, count, max_id, len(rows), changed=False)

    now = timezone.now()
    _stamp(rows, wave_id, locality_id, max_id, now)
    IndexRow.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["wave", "locality", "audience", "level", "key"],
        update_fields=[
            "n",
            "estimate",
            "ci_low",
            "ci_high",
            "mean_score",
            "sd",
            "definition",
            "watermark",
            "computed_at",
        ],
    )
    gaps = compute_gaps(plan, rows, min_citizens, min_officials)
    if margins:
        citizens = [(rid, answers) for rid, audience, answers in responses if audience == "citizen"]
        gaps += compute_weighted_gaps(
            plan,
            rows,
            citizens,
            margins,
            min_citizens=min_citizens,
            min_officials=min_officials,
            min_cell=settings.ANALYTICS_WEIGHTING_MIN_CELL,
        )
    else:
        GapRow.objects.filter(wave_id=wave_id, locality_id=locality_id, weighted=True).delete()
    _stamp(gaps, wave_id, locality_id, max_id, now)
    GapRow.objects.bulk_create(
        gaps,
        update_conflicts=True,
        unique_fields=["wave", "locality", "level", "key", "weighted"],
        update_fields=[
            f.name
            for f in GapRow._meta.concrete_fields
            if f.name not in {"id", "wave", "locality", "level", "key", "weighted"}
        ],
    )
    LocalityState.objects.update_or_create(
        wave_id=wave_id,
        locality_id=locality_id,
        defaults={
            "response_count": count,
            "id_sum": id_sum,
            "watermark": max_id,
            "definition": INDEX_DEFINITION,
            "thresholds": thresholds,
            "weighting": weighting,
            "computed_at": now,
            "duration_ms": (time.monotonic() - started) * 1000,
            "recomputes": (state.recomputes + 1) if state else 1,
        },
    )
    return RecomputeResult(wave_id, locality_id, count, max_id, len(rows), changed=True)


@dataclass(frozen=True)
class Lag:
    wave_id: int
    locality_id: int
    responses: int
    computed: int
    lag_seconds: float | None


def lagging_pairs(wave_id: int | None = None) -> list[Lag]:
    """Every (wave, locality) whose stored figures do not describe its current
    responses (or were computed with an older index definition)."""
    states = {
        (s.wave_id, s.locality_id): s
        for s in LocalityState.objects.filter(**({"wave_id": wave_id} if wave_id else {}))
    }
    thresholds = {w: f"{c}/{o}" for w, (c, o) in waves_thresholds().items()}
    weighting = {locality: weighting_fingerprint(m) for locality, m in margins_by_locality().items()}
    lagging = []
    now = timezone.now()
    for fp in response_fingerprints(wave_id):
        state = states.pop((fp.wave_id, fp.locality_id), None)
        fresh = (
            state is not None
            and state.response_count == fp.count
            and state.id_sum == fp.id_sum
            and state.definition == INDEX_DEFINITION
            and state.thresholds == thresholds.get(fp.wave_id)
            and state.weighting == weighting.get(fp.locality_id, "")
        )
        if not fresh:
            since = state.computed_at if state else None
            lag = (
                (now - fp.last_submitted_at).total_seconds()
                if fp.last_submitted_at and (since is None or since < fp.last_submitted_at)
                else 0.0
            )
            lagging.append(
                Lag(fp.wave_id, fp.locality_id, fp.count, state.response_count if state else 0, lag)
            )
    # Figures of pairs whose responses are all gone lag too.
    for (gone_wave, gone_locality), state in states.items():
        if state.response_count:
            lagging.append(Lag(gone_wave, gone_locality, 0, state.response_count, None))
    return lagging


@contextmanager
def _reconciling(what: str) -> Iterator[None]:
    """One step of the reconciler. A step that fails (each is one
    transaction, so it leaves nothing half-written) is logged and left for the
    next run rather than holding back the others; but the database out of
    reach, or the task's time limit, ends the run."""
    from celery.exceptions import SoftTimeLimitExceeded

    try:
        yield
    except (SoftTimeLimitExceeded, OperationalError, InterfaceError):
        raise
    except Exception:
        logger.exception("reconciler could not %s; the next run retries it", what)


def lagging_recompute(*, wave_id: int | None = None) -> list[RecomputeResult]:
    """The reconciler: recompute every lagging (wave, locality), then redo
    the q-values of the waves that need it. Safe to run any time."""
    results = []
    for lag in lagging_pairs(wave_id):
        with _reconciling(f"recompute wave {lag.wave_id} locality {lag.locality_id}"):
            results.append(locality_recompute(wave_id=lag.wave_id, locality_id=lag.locality_id))
    recomputed = {r.wave_id for r in results}
    # Also any wave whose q-values a lost wave_qvalues task left empty (its
    # localities' figures are fresh, so nothing above found it).
    redo = sorted(recomputed | set(stale_qvalue_waves(wave_id)))
    for qvalue_wave in redo:
        with _reconciling(f"redo the q-values of wave {qvalue_wave}"):
            wave_qvalues_update(wave_id=qvalue_wave)
    if results:
        logger.info("reconciler recomputed %d lagging localities", len(results))
    return results


def indices_rebuild(
    *, wave_id: int | None = None, locality_id: int | None = None, update_qvalues: bool = True
) -> list[RecomputeResult]:
    """Recompute every (wave, locality) in scope, forcing a fresh computation, and
    log every pair whose stored figures had to change (they should not have)."""
    results = []
    for pair_wave, pair_locality in wave_locality_pairs(wave_id, locality_id):
        before = _snapshot(pair_wave, pair_locality)
        LocalityState.objects.filter(wave_id=pair_wave, locality_id=pair_locality).delete()
        result = locality_recompute(wave_id=pair_wave, locality_id=pair_locality)
        after = _snapshot(pair_wave, pair_locality)
        if before and before != after:
            logger.warning(
                "rebuild corrected wave %s locality %s: %d figures differed",
                pair_wave,
                pair_locality,
                len(set(before.items()) ^ set(after.items())),
            )
            result.changed = True
        else:
            result.changed = False
        results.append(result)
    if update_qvalues:
        for rebuilt_wave in {r.wave_id for r in results}:
            wave_qvalues_update(wave_id=rebuilt_wave)
    return results


def _snapshot(wave_id: int, locality_id: int) -> dict[tuple[str, str, str], tuple]:
    return {
        (r.audience, r.level, r.key): (r.n, r.estimate, r.ci_low, r.ci_high, r.mean_score, r.sd)
        for r in IndexRow.objects.filter(wave_id=wave_id, locality_id=locality_id)
    }
