"""Stored indices equal an independent from-scratch computation; recomputes are idempotent."""

from __future__ import annotations

import logging
import random
import uuid

import pytest
from django.core.management import call_command

from analytics.models import IndexRow, LocalityState
from analytics.services import indices_rebuild, lagging_pairs, lagging_recompute, locality_recompute
from surveys.models import Audience, Locality, Wave
from surveys.services.accounts import official_ensure
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate
from tests.analytics.reference import assert_matches, expected_indices

pytestmark = pytest.mark.django_db


def submit_citizens(wave: Wave, locality: str, count: int, seed: int, rate: float = 0.6) -> None:
    rng = random.Random(seed)
    for _ in range(count):
        answers = answers_generate(wave.citizen_version.definition, rng, engaged_rate=lambda a: rate)
        response_submit(
            wave=wave, submission_id=uuid.uuid4(), audience=Audience.CITIZEN,
            locality_code=locality, language="en", answers=answers,
        )  # fmt: skip


def submit_official(wave: Wave, locality: Locality, username: str, seed: int) -> None:
    user = official_ensure(username=username, password=None, localities=[locality]).user
    answers = answers_generate(
        wave.official_version.definition,
        random.Random(seed),
        estimate=lambda a: random.Random(seed + len(a)).uniform(5, 60),
    )
    response_submit(
        wave=wave, submission_id=uuid.uuid4(), audience=Audience.OFFICIAL,
        locality_code=locality.code, language="en", answers=answers, user=user,
    )  # fmt: skip


def test_stored_figures_equal_an_independent_computation(wave: Wave, locality_a, locality_b) -> None:
    submit_citizens(wave, "alpha", 37, seed=1, rate=0.7)
    submit_citizens(wave, "beta", 12, seed=2, rate=0.3)
    for i in range(4):
        submit_official(wave, locality_a, f"official-a{i}", seed=10 + i)
    submit_official(wave, locality_b, "official-b0", seed=20)  # a single official: no interval
    # An official changes their answer: only the latest counts.
    submit_official(wave, locality_a, "official-a0", seed=99)

    call_command("recompute", wave=wave.code)

    for locality in (locality_a, locality_b):
        rows = list(IndexRow.objects.filter(wave=wave, locality=locality))
        assert_matches(rows, expected_indices(wave, locality.pk))
    official_overall = IndexRow.objects.get(
        wave=wave, locality=locality_a, audience="official", level="overall"
    )
    assert official_overall.n == 4
    assert (
        IndexRow.objects.filter(
            locality=locality_b, audience="official", level="activity", ci_low__isnull=False
        ).count()
        == 0
    )


def test_an_empty_locality_has_rows_with_zero_counts(wave: Wave, locality_a) -> None:
    result = locality_recompute(wave_id=wave.pk, locality_id=locality_a.pk)
    assert result.responses == 0
    rows = IndexRow.objects.filter(wave=wave, locality=locality_a)
    assert rows.count() == result.rows > 0
    assert set(rows.values_list("n", flat=True)) == {0}
    assert set(rows.values_list("estimate", flat=True)) == {None}


def test_the_same_recompute_twice_changes_nothing(wave: Wave, locality_a) -> None:
    submit_citizens(wave, "alpha", 8, seed=3)
    first = locality_recompute(wave_id=wave.pk, locality_id=locality_a.pk)
    before = list(IndexRow.objects.filter(locality=locality_a).order_by("pk").values())
    second = locality_recompute(wave_id=wave.pk, locality_id=locality_a.pk)

    assert first.changed and not second.changed
    assert list(IndexRow.objects.filter(locality=locality_a).order_by("pk").values()) == before
    assert LocalityState.objects.get(locality=locality_a).recomputes == 1


def test_the_reconciler_finds_what_lags_and_nothing_else(wave: Wave, locality_a, locality_b) -> None:
    submit_citizens(wave, "alpha", 5, seed=4)
    submit_citizens(wave, "beta", 5, seed=5)
    lagging_recompute()
    assert lagging_pairs() == []

    submit_citizens(wave, "beta", 1, seed=6)
    lagging = lagging_pairs()
    assert [(lag.locality_id, lag.responses, lag.computed) for lag in lagging] == [(locality_b.pk, 6, 5)]
    assert lagging[0].lag_seconds >= 0

    results = lagging_recompute()
    assert [r.locality_id for r in results] == [locality_b.pk]
    assert lagging_pairs() == []
    assert_matches(list(IndexRow.objects.filter(locality=locality_b)), expected_indices(wave, locality_b.pk))


def test_a_locality_the_reconciler_cannot_recompute_does_not_hold_back_the_others(
    wave: Wave, locality_a, locality_b, monkeypatch, caplog
) -> None:
    from analytics import services

    submit_citizens(wave, "alpha", 5, seed=4)
    submit_citizens(wave, "beta", 5, seed=5)
    real = services.locality_recompute

    def failing_for_alpha(*, wave_id: int, locality_id: int) -> services.RecomputeResult:
        if locality_id == locality_a.pk:
            raise RuntimeError("a fault in one locality's data")
        return real(wave_id=wave_id, locality_id=locality_id)

    monkeypatch.setattr(services, "locality_recompute", failing_for_alpha)
    with caplog.at_level(logging.ERROR, logger="analytics.services"):
        results = lagging_recompute()

    assert [r.locality_id for r in results] == [locality_b.pk]
    assert [lag.locality_id for lag in lagging_pairs()] == [locality_a.pk]  # left for the next run
    assert f"locality {locality_a.pk}" in caplog.text
    monkeypatch.setattr(services, "locality_recompute", real)
    lagging_recompute()
    assert lagging_pairs() == []


def test_the_database_out_of_reach_ends_the_reconcilers_run(wave: Wave, locality_a, monkeypatch) -> None:
    from django.db import OperationalError

    from analytics import services

    submit_citizens(wave, "alpha", 5, seed=4)

    def out_of_reach(*, wave_id: int, locality_id: int) -> services.RecomputeResult:
        raise OperationalError("connection to server failed")

    monkeypatch.setattr(services, "locality_recompute", out_of_reach)
    with pytest.raises(OperationalError):
        lagging_recompute()  # one failure, not one per pair: the task fails and beat runs it again


def test_the_rebuild_corrects_tampered_figures_and_logs_it(wave: Wave, locality_a, caplog) -> None:
    submit_citizens(wave, "alpha", 6, seed=7)
    lagging_recompute()
    IndexRow.objects.filter(locality=locality_a, level="overall", audience="citizen").update(estimate=0.999)

    results = indices_rebuild(wave_id=wave.pk)

    assert any(r.changed for r in results)
    assert "rebuild corrected" in caplog.text
    assert_matches(list(IndexRow.objects.filter(locality=locality_a)), expected_indices(wave, locality_a.pk))


def test_analytics_status_and_recompute_commands(wave: Wave, locality_a, capsys) -> None:
    submit_citizens(wave, "alpha", 3, seed=8)
    call_command("analytics_status")
    assert "STALE" in capsys.readouterr().out
    call_command("recompute", all=True)
    call_command("analytics_status", wave=wave.code)
    out = capsys.readouterr().out
    assert "STALE" not in out and "fresh" in out


def test_figures_of_a_locality_whose_responses_are_gone_are_recomputed(wave: Wave, locality_a) -> None:
    from surveys.models import Response

    submit_citizens(wave, "alpha", 3, seed=9)
    lagging_recompute()
    Response.objects.filter(locality=locality_a).delete()

    assert [(lag.locality_id, lag.responses, lag.computed) for lag in lagging_pairs()] == [
        (locality_a.pk, 0, 3)
    ]
    lagging_recompute()
    assert IndexRow.objects.get(locality=locality_a, audience="citizen", level="overall").n == 0
