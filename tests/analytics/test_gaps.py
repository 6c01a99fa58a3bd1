"""Perception gaps: every figure against an independent computation; suppression."""

from __future__ import annotations

import random
import uuid

import pytest
from django.core.management import call_command

from analytics.models import GapRow
from surveys.models import Audience, Locality, Wave
from surveys.services.accounts import official_ensure
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate
from tests.analytics.reference import expected_gaps

pytestmark = pytest.mark.django_db

FIELDS = ("citizens_n", "officials_n", "suppressed", "gap", "gap_ci_low", "gap_ci_high", "p_value", "q_value")


def citizens(wave: Wave, locality: str, n: int, rate: float, seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        response_submit(
            wave=wave, submission_id=uuid.uuid4(), audience=Audience.CITIZEN, locality_code=locality,
            language="en", answers=answers_generate(wave.citizen_version.definition, rng, engaged_rate=lambda a: rate),
        )  # fmt: skip


def official(wave: Wave, locality: Locality, name: str, estimate) -> None:
    user = official_ensure(username=name, password=None, localities=[locality]).user
    answers = answers_generate(wave.official_version.definition, random.Random(name), estimate=estimate)
    response_submit(
        wave=wave, submission_id=uuid.uuid4(), audience=Audience.OFFICIAL, locality_code=locality.code,
        language="en", answers=answers, user=user,
    )  # fmt: skip


def assert_gaps_match(wave: Wave, localities: list[Locality]) -> None:
    expected = expected_gaps(wave, [loc.pk for loc in localities])
    stored = {
        (r.locality_id, r.level, r.key): r for r in GapRow.objects.filter(wave=wave, locality__in=localities)
    }
    assert set(stored) == set(expected)
    for key, want in expected.items():
        for field in FIELDS:
            got = getattr(stored[key], field)
            if want[field] is None or isinstance(want[field], bool | int):
                assert got == want[field], (key, field, got, want[field])
            else:
                assert got == pytest.approx(want[field], abs=1e-9), (key, field)


def test_gaps_equal_an_independent_computation(wave: Wave, locality_a, locality_b) -> None:
    citizens(wave, "alpha", 25, 0.7, seed=1)
    citizens(wave, "beta", 14, 0.4, seed=2)
    for i in range(4):
        official(wave, locality_a, f"oa{i}", lambda a, i=i: 20 + 7 * i + len(a) % 5)
    for i in range(3):
        official(wave, locality_b, f"ob{i}", lambda a, i=i: 50 - 5 * i)

    call_command("recompute", wave=wave.code)

    assert_gaps_match(wave, [locality_a, locality_b])
    assert GapRow.objects.filter(wave=wave, q_value__isnull=False).exists()


def test_small_cells_are_suppressed_with_a_reason_and_keep_their_counts(
    wave: Wave, locality_a, locality_b
) -> None:
    citizens(wave, "alpha", 9, 0.5, seed=3)  # one below the citizen threshold of 10
    citizens(wave, "beta", 10, 0.5, seed=4)  # exactly at it
    official(wave, locality_a, "oa", lambda a: 30)
    for i in range(2):  # one below the official threshold of 3
        official(wave, locality_b, f"ob{i}", lambda a: 30)

    call_command("recompute", wave=wave.code)

    alpha = GapRow.objects.get(wave=wave, locality=locality_a, level="overall")
    beta = GapRow.objects.get(wave=wave, locality=locality_b, level="overall")
    assert alpha.suppressed and "fewer than 10 citizens" in alpha.suppression_reason
    assert "fewer than 3 officials" in alpha.suppression_reason
    assert beta.suppressed and beta.suppression_reason == "fewer than 3 officials"
    assert (alpha.citizens_n, beta.citizens_n, beta.officials_n) == (9, 10, 2)
    for row in GapRow.objects.filter(wave=wave):
        assert (
            row.citizens_estimate is row.officials_estimate is row.gap is row.p_value is row.q_value is None
        )
    assert_gaps_match(wave, [locality_a, locality_b])


def test_identical_officials_and_unanimous_citizens_give_no_p_value(wave: Wave, locality_a) -> None:
    """p = 1 with every official at 100%: the test's denominator is 0."""
    Wave.objects.filter(pk=wave.pk).update(min_citizens=3, min_officials=2)
    wave.refresh_from_db()
    citizens(wave, "alpha", 5, 1.0, seed=5)
    for i in range(2):
        official(wave, locality_a, f"o{i}", lambda a: 100)

    call_command("recompute", wave=wave.code)

    row = GapRow.objects.get(wave=wave, locality=locality_a, level="activity", key="environment.recycle")
    assert row.gap == pytest.approx(0.0)
    assert row.p_value is None and row.q_value is None
    assert_gaps_match(wave, [locality_a])


def test_changing_a_threshold_recomputes_suppression(wave: Wave, locality_a) -> None:
    from analytics.services import lagging_pairs, lagging_recompute

    citizens(wave, "alpha", 6, 0.5, seed=6)
    for i in range(3):
        official(wave, locality_a, f"o{i}", lambda a, i=i: 10 + i)
    lagging_recompute()
    assert GapRow.objects.get(locality=locality_a, level="overall").suppressed

    Wave.objects.filter(pk=wave.pk).update(min_citizens=5)
    assert lagging_pairs()  # new thresholds: the figures lag
    lagging_recompute()
    assert not GapRow.objects.get(locality=locality_a, level="overall").suppressed
