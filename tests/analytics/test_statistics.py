"""The arithmetic, checked against independent computations (SciPy's normal
and t quantiles, the Wilson formula written out), including edge cases."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from analytics.statistics import mean_t, share_wilson


def wilson_by_hand(k: int, n: int) -> tuple[float, float]:
    z = stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("k", "n"), [(0, 10), (10, 10), (1, 1), (0, 1), (7, 20), (512, 1000), (3, 3)])
def test_wilson_interval(k: int, n: int) -> None:
    got = share_wilson(k, n)
    low, high = wilson_by_hand(k, n)
    assert got.n == n
    assert got.estimate == k / n
    assert got.ci_low == pytest.approx(max(low, 0.0), abs=1e-12)
    assert got.ci_high == pytest.approx(min(high, 1.0), abs=1e-12)
    assert 0.0 <= got.ci_low <= got.estimate <= got.ci_high <= 1.0


def test_no_respondents_no_estimate() -> None:
    assert share_wilson(0, 0).estimate is None
    assert mean_t([]).estimate is None


def test_t_interval_against_scipy() -> None:
    values = [0.1, 0.35, 0.2, 0.5, 0.45, 0.3]
    got = mean_t(values)
    mean = sum(values) / len(values)
    sd = stats.tstd(values)
    low, high = stats.t.interval(0.95, len(values) - 1, loc=mean, scale=stats.sem(values))
    assert got.estimate == pytest.approx(mean)
    assert got.sd == pytest.approx(sd)
    assert (got.ci_low, got.ci_high) == pytest.approx((low, high))


def test_a_single_official_has_no_interval() -> None:
    got = mean_t([0.4])
    assert (got.n, got.estimate, got.ci_low, got.ci_high, got.sd) == (1, 0.4, None, None, None)


def test_identical_estimates_have_a_zero_width_interval() -> None:
    got = mean_t([0.3, 0.3, 0.3])
    assert got.sd == 0
    assert got.ci_low == pytest.approx(0.3) and got.ci_high == pytest.approx(0.3)


def test_t_intervals_are_clipped_to_shares() -> None:
    got = mean_t([0.0, 0.02, 0.0, 0.01])
    assert got.ci_low == 0.0
    got = mean_t([1.0, 0.97, 1.0])
    assert got.ci_high == 1.0
