"""Pages of the analytics app. They read stored rows only."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from analytics.selectors import official_comparison
from surveys.forms import translate
from surveys.selectors import locality_get_for_official, wave_get
from surveys.services.responses import wave_accepts_responses
from surveys.views.official import official_required


@official_required
def official_comparison_page(request: HttpRequest, wave: str, locality: str) -> HttpResponse:
    """After answering: the official's estimates beside what citizens report."""
    found = wave_get(wave)
    place = locality_get_for_official(request.user, locality, wave=found) if found else None
    if found is None or place is None:
        raise Http404("No such comparison for you.")
    comparison = official_comparison(found, place, request.user)  # type: ignore[arg-type]
    languages = found.study.languages
    rows = [
        {
            "name": translate(row.name, languages) or row.activity,
            "own": row.own_estimate,
            "share": row.citizens_share,
            "low": row.ci_low,
            "high": row.ci_high,
            "n": row.citizens_n,
        }
        for row in comparison.rows
    ]
    return render(
        request,
        "analytics/official_comparison.html",
        {
            "wave": found,
            "locality": place,
            "comparison": comparison,
            "rows": rows,
            "shown": any(r["share"] is not None for r in rows),
            "may_answer": wave_accepts_responses(found),
        },
    )
