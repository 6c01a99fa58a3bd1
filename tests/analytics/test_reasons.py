"""Suppression notes: codes with parameters, English for the API, the reader's
language on pages, and read back from the English of rows stored before them."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.utils import translation

from analytics.reasons import note, notes_english, notes_text

backfill = import_module("analytics.migrations.0005_gaprow_suppression_notes_backfill")

STORED = [
    [note("few_citizens", min=10)],
    [note("few_citizens", min=1)],
    [note("few_citizens", min=9), note("few_officials", min=3)],
    [note("too_few_to_weight", min=5, age_bands=["60_74", "75_plus"], genders=["female"])],
    [note("too_few_to_weight", min=16, age_bands=[], genders=["female"]), note("few_officials", min=3)],
    [note("no_one_in_population")],
    [note("raking_diverged"), note("few_citizens", min=10)],
    [note("weighting_failed", error="TypeError"), note("few_officials", min=3)],
]


def test_the_english_words_are_those_the_api_always_gave() -> None:
    assert notes_english([note("few_citizens", min=10), note("few_officials", min=3)]) == (
        "fewer than 10 citizens; fewer than 3 officials"
    )
    assert notes_english(STORED[3]) == (
        "too few respondents to weight (fewer than 5 in age band 60_74, age band 75_plus, gender female)"
    )
    assert (
        notes_english(STORED[7]) == "weighting failed (TypeError); see the worker log; fewer than 3 officials"
    )


@pytest.mark.parametrize("notes", STORED)
def test_the_backfill_reads_every_stored_reason_back(notes: list[dict]) -> None:
    assert backfill._notes(notes_english(notes)) == notes


def test_the_backfill_leaves_words_it_does_not_know() -> None:
    assert backfill._notes("fewer than ten citizens") is None
    assert backfill._notes("fewer than 10 citizens; the moon was full") is None


@pytest.mark.parametrize("language", ["fr", "de", "da", "cs"])
def test_every_note_reads_in_every_language(language: str) -> None:
    with translation.override(language):
        for notes in STORED:
            text = notes_text(notes, age_bands={"75_plus": "75+"}, genders={"female": "F"})
            assert text and text != notes_english(notes), (language, notes)
