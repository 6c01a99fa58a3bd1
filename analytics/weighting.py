"""The weighted variant: citizens weighted to their locality's adult population
by age band x gender (see docs/methodology.md, "Weighted figures").

The weights come from svy (post-stratification when every population cell has
enough respondents, raking to the age-band and gender margins otherwise); this
module only decides which method applies, and turns weights into estimates with
the Kish effective sample size in place of n.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.weightstats import DescrStatsW

from analytics.reasons import (
    NO_ONE_IN_POPULATION,
    RAKING_DIVERGED,
    TOO_FEW_TO_WEIGHT,
    note,
    notes_english,
)
from analytics.statistics import CONFIDENCE, Estimate, clip

# The citizen items the population figures are cross-classified by; their
# choice codes are the keys of Locality.population_margins.
AGE_ITEM = "age_band"
GENDER_ITEM = "gender"

POSTSTRATIFICATION = "poststratification"
RAKING = "raking"
# Largest relative misfit of any raked margin; far below any figure reported.
RAKING_TOLERANCE = 1e-7

Margins = Mapping[str, Mapping[str, int]]


class WeightingImpossible(Exception):
    """The locality's responses cannot be weighted to its population;
    ``note`` says why (``analytics.reasons``), the message in English words."""

    def __init__(self, code: str, **parameters: Any) -> None:
        self.note = note(code, **parameters)
        super().__init__(notes_english([self.note]))


@dataclass(frozen=True)
class Weighting:
    method: str
    weights: dict[int, float]
    """Response id -> weight, for the citizens inside a population cell."""
    excluded: int
    """Citizens outside every population cell (another gender, no answer)."""


def margins_digest(margins: Margins | None) -> str:
    """A short fingerprint of a population table ('' for none): stored with the
    figures, so that changed population figures make them stale."""
    if not margins:
        return ""
    canonical = json.dumps(margins, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def population_cells(margins: Margins) -> dict[tuple[str, str], int]:
    return {
        (band, gender): int(count)
        for band, by_gender in margins.items()
        for gender, count in by_gender.items()
        if count > 0
    }


def citizen_weights(
    citizens: Sequence[tuple[int, Mapping[str, Any]]], margins: Margins, *, min_cell: int
) -> Weighting:
    """Weights that make the citizens' age band x gender distribution match the
    population's. Post-stratification when every cell of the population table
    has at least ``min_cell`` respondents; otherwise raking to the two margins,
    when every age band and gender has at least ``min_cell``; otherwise
    ``WeightingImpossible``. Citizens outside the table are left out."""
    cells = population_cells(margins)
    placed = [(rid, (answers.get(AGE_ITEM), answers.get(GENDER_ITEM))) for rid, answers in citizens]
    included = [(rid, cell) for rid, cell in placed if cell in cells]
    if not included:
        raise WeightingImpossible(NO_ONE_IN_POPULATION)
    in_cell = Counter(cell for _rid, cell in included)
    ids = [rid for rid, _cell in included]
    bands = [cell[0] for _rid, cell in included]
    genders = [cell[1] for _rid, cell in included]

    import polars as pl
    import svy

    sample = svy.Sample(
        data=pl.DataFrame({"id": ids, AGE_ITEM: bands, GENDER_ITEM: genders, "base": [1.0] * len(ids)}),
        design=svy.Design(wgt="base"),
    )
    if all(in_cell[cell] >= min_cell for cell in cells):
        method = POSTSTRATIFICATION
        # svy keys the controls of several cell columns by tuple, in ``cells`` order.
        controls: Any = dict(cells)
        weighted = sample.weighting.poststratify(controls=controls, cells=[AGE_ITEM, GENDER_ITEM])
        column = "ps_wgt"
    else:
        band_totals: Counter[str] = Counter()
        gender_totals: Counter[str] = Counter()
        for (band, gender), count in cells.items():
            band_totals[band] += count
            gender_totals[gender] += count
        band_n, gender_n = Counter(bands), Counter(genders)
        # Which groups are short, never by how much: an exact count under the
        # threshold would disclose a small cell.
        short_bands = [b for b in sorted(band_totals) if band_n[b] < min_cell]
        short_genders = [g for g in sorted(gender_totals) if gender_n[g] < min_cell]
        if short_bands or short_genders:
            raise WeightingImpossible(
                TOO_FEW_TO_WEIGHT, min=min_cell, age_bands=short_bands, genders=short_genders
            )
        method = RAKING
        margins_controls: Any = {AGE_ITEM: dict(band_totals), GENDER_ITEM: dict(gender_totals)}
        try:
            weighted = sample.weighting.rake(controls=margins_controls, tol=RAKING_TOLERANCE, max_iter=1000)
        except svy.errors.WeightingError as error:
            raise WeightingImpossible(RAKING_DIVERGED) from error
        column = "rk_wgt"
    frame = weighted.data.select("id", column)
    weights = dict(zip(frame["id"].to_list(), frame[column].to_list(), strict=True))
    return Weighting(method, weights, excluded=len(placed) - len(included))


def kish_n_effective(weights: ArrayLike) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2."""
    w = np.asarray(weights, dtype=float)
    return float(w.sum() ** 2 / np.dot(w, w))


def weighted_share(engaged: ArrayLike, weights: ArrayLike) -> Estimate:
    """Weighted engaged share with a Wilson interval at the Kish effective n."""
    w = np.asarray(weights, dtype=float)
    n = len(w)
    if n == 0:
        return Estimate(0, None, None, None, None)
    total = float(w.sum())
    p = float(w[np.asarray(engaged, dtype=bool)].sum() / total)
    n_eff = kish_n_effective(w)
    low, high = proportion_confint(p * n_eff, n_eff, alpha=1 - CONFIDENCE, method="wilson")
    low, high = min(float(low), p), max(float(high), p)
    return Estimate(n, p, clip(low), clip(high), math.sqrt(p * (1 - p)), n_effective=n_eff)


def weighted_mean_t(values: ArrayLike, weights: ArrayLike) -> Estimate:
    """Weighted mean with a t interval at the Kish effective n: the weights are
    rescaled to sum to n_eff, so the s.d. has n_eff - 1 degrees of freedom and
    the standard error is s / sqrt(n_eff); no interval when n_eff < 2."""
    x = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    n = len(x)
    if n == 0:
        return Estimate(0, None, None, None, None)
    n_eff = kish_n_effective(w)
    stats = DescrStatsW(x, weights=w * (n_eff / w.sum()), ddof=1)
    mean = float(stats.mean)
    if n_eff < 2 or n < 2:
        return Estimate(n, mean, None, None, None, n_effective=n_eff)
    low, high = stats.tconfint_mean(alpha=1 - CONFIDENCE)
    return Estimate(n, mean, clip(float(low)), clip(float(high)), float(stats.std), n_effective=n_eff)
