"""Bulk loading: validated like any submission, all or nothing."""

from __future__ import annotations

import random

import pytest

from surveys.errors import InvalidResponse
from surveys.models import Response, Wave
from surveys.services.bulk import BulkRow, responses_bulk_load
from surveys.synthetic import answers_generate

pytestmark = pytest.mark.django_db


def rows(wave: Wave, n: int) -> list[BulkRow]:
    rng = random.Random(n)
    return [
        BulkRow(locality_code=rng.choice(["alpha", "beta"]), language="fr",
                answers=answers_generate(wave.citizen_version.definition, rng))
        for _ in range(n)
    ]  # fmt: skip


def test_valid_rows_are_stored(wave: Wave, django_capture_on_commit_callbacks) -> None:
    batch = rows(wave, 25)
    with django_capture_on_commit_callbacks() as callbacks:
        result = responses_bulk_load(wave=wave, rows=batch, batch=10)

    assert result.loaded == 25 == Response.objects.count()
    stored = Response.objects.order_by("pk")
    assert [r.answers for r in stored] == [r.answers for r in batch]
    assert {r.language for r in stored} == {"fr"}
    assert len({r.receipt for r in stored}) == 25
    assert len(callbacks) == len(result.localities)  # analytics told once per locality


def test_one_invalid_row_stores_nothing_and_is_named(wave: Wave) -> None:
    batch = rows(wave, 10)
    batch[6].answers["household_size"] = 500

    with pytest.raises(InvalidResponse) as raised:
        responses_bulk_load(wave=wave, rows=batch)

    assert list(raised.value.errors) == ["row 7.answers.household_size"]
    assert Response.objects.count() == 0


def test_an_unknown_locality_is_named(wave: Wave) -> None:
    batch = rows(wave, 2)
    batch[1] = BulkRow(locality_code="gamma", language="en", answers=batch[1].answers)
    with pytest.raises(InvalidResponse, match=r"row 2\.locality"):
        responses_bulk_load(wave=wave, rows=batch)


def test_official_rows_need_an_official_of_the_locality(wave: Wave, official_a, official_b) -> None:
    answers = answers_generate(wave.official_version.definition, random.Random(1))
    good = BulkRow(
        locality_code="alpha",
        language="en",
        answers=answers,
        audience="official",
        respondent_id=official_a.pk,
    )
    bad = BulkRow(
        locality_code="alpha",
        language="en",
        answers=answers,
        audience="official",
        respondent_id=official_b.pk,
    )

    with pytest.raises(InvalidResponse, match=r"row 2\.respondent"):
        responses_bulk_load(wave=wave, rows=[good, bad])
    assert Response.objects.count() == 0

    responses_bulk_load(wave=wave, rows=[good])
    stored = Response.objects.get()
    assert (stored.audience, stored.respondent, stored.is_current) == ("official", official_a, True)
