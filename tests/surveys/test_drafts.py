"""Drafts: answers kept server-side page by page, merged, never lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from surveys.db import fetch_one
from surveys.models import Audience, Draft, Wave
from surveys.services.drafts import draft_save, draft_start

pytestmark = pytest.mark.django_db


def test_saving_a_page_merges_into_the_stored_answers(wave: Wave) -> None:
    draft = draft_start(wave=wave, audience=Audience.CITIZEN, locality_code="alpha", language="en")
    draft_save(draft=draft, answers={"a": "x", "b": ["y", "z"]}, language="en")
    # Another tab's copy, read before that save: its page still merges into what is stored.
    other_tab = Draft.objects.get(pk=draft.pk)
    other_tab.answers = {}
    saved = draft_save(draft=other_tab, answers={"c": 3.5, "a": None, "d": ""}, language="fr")

    stored = Draft.objects.get(pk=draft.pk)
    assert stored.answers == {"b": ["y", "z"], "c": 3.5}  # a and d cleared, b kept
    assert stored.language == "fr"
    assert saved.answers == stored.answers


@pytest.mark.django_db(transaction=True)
def test_two_tabs_saving_at_once_both_keep_their_answers(postgres, wave: Wave) -> None:
    draft = draft_start(wave=wave, audience=Audience.CITIZEN, locality_code="alpha", language="en")
    start = threading.Barrier(4)

    def tab(n: int) -> None:
        start.wait()
        try:
            for i in range(15):
                draft_save(draft=Draft.objects.get(pk=draft.pk), answers={f"t{n}_{i}": i}, language="en")
        finally:
            connection.close()

    threads = [threading.Thread(target=tab, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert Draft.objects.get(pk=draft.pk).answers == {f"t{n}_{i}": i for n in range(4) for i in range(15)}


def test_the_pages_fixed_statement_reads_the_draft_as_the_orm_does(wave: Wave) -> None:
    """surveys.db.fetch_one (the draft read on every page) builds the same
    instance as the ORM: every field, converted (JSON, UUID, times, booleans)."""
    draft = draft_start(wave=wave, audience=Audience.CITIZEN, locality_code="alpha", language="en")
    draft_save(draft=draft, answers={"a": "é", "n": 2.5, "m": ["x", "y"]}, language="cs")
    by_orm = Draft.objects.get(pk=draft.pk)

    read = fetch_one(Draft, submission_id=by_orm.submission_id, wave_id=wave.pk)

    assert read is not None and not read._state.adding
    for field in Draft._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(by_orm, field.attname), field.name
    assert read.answers == {"a": "é", "n": 2.5, "m": ["x", "y"]}
    assert fetch_one(Draft, id=draft.pk, wave_id=wave.pk + 1) is None


def test_a_value_the_database_cannot_hold_is_never_saved(postgres, wave: Wave) -> None:
    """A NUL character (PostgreSQL refuses it in jsonb), or a lone surrogate:
    the item keeps what it had, and the rest of the page is saved."""
    draft = draft_start(wave=wave, audience=Audience.CITIZEN, locality_code="alpha", language="en")
    draft_save(draft=draft, answers={"a": "kept", "b": "kept"}, language="en")

    saved = draft_save(
        draft=draft, answers={"a": "x\x00y", "b": ["\ud800"], "c": "new", "d": None}, language="en"
    )

    assert Draft.objects.get(pk=draft.pk).answers == {"a": "kept", "b": "kept", "c": "new"}
    assert saved.answers == {"a": "kept", "b": "kept", "c": "new"}
