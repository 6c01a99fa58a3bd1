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
    return _with_qvalues(out)


def _wilson(p: float, n: float) -> tuple[float, float]:
    """Wilson score interval from its closed form (n may be fractional)."""
    z = stats.norm.ppf(0.975)
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(centre - half, 0.0), min(centre + half, 1.0)


def reference_weights(
    cells: pd.Series, margins: dict[str, dict[str, int]], min_cell: int
) -> tuple[str, pd.Series]:
    """(method, weight per respondent) for respondents' (band, gender) cells, by
    hand: post-stratification N_cell / n_cell, else iterative proportional
    fitting to the two margins in plain numpy; ('refused', empty) otherwise."""
    population = {(b, g): n for b, by_g in margins.items() for g, n in by_g.items() if n > 0}
    counts = cells.value_counts()
    if all(counts.get(c, 0) >= min_cell for c in population):
        return "poststratification", cells.map(lambda c: population[c] / counts[c])
    bands = cells.map(lambda c: c[0])
    genders = cells.map(lambda c: c[1])
    band_total: dict[str, int] = {}
    gender_total: dict[str, int] = {}
    for (b, g), n in population.items():
        band_total[b] = band_total.get(b, 0) + n
        gender_total[g] = gender_total.get(g, 0) + n
    if any((bands == b).sum() < min_cell for b in band_total) or any(
        (genders == g).sum() < min_cell for g in gender_total
    ):
        return "refused", pd.Series(dtype=float)
    w = np.ones(len(cells))
    for _ in range(10_000):
        for labels, totals in ((bands.to_numpy(), band_total), (genders.to_numpy(), gender_total)):
            for level, total in totals.items():
                mask = labels == level
                w[mask] *= total / w[mask].sum()
        if all(abs(w[bands.to_numpy() == b].sum() / t - 1) < 1e-12 for b, t in band_total.items()):
            break
    return "raking", pd.Series(w, index=cells.index)


def _weighted_share(y: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    p = float((w * y).sum() / w.sum())
    n_eff = float(w.sum() ** 2 / (w**2).sum())
    low, high = _wilson(p, n_eff)
    return {
        "estimate": p,
        "ci_low": min(low, p),
        "ci_high": max(high, p),
        "sd": np.sqrt(p * (1 - p)),
        "n_eff": n_eff,
    }


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> dict[str, Any]:
    n_eff = float(w.sum() ** 2 / (w**2).sum())
    mean = float((w * x).sum() / w.sum())
    scaled = w * n_eff / w.sum()
    sd = float(np.sqrt((scaled * (x - mean) ** 2).sum() / (n_eff - 1)))
    half = stats.t.ppf(0.975, n_eff - 1) * sd / np.sqrt(n_eff)
    return {
        "estimate": mean,
        "ci_low": max(mean - half, 0.0),
        "ci_high": min(mean + half, 1.0),
        "sd": sd,
        "n_eff": n_eff,
    }


def expected_weighted_gaps(
    wave: Wave, locality_ids: list[int], min_cell: int
) -> dict[tuple[int, str, str], dict[str, Any]]:
    """The weighted variant, from scratch: weights by hand (reference_weights),
    weighted shares with a closed-form Wilson interval and weighted means with
    a SciPy t interval at the Kish effective n, MOVER and the normal test, and
    statsmodels' Benjamini-Hochberg over the wave's weighted rows."""
    from surveys.models import Activity, Locality

    citizen_def = wave.citizen_version.definition
    items = {i["activity"]: i for s in citizen_def["sections"] for i in s["items"] if i.get("activity")}
    activities = {a.code: a for a in Activity.objects.filter(study=wave.study).select_related("service_area")}
    out: dict[tuple[int, str, str], dict[str, Any]] = {}
    for locality_id in locality_ids:
        margins = Locality.objects.get(pk=locality_id).population_margins
        if not margins:
            continue
        indices = expected_indices(wave, locality_id)
        answers = pd.DataFrame(
            [
                r.answers
                for r in Response.objects.filter(
                    wave=wave, locality_id=locality_id, is_current=True, audience="citizen"
                )
            ]
        )
        population = {(b, g) for b, by_g in margins.items() for g, n in by_g.items() if n > 0}
        cells = pd.Series(list(zip(answers["age_band"], answers["gender"], strict=True)))
        inside = cells.isin(population)
        method, weights = reference_weights(cells[inside], margins, min_cell)
        engaged = pd.DataFrame(index=answers.index)
        for code, item in items.items():
            codes = {c["code"] for c in citizen_def["choice_lists"][item["choices"]] if c["engaged"]}
            column = answers.get(item["code"], pd.Series(np.nan, index=answers.index))
            engaged[code] = column.map(lambda v, e=codes: np.nan if pd.isna(v) else float(v in e))
        keys: dict[tuple[str, str], list[str]] = {}
        for code in items:
            keys[("activity", code)] = [code]
            keys.setdefault(("service_area", activities[code].service_area.code), []).append(code)
            keys.setdefault(("overall", "overall"), []).append(code)
        for (level, key), codes in keys.items():
            x = engaged[codes].mean(axis=1, skipna=True)
            answered = x.notna()
            o = indices[("official", level, key)]
            if method == "refused":
                row: dict[str, Any] = {"citizens_n": int(answered.sum()), "suppressed": True, "method": ""}
            else:
                take = answered & inside
                n = int(take.sum())
                w = weights[take[take].index].to_numpy()
                c = (_weighted_share if level == "activity" else _weighted_mean)(x[take].to_numpy(), w)
                row = {"citizens_n": n, "method": method}
                row["suppressed"] = n < wave.min_citizens or o["n"] < wave.min_officials
            row["officials_n"] = o["n"]
            if row["suppressed"]:
                row.update(citizens_estimate=None, citizens_n_effective=None, gap=None, gap_ci_low=None)
                row.update(citizens_ci_low=None, citizens_ci_high=None)
                row.update(gap_ci_high=None, p_value=None)
            else:
                p, m = c["estimate"], o["estimate"]
                d = p - m
                row.update(citizens_estimate=p, citizens_n_effective=c["n_eff"], gap=d)
                row.update(citizens_ci_low=c["ci_low"], citizens_ci_high=c["ci_high"])
                row["gap_ci_low"] = d - np.sqrt((p - c["ci_low"]) ** 2 + (o["ci_high"] - m) ** 2)
                row["gap_ci_high"] = d + np.sqrt((c["ci_high"] - p) ** 2 + (m - o["ci_low"]) ** 2)
                se = np.sqrt(c["sd"] ** 2 / c["n_eff"] + o["sd"] ** 2 / o["n"])
                row["p_value"] = float(2 * stats.norm.sf(abs(d / se))) if se > 0 else None
            out[(locality_id, level, key)] = row
    return _with_qvalues(out)


def _with_qvalues(
    out: dict[tuple[int, str, str], dict[str, Any]],
) -> dict[tuple[int, str, str], dict[str, Any]]:
    """Benjamini-Hochberg (statsmodels) over the rows with a p-value, level by level."""
    from statsmodels.stats.multitest import multipletests

    for level in ("activity", "service_area", "overall"):
        tested = [(k, r["p_value"]) for k, r in out.items() if k[1] == level and r["p_value"] is not None]
        qs = multipletests([p for _, p in tested], method="fdr_bh")[1] if tested else []
        for (k, _), q in zip(tested, qs, strict=True):
            out[k]["q_value"] = float(q)
    for r in out.values():
        r.setdefault("q_value", None)
    return out
