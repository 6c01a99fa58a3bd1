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
    if sd == 0:
        low = high = mean
    else:
        low, high = stats.t.interval(0.95, n - 1, loc=mean, scale=sd / np.sqrt(n))
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


def expected_gaps(wave: Wave, locality_ids: list[int]) -> dict[tuple[int, str, str], dict[str, Any]]:
    """{(locality id, level, key): gap figures} with the method of shared/DESIGN.md,
    computed independently: MOVER by hand, the normal test with SciPy,
    Benjamini-Hochberg with statsmodels over the wave's unsuppressed rows."""
    from statsmodels.stats.multitest import multipletests

    out: dict[tuple[int, str, str], dict[str, Any]] = {}
    for locality_id in locality_ids:
        indices = expected_indices(wave, locality_id)
        for (audience, level, key), c in indices.items():
            if audience != "citizen" or level == "kind":
                continue
            o = indices[("official", level, key)]
            suppressed = c["n"] < wave.min_citizens or o["n"] < wave.min_officials
            row: dict[str, Any] = {"citizens_n": c["n"], "officials_n": o["n"], "suppressed": suppressed}
            if suppressed:
                row.update(gap=None, gap_ci_low=None, gap_ci_high=None, p_value=None)
            else:
                p, m = c["estimate"], o["estimate"]
                d = p - m
                row["gap"] = d
                if o["ci_low"] is None or c["ci_low"] is None:
                    row["gap_ci_low"] = row["gap_ci_high"] = None
                else:
                    row["gap_ci_low"] = d - np.sqrt((p - c["ci_low"]) ** 2 + (o["ci_high"] - m) ** 2)
                    row["gap_ci_high"] = d + np.sqrt((c["ci_high"] - p) ** 2 + (m - o["ci_low"]) ** 2)
                se = np.sqrt(c["sd"] ** 2 / c["n"] + o["sd"] ** 2 / o["n"]) if o["n"] >= 2 else 0.0
                row["p_value"] = float(2 * stats.norm.sf(abs(d / se))) if se > 0 else None
            out[(locality_id, level, key)] = row
    for level in ("activity", "service_area", "overall"):
        tested = [(k, r["p_value"]) for k, r in out.items() if k[1] == level and r["p_value"] is not None]
        qs = multipletests([p for _, p in tested], method="fdr_bh")[1] if tested else []
        for (k, _), q in zip(tested, qs, strict=True):
            out[k]["q_value"] = float(q)
    for r in out.values():
        r.setdefault("q_value", None)
    return out
