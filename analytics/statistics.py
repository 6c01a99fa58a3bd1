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
    """n observations, a point estimate, its interval and the sample s.d. (None when undefined)."""

    n: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    sd: float | None


def share_wilson(k: int, n: int) -> Estimate:
    """k of n engaged: p = k/n with a Wilson score interval; sd = sqrt(p(1-p))."""
    if n == 0:
        return Estimate(0, None, None, None, None)
    low, high = proportion_confint(k, n, alpha=1 - CONFIDENCE, method="wilson")
    p = k / n
    # At p = 0 or 1 the Wilson bound is exactly 0 or 1; floating point can
    # leave it a hair inside, which would exclude the estimate itself.
    low, high = min(float(low), p), max(float(high), p)
    return Estimate(n, p, _clip(low), _clip(high), math.sqrt(p * (1 - p)))


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
    return Estimate(n, mean, _clip(mean - half), _clip(mean + half), sd)


def _clip(x: float) -> float:
    return min(max(x, 0.0), 1.0)
