"""An independent, from-scratch computation of every index with pandas,
statsmodels and SciPy, to check the stored figures against."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from surveys.models import Response, Wave


def _t_row(values: pd.Series) -> dict[str, Any]:
    values = values.dropna()
    n = len(values)
    if n == 0:
        return {"n": 0, "estimate": None, "ci_low": None, "ci_high": None, "sd": None}
    mean = float(values.mean())
    if n < 2:
        return {"n": 1, "estimate": mean, "ci_low": None, "ci_high": None, "sd": None}
    sd = float(values.std(ddof=1))
    low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / np.sqrt(n))
    if sd == 0:
        low = high = mean
    return {
        "n": n,
        "estimate": mean,
        "ci_low": max(float(low), 0.0),
        "ci_high": min(float(high), 1.0),
        "sd": sd,
    }


def expected_indices(wave: Wave, locality_id: int) -> dict[tuple[str, str, str], dict[str, Any]]:
    """{(audience, level, key): {n, estimate, ci_low, ci_high, sd}} for one locality."""
    citizen_def = wave.citizen_version.definition
    official_def = wave.official_version.definition
    from surveys.models import Activity

    activities = {a.code: a for a in Activity.objects.filter(study=wave.study).select_related("service_area")}
    citizen_items = {
        i["activity"]: i for s in citizen_def["sections"] for i in s["items"] if i.get("activity")
    }
    official_items = {
        i["activity"]: i["code"] for s in official_def["sections"] for i in s["items"] if i.get("activity")
    }
    current = Response.objects.filter(wave=wave, locality_id=locality_id, is_current=True)
    citizens = pd.DataFrame([r.answers for r in current.filter(audience="citizen")])
    officials = pd.DataFrame([r.answers for r in current.filter(audience="official")])
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    engaged_frame = pd.DataFrame(index=citizens.index)
    estimate_frame = pd.DataFrame(index=officials.index)
    for code, item in citizen_items.items():
        choices = citizen_def["choice_lists"][item["choices"]]
        engaged_codes = {c["code"] for c in choices if c["engaged"]}
        column = citizens[item["code"]] if item["code"] in citizens else pd.Series(dtype=object)
        answered = column.dropna()
        k, n = int(answered.isin(engaged_codes).sum()), len(answered)
        if n:
            low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
            p = k / n
            out[("citizen", "activity", code)] = {
                "n": n,
                "estimate": p,
                "ci_low": low,
                "ci_high": high,
                "sd": np.sqrt(p * (1 - p)),
            }
        else:
            out[("citizen", "activity", code)] = {
                "n": 0,
                "estimate": None,
                "ci_low": None,
                "ci_high": None,
                "sd": None,
            }
        engaged_frame[code] = (
            column.map(lambda v, e=engaged_codes: np.nan if pd.isna(v) else float(v in e)) if n else np.nan
        )
        official_column = (
            officials[official_items[code]] / 100
            if official_items[code] in officials
            else pd.Series(dtype=float)
        )
        out[("official", "activity", code)] = _t_row(official_column)
        estimate_frame[code] = official_column if len(official_column) else np.nan
    groups: dict[tuple[str, str], list[str]] = {}
    for code in citizen_items:
        activity = activities[code]
        for group in [
            ("service_area", activity.service_area.code),
            ("kind", activity.kind),
            ("overall", "overall"),
        ]:
            groups.setdefault(group, []).append(code)
    for (level, key), codes in groups.items():
        out[("citizen", level, key)] = (
            _t_row(engaged_frame[codes].mean(axis=1, skipna=True))
            if len(engaged_frame)
            else _t_row(pd.Series(dtype=float))
        )
        out[("official", level, key)] = (
            _t_row(estimate_frame[codes].mean(axis=1, skipna=True))
            if len(estimate_frame)
            else _t_row(pd.Series(dtype=float))
        )
    return out


def assert_matches(stored_rows: list[Any], expected: dict[tuple[str, str, str], dict[str, Any]]) -> None:
    import pytest

    stored = {(r.audience, r.level, r.key): r for r in stored_rows}
    assert set(stored) == set(expected)
    for key, want in expected.items():
        row = stored[key]
        assert row.n == want["n"], key
        for field in ("estimate", "ci_low", "ci_high", "sd"):
            got, exp = getattr(row, field), want[field]
            if exp is None or (isinstance(exp, float) and np.isnan(exp)):
                assert got is None, (key, field, got)
            else:
                assert got == pytest.approx(exp, abs=1e-9), (key, field)
