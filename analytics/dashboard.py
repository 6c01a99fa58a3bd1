"""Dashboard pages for survey managers and analysts (officials: their own
localities, without the officials' figures, see ``analytics.disclosure``).
They read stored rows only; charts are server-side SVG with a table beside
them, so they work without JavaScript and offline."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from analytics.disclosure import PUBLIC, Disclosure, disclosure_for_user, gap_rows_disclosed
from analytics.models import GapRow, IndexRow, Level
from analytics.reasons import notes_text
from analytics.selectors import freshness, gaps_for_wave
from analytics.weighting import AGE_ITEM, GENDER_ITEM
from surveys.forms import translate
from surveys.selectors import (
    LocalityScope,
    activity_names,
    item_choice_labels,
    service_area_names,
    wave_get,
    wave_scope,
)
from surveys.services.responses import wave_accepts_responses

SIGNIFICANT_Q = 0.05
WEIGHTING_METHODS = {
    "poststratification": gettext_lazy("post-stratification"),
    "raking": gettext_lazy("raking"),
}
TABLE_PAGE_SIZE = 200
SORTABLE = {"gap": "gap", "q": "q_value", "locality": "locality__code", "key": "key"}


def _wave_for(request: HttpRequest, code: str) -> tuple[Any, Disclosure]:
    """The wave, and what the user may see of its figures. 403 for others."""
    wave = wave_get(code)
    if wave is None:
        raise Http404("No such wave.")
    disclosure = disclosure_for_user(request.user, wave.pk)
    if disclosure is None:
        raise PermissionDenied
    return wave, disclosure


def _waiting(scope: list[LocalityScope], disclosure: Disclosure) -> list[str]:
    """The names of the localities whose figures wait for the official's own answer."""
    return [s.name for s in scope if s.locality_id in disclosure.unanswered]


class _Words:
    """A wave's activities, service areas and suppression notes in the reader's language."""

    def __init__(self, wave: Any) -> None:
        self.wave = wave
        self.languages = wave.study.languages
        self.activities = activity_names(wave.study_id)
        self.areas = service_area_names(wave.study_id)
        self._choices: dict[str, dict[str, str]] | None = None

    def activity(self, code: str) -> str:
        return translate(self.activities.get(code), self.languages) or code

    def area(self, code: str) -> str:
        return translate(self.areas.get(code), self.languages) or code

    def key(self, row: GapRow) -> str:
        """What a gap row is about: an activity, a service area, or everything."""
        if row.level == Level.ACTIVITY:
            return self.activity(row.key)
        if row.level == Level.SERVICE_AREA:
            return self.area(row.key)
        return str(Level(row.level).label)

    def reason(self, row: GapRow) -> str:
        """Why the row is suppressed (rows stored before the notes: their English words)."""
        if not row.suppression_notes:
            return row.suppression_reason
        if self._choices is None:
            self._choices = {
                item: {
                    code: translate(label, self.languages) or code
                    for code, label in item_choice_labels(self.wave.citizen_version_id, item).items()
                }
                for item in (AGE_ITEM, GENDER_ITEM)
            }
        return notes_text(
            row.suppression_notes, age_bands=self._choices[AGE_ITEM], genders=self._choices[GENDER_ITEM]
        )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


PLOT_LEFT, PLOT_WIDTH = 260, 320  # px of the 600-wide chart: labels left, 0-100% right


def _x(share: float | None) -> float | None:
    return None if share is None else round(PLOT_LEFT + PLOT_WIDTH * share, 1)


@dataclass(frozen=True)
class Dumbbell:
    """One activity's row of the chart, in SVG coordinates."""

    name: str
    citizens: float
    citizens_low: float | None
    citizens_high: float | None
    officials: float | None  # None: not shown to this viewer
    officials_low: float | None
    officials_high: float | None
    y: int


@login_required
def wave_overview(request: HttpRequest, wave: str) -> HttpResponse:
    found, disclosure = _wave_for(request, wave)
    own = disclosure.localities
    scope = [s for s in wave_scope(found.pk) if own is None or s.locality_id in own]
    fresh = freshness(found.pk, [s.locality_id for s in scope])
    counts = {
        (r.locality_id, r.audience): r.n
        for r in IndexRow.objects.filter(
            wave=found, level=Level.OVERALL, locality_id__in=[s.locality_id for s in scope]
        )
    }
    localities = []
    for s in scope:
        f = fresh.get((found.pk, s.locality_id))
        localities.append(
            {
                "scope": s,
                "citizens": f.responses if f else 0,
                "citizens_counted": counts.get((s.locality_id, "citizen"), 0),
                "officials_counted": counts.get((s.locality_id, "official"), 0),
                "stale": bool(f and f.stale),
                "lag": round(f.lag_seconds) if f else 0,
            }
        )
    officials = disclosure.officials  # the heatmap and the top list are gaps through and through
    top = (
        list(
            gaps_for_wave(found.pk, locality_ids=own, level=Level.ACTIVITY).filter(
                suppressed=False, q_value__lt=SIGNIFICANT_Q
            )
        )
        if officials
        else []
    )
    top.sort(key=lambda r: abs(r.gap or 0), reverse=True)
    words = _Words(found)
    return render(
        request,
        "analytics/wave_overview.html",
        {
            "wave": found,
            "localities": localities,
            "officials_shown": officials,
            "waiting": _waiting(scope, disclosure),
            "heatmap": _heatmap(found.pk, own, scope, words) if officials else None,
            "top": [(row, words.activity(row.key)) for row in top[:10]],
        },
    )


@login_required
def gap_table(request: HttpRequest, wave: str) -> HttpResponse:
    found, disclosure = _wave_for(request, wave)
    level = request.GET.get("level", Level.ACTIVITY)
    if level not in (Level.ACTIVITY, Level.SERVICE_AREA, Level.OVERALL):
        level = Level.ACTIVITY
    area = request.GET.get("service_area", "")
    # Without the officials' figures only orders that need none of them: an
    # order by a withheld figure (or the fallback below) would tell something of it.
    allowed = SORTABLE if disclosure.officials else {"locality", "key"}
    sort = request.GET.get("sort", "")
    if sort.lstrip("-") not in allowed:
        sort = "gap" if disclosure.officials else "locality"
    weighted = request.GET.get("weighted") == "1"
    shown = disclosure.shown_localities()
    rows = gaps_for_wave(found.pk, locality_ids=shown, level=level, weighted=weighted)
    if area:
        rows = rows.filter(service_area=area)
    order = SORTABLE[sort.lstrip("-")]
    rows = rows.order_by(("-" if sort.startswith("-") else "") + order, "locality__code", "key")
    words = _Words(found)
    page = Paginator(rows, TABLE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "analytics/gap_table.html",
        {
            "wave": found,
            "page": page,
            "rows": [
                (row, words.key(row), words.reason(row)) for row in gap_rows_disclosed(page, disclosure)
            ],
            "officials_shown": disclosure.officials,
            "waiting": _waiting(wave_scope(found.pk), disclosure),
            "level": level,
            "area": area,
            "sort": sort,
            "weighted": weighted,
            # The filters every sort and page link keeps.
            "query": urlencode(
                {"level": str(level), "service_area": area, "weighted": "1" if weighted else "0"}
            ),
            "areas": sorted(
                (
                    (code, words.area(code))
                    for code in GapRow.objects.filter(wave=found, weighted=False)
                    .exclude(service_area="")
                    .values_list("service_area", flat=True)
                    .distinct()
                ),
                key=lambda area: area[1],
            ),
            "significant": SIGNIFICANT_Q,
        },
    )


@login_required
def locality_report(request: HttpRequest, wave: str, locality: str) -> HttpResponse:
    found, disclosure = _wave_for(request, wave)
    own = disclosure.localities
    scope = {s.code: s for s in wave_scope(found.pk)}
    place = scope.get(locality)
    if place is None or (own is not None and place.locality_id not in own):
        raise Http404("No such locality in this wave for you.")
    if place.locality_id in disclosure.unanswered:
        return render(
            request,
            "analytics/locality_report.html",
            {
                "wave": found,
                "locality": place,
                "answer_first": True,
                "may_answer": wave_accepts_responses(found),
            },
        )
    officials = disclosure.officials
    words = _Words(found)
    rows = gap_rows_disclosed(
        gaps_for_wave(found.pk, locality_ids={place.locality_id}).order_by("level", "service_area", "key"),
        disclosure,
    )
    activities = [r for r in rows if r.level == Level.ACTIVITY]
    shown = [r for r in activities if not r.suppressed]
    bars = [
        Dumbbell(
            name=words.activity(r.key),
            citizens=_x(r.citizens_estimate or 0) or PLOT_LEFT,
            citizens_low=_x(r.citizens_ci_low),
            citizens_high=_x(r.citizens_ci_high),
            officials=(_x(r.officials_estimate or 0) or PLOT_LEFT) if officials else None,
            officials_low=_x(r.officials_ci_low),
            officials_high=_x(r.officials_ci_high),
            y=40 + 28 * i,
        )
        for i, r in enumerate(shown)
    ]
    sentences = [
        _(
            "%(activity)s: officials estimate %(officials)s of residents do it; "
            "%(citizens)s of residents say they do."
        )
        % {
            "officials": _pct(r.officials_estimate),
            "activity": b.name,
            "citizens": _pct(r.citizens_estimate),
        }
        if officials
        else _("%(activity)s: %(citizens)s of residents say they do it.")
        % {"activity": b.name, "citizens": _pct(r.citizens_estimate)}
        for r, b in zip(shown, bars, strict=True)
    ]
    return render(
        request,
        "analytics/locality_report.html",
        {
            "wave": found,
            "locality": place,
            "bars": bars,
            "chart_height": 50 + 28 * len(bars),
            "ticks": [(_x(t / 100), t) for t in (0, 25, 50, 75, 100)],
            "sentences": sentences,
            "activities": [(r, words.activity(r.key), words.reason(r)) for r in activities],
            "areas": [r for r in rows if r.level != Level.ACTIVITY],
            "officials_shown": officials,
            # The trend is the overall gap, wave by wave: nothing of it without the officials.
            "trend": _trend(place.locality_id, own) if officials else [],
            "suppressed": [r for r in activities if r.suppressed],
            "weighted": _weighted_rows(found, place.locality_id, words, disclosure),
        },
    )


def _weighted_rows(
    wave: Any, locality_id: int, words: _Words, disclosure: Disclosure
) -> dict[str, Any] | None:
    """The weighted variant for the locality page (None when the locality has
    no population figures): overall and service areas first, then activities."""
    rows = gap_rows_disclosed(
        gaps_for_wave(wave.pk, locality_ids={locality_id}, weighted=True).order_by(
            "-level", "service_area", "key"
        ),
        disclosure,
    )
    if not rows:
        return None
    order: dict[str, int] = {Level.OVERALL: 0, Level.SERVICE_AREA: 1, Level.ACTIVITY: 2}
    rows.sort(key=lambda r: order[r.level])
    methods = {r.weighting_method for r in rows if r.weighting_method}
    return {
        "rows": [(r, words.key(r), words.reason(r)) for r in rows],
        "method": WEIGHTING_METHODS.get(methods.pop(), "") if len(methods) == 1 else "",
    }


def public_results(request: HttpRequest, wave: str) -> HttpResponse:
    """The wave's report without login, when its survey manager published it:
    overall and service-area figures per locality, suppression applied. Its
    visitors see residents' figures (``disclosure.PUBLIC``); a signed-in
    official as the disclosure rules let them (nothing of their own localities
    before they have answered); survey managers and analysts the gaps too."""
    found = wave_get(wave)
    if found is None or not found.results_public:
        raise Http404("These results are not published.")
    disclosure = disclosure_for_user(request.user, found.pk) or PUBLIC
    if disclosure is PUBLIC and wave_accepts_responses(found):
        # Signed out, an official would read what they may only after answering.
        return render(request, "analytics/public_results.html", {"wave": found, "until_closed": True})
    words = _Words(found)
    rows = gap_rows_disclosed(
        gaps_for_wave(found.pk)
        .filter(level__in=[Level.OVERALL, Level.SERVICE_AREA])
        .order_by("locality__code", "-level", "key"),
        disclosure,
    )
    return render(
        request,
        "analytics/public_results.html",
        {
            "wave": found,
            "rows": [(row, words.key(row), row.locality_id in disclosure.unanswered) for row in rows],
            "officials_shown": disclosure.officials,
            "public_view": disclosure is PUBLIC,
        },
    )


def _shade(gap: float | None) -> str:
    """A light background for a gap: blue when citizens do more than officials
    think, orange when less; text on it stays dark (contrast above 7:1)."""
    if gap is None:
        return "#f3f2f1"
    strength = min(abs(gap) / 0.5, 1.0)
    light = round(245 - 85 * strength)
    return f"rgb({light},{light + 5},255)" if gap >= 0 else f"rgb(255,{light},{light - 40})"


def _heatmap(wave_id: int, own: AbstractSet[int] | None, scope: list[Any], words: _Words) -> dict[str, Any]:
    """Service-area gaps: one row per locality, one column per service area."""
    rows = gaps_for_wave(wave_id, locality_ids=own, level=Level.SERVICE_AREA)
    areas = sorted({r.key for r in rows}, key=words.area)
    cells = {(r.locality_id, r.key): r for r in rows}
    return {
        "areas": [words.area(area) for area in areas],
        "rows": [
            (
                s,
                [
                    (
                        cells.get((s.locality_id, area)),
                        _shade(getattr(cells.get((s.locality_id, area)), "gap", None)),
                    )
                    for area in areas
                ],
            )
            for s in scope
        ],
    }


def _trend(locality_id: int, own: AbstractSet[int] | None) -> list[dict[str, Any]]:
    """The locality's overall gap in every wave it took part in, oldest first,
    with points for a small line chart (x: wave order, y: gap from -50 to +100)."""
    if own is not None and locality_id not in own:
        return []
    rows = list(
        GapRow.objects.filter(locality_id=locality_id, level=Level.OVERALL, weighted=False)
        .select_related("wave")
        .order_by("wave__opens_at", "wave__code")
    )
    step = 440 / max(len(rows) - 1, 1)
    return [
        {
            "wave": r.wave,
            "row": r,
            "x": round(60 + step * i, 1),
            "y": None if r.suppressed or r.gap is None else round(130 - (r.gap * 100 + 50) * 0.8, 1),
        }
        for i, r in enumerate(rows)
    ]
