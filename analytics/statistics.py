"""The arithmetic of every figure, from statsmodels and SciPy (see docs/methodology.md).

All intervals are 95% and, being intervals for shares, clipped to [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats
from statsmodels.stats.proportion import proportion_confint

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """n observations, a point estimate, its interval and the sample s.d. (None
    when undefined); weighted estimates also carry their Kish effective n,
    which takes n's place in every standard error."""

    n: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    sd: float | None
    n_effective: float | None = None

    @property
    def n_for_variance(self) -> float:
        return self.n if self.n_effective is None else self.n_effective


def share_wilson(k: int, n: int) -> Estimate:
    """k of n engaged: p = k/n with a Wilson score interval; sd = sqrt(p(1-p))."""
    if n == 0:
        return Estimate(0, None, None, None, None)
    low, high = proportion_confint(k, n, alpha=1 - CONFIDENCE, method="wilson")
    p = k / n
    # At p = 0 or 1 the Wilson bound is exactly 0 or 1; floating point can
    # leave it a hair inside, which would exclude the estimate itself.
    low, high = min(float(low), p), max(float(high), p)
    return Estimate(n, p, clip(low), clip(high), math.sqrt(p * (1 - p)))


def mean_t(values: Sequence[float]) -> Estimate:
    """Mean with a t interval m +/- t(0.975, n-1) * s / sqrt(n), clipped to [0, 1]; no interval when n < 2."""
    n = len(values)
    if n == 0:
        return Estimate(0, None, None, None, None)
    mean = math.fsum(values) / n
    if n < 2:
        return Estimate(1, mean, None, None, None)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, n - 1)) * sd / math.sqrt(n)
    return Estimate(n, mean, clip(mean - half), clip(mean + half), sd)


def clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)


@dataclass(frozen=True)
class Gap:
    """Citizens' share minus officials' estimate, its MOVER interval and test."""

    gap: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None


def gap_mover(citizens: Estimate, officials: Estimate) -> Gap:
    """d = p - m with Newcombe's MOVER interval from the two (clipped) intervals,
    and the two-sided normal test of z = d / sqrt(var_c / n_c + s_o^2 / n_o).

    ``citizens.sd`` is sqrt(p(1-p)) at the activity level and the s.d. of the
    per-citizen shares above it, so one formula serves every level (weighted
    citizens' estimates divide by their Kish effective n). No
    interval when either side has none; no p-value when n_o < 2 or the
    denominator is 0.
    """
    p, m = citizens.estimate, officials.estimate
    if p is None or m is None:
        return Gap(None, None, None, None)
    d = p - m
    low = high = None
    if None not in (citizens.ci_low, citizens.ci_high, officials.ci_low, officials.ci_high):
        low = d - math.sqrt((p - citizens.ci_low) ** 2 + (officials.ci_high - m) ** 2)  # type: ignore[operator]
        high = d + math.sqrt((citizens.ci_high - p) ** 2 + (m - officials.ci_low) ** 2)  # type: ignore[operator]
    p_value = None
    if officials.n >= 2 and citizens.n >= 1 and citizens.sd is not None and officials.sd is not None:
        se = math.sqrt(citizens.sd**2 / citizens.n_for_variance + officials.sd**2 / officials.n)
        if se > 0:
            p_value = float(2 * stats.norm.sf(abs(d / se)))
    return Gap(d, low, high, p_value)


def bh_qvalues(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p-values (statsmodels' fdr_bh)."""
    if not p_values:
        return []
    from statsmodels.stats.multitest import multipletests

    return [float(q) for q in multipletests(list(p_values), method="fdr_bh")[1]]
