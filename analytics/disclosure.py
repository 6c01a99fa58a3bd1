"""Who may see which stored figures (docs/methodology.md, "Small cells and
officials' answers"; docs/api.md, "Withheld figures").

Survey managers and analysts see every figure the thresholds let out.
Officials see the localities they are bound to, and

- never a figure computed from other officials' answers: with three officials
  and their own answer known, the officials' mean with its s.d. or interval
  (or a gap's interval, p- or q-value, which carry the officials' spread)
  gives each colleague's answer exactly. Their own estimates they see on their
  comparison page;
- no figure at all of a locality of theirs before they have answered for it
  in that wave, so that what citizens report cannot sway their estimates.

Withheld figures are null, like suppressed ones, with their own reason.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from analytics.models import GapRow, IndexRow
from surveys.models import Audience
from surveys.selectors import official_answered_locality_ids, user_is_analyst, user_official_locality_ids

M = TypeVar("M", GapRow, IndexRow)

OFFICIALS_ANSWERS = "officials_answers"
"""The caller is an official: figures computed from officials' answers are withheld."""
ANSWER_FIRST = "answer_first"
"""The caller is an official of the locality who has not answered in this wave: every figure is withheld."""
WITHHELD_REASONS = (OFFICIALS_ANSWERS, ANSWER_FIRST)

INDEX_FIGURES = ("estimate", "ci_low", "ci_high", "mean_score", "sd")
GAP_CITIZENS_FIGURES = ("citizens_estimate", "citizens_ci_low", "citizens_ci_high", "citizens_n_effective")
GAP_OFFICIALS_FIGURES = (
    "officials_estimate", "officials_ci_low", "officials_ci_high",
    "gap", "gap_ci_low", "gap_ci_high", "p_value", "q_value",
)  # fmt: skip


@dataclass(frozen=True)
class Disclosure:
    """What one caller may see of one wave's figures."""

    localities: frozenset[int] | None
    """The localities whose figures the caller may read (None: every one)."""
    officials: bool
    """Whether the caller may see figures computed from officials' answers."""
    unanswered: frozenset[int] = frozenset()
    """The caller's own localities they have not answered for in this wave."""

    def gap_withheld(self, locality_id: int) -> str | None:
        """Why (some) figures of a gap row are withheld from this caller, or None."""
        if locality_id in self.unanswered:
            return ANSWER_FIRST
        return None if self.officials else OFFICIALS_ANSWERS

    def index_withheld(self, locality_id: int, audience: str) -> str | None:
        """Why the figures of an index row are withheld from this caller, or None."""
        if locality_id in self.unanswered:
            return ANSWER_FIRST
        return None if self.officials or audience == Audience.CITIZEN else OFFICIALS_ANSWERS

    def shown_localities(self) -> set[int] | None:
        """The readable localities whose figures are not all withheld (None: every one)."""
        return None if self.localities is None else set(self.localities - self.unanswered)


EVERYTHING = Disclosure(localities=None, officials=True)
PUBLIC = Disclosure(localities=None, officials=False)
"""A published report's visitors who are not signed in: residents' figures
only. Officials could otherwise sign out and read there what they are refused
signed in."""


def disclosure_for_user(user: AbstractBaseUser | AnonymousUser, wave_id: int) -> Disclosure | None:
    """What this user may see of the wave's figures; None when they may read
    none (neither a survey manager, an analyst nor an official)."""
    if user_is_analyst(user):
        return EVERYTHING
    own = user_official_locality_ids(user)
    if not own:
        return None
    answered = official_answered_locality_ids(user, wave_id)
    return Disclosure(localities=frozenset(own), officials=False, unanswered=frozenset(own - answered))


def gap_withheld_fields(reason: str | None) -> tuple[str, ...]:
    """The GapRow figures a reason withholds (the counts always stay)."""
    if reason == ANSWER_FIRST:
        return GAP_CITIZENS_FIGURES + GAP_OFFICIALS_FIGURES
    if reason == OFFICIALS_ANSWERS:
        return GAP_OFFICIALS_FIGURES
    return ()


def index_withheld_fields(reason: str | None) -> tuple[str, ...]:
    return INDEX_FIGURES if reason else ()


def gap_values_disclosed(
    values: Mapping[str, Any], disclosure: Disclosure, locality_id: int
) -> dict[str, Any]:
    """A gap row's column values (``QuerySet.values()``) as this caller may see
    them, with ``withheld`` added."""
    reason = disclosure.gap_withheld(locality_id)
    return {**values, **dict.fromkeys(gap_withheld_fields(reason)), "withheld": reason}


def _nulled(row: M, hidden: tuple[str, ...]) -> M:
    if not hidden:
        return row
    row = copy.copy(row)
    for name in hidden:
        setattr(row, name, None)
    return row


def gap_row_disclosed(row: GapRow, disclosure: Disclosure) -> GapRow:
    """The row as this caller may see it: itself, or an unsaved copy with the
    withheld figures set to None (never save it)."""
    return _nulled(row, gap_withheld_fields(disclosure.gap_withheld(row.locality_id)))


def gap_rows_disclosed(rows: Iterable[GapRow], disclosure: Disclosure) -> list[GapRow]:
    return [gap_row_disclosed(row, disclosure) for row in rows]


def index_row_disclosed(row: IndexRow, disclosure: Disclosure) -> IndexRow:
    """Like ``gap_row_disclosed``, for an index row."""
    return _nulled(row, index_withheld_fields(disclosure.index_withheld(row.locality_id, row.audience)))
