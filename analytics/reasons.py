"""Why a gap row is suppressed, as codes with parameters.

Rows store their notes (``GapRow.suppression_notes``: a list of
``{"code": ..., **parameters}``) and, for the API and exports, the same in
English words (``GapRow.suppression_reason``). Pages render the notes in the
reader's language (``notes_text``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

FEW_CITIZENS = "few_citizens"  # min
FEW_OFFICIALS = "few_officials"  # min
NO_ONE_IN_POPULATION = "no_one_in_population"
TOO_FEW_TO_WEIGHT = "too_few_to_weight"  # min, age_bands, genders: the groups short of min
RAKING_DIVERGED = "raking_diverged"
WEIGHTING_FAILED = "weighting_failed"  # error: the exception's class name

Note = dict[str, Any]
Labels = Mapping[str, str]
"""A choice code -> its label in the reader's language."""


def note(code: str, **parameters: Any) -> Note:
    return {"code": code, **parameters}


def note_text(
    found: Mapping[str, Any], *, age_bands: Labels | None = None, genders: Labels | None = None
) -> str:
    """One note in the active language; age bands and genders by their labels
    when given, else by their codes."""
    code = found.get("code")
    if code == FEW_CITIZENS:
        return ngettext("fewer than %(min)d citizen", "fewer than %(min)d citizens", found["min"]) % found
    if code == FEW_OFFICIALS:
        return ngettext("fewer than %(min)d official", "fewer than %(min)d officials", found["min"]) % found
    if code == NO_ONE_IN_POPULATION:
        return _("no respondent is in an age band and gender the population figures cover")
    if code == TOO_FEW_TO_WEIGHT:
        bands, sexes = age_bands or {}, genders or {}
        groups = [_("age band %(band)s") % {"band": bands.get(b, b)} for b in found["age_bands"]] + [
            _("gender %(gender)s") % {"gender": sexes.get(g, g)} for g in found["genders"]
        ]
        return _("too few respondents to weight (fewer than %(min)d in %(groups)s)") % {
            "min": found["min"],
            "groups": ", ".join(groups),
        }
    if code == RAKING_DIVERGED:
        return _(
            "raking did not converge: no weights give these respondents the population's "
            "age bands and genders at once"
        )
    if code == WEIGHTING_FAILED:
        return _("weighting failed (%(error)s); see the worker log") % found
    raise ValueError(f"unknown suppression note {found!r}")


def notes_text(
    notes: Sequence[Mapping[str, Any]], *, age_bands: Labels | None = None, genders: Labels | None = None
) -> str:
    return "; ".join(note_text(n, age_bands=age_bands, genders=genders) for n in notes)


def notes_english(notes: Sequence[Mapping[str, Any]]) -> str:
    """The notes as the API and the exports give them: English, with codes."""
    with translation.override("en"):
        return notes_text(notes)
