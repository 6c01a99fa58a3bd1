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
        (r.locality_id, r.level, r.key): r
        for r in GapRow.objects.filter(wave=wave, locality__in=localities, weighted=False)
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


def test_the_reconciler_redoes_q_values_a_lost_task_left_behind(
    wave: Wave, locality_a, locality_b, monkeypatch
) -> None:
    """A recompute clears its locality's q-values and leaves them to a
    wave_qvalues task. When that task is lost (the broker down as the worker
    sends it, the task's pending mark held, the worker killed), every
    locality's figures are fresh, yet the reconciler must still put the
    q-values right: not leave them empty until the nightly rebuild."""
    from analytics import pending
    from analytics.services import lagging_pairs, lagging_recompute, stale_qvalue_waves
    from analytics.tasks import recompute_locality_task

    citizens(wave, "alpha", 20, 0.7, seed=8)
    citizens(wave, "beta", 20, 0.3, seed=9)
    for i in range(3):
        official(wave, locality_a, f"oa{i}", lambda a, i=i: 20 + 9 * i)
        official(wave, locality_b, f"ob{i}", lambda a, i=i: 60 - 9 * i)
    call_command("recompute", wave=wave.code)
    assert_gaps_match(wave, [locality_a, locality_b])

    monkeypatch.setattr(pending, "schedule_qvalues", lambda wave_id: None)  # the q-value task is lost
    citizens(wave, "alpha", 5, 0.1, seed=10)
    recompute_locality_task.apply(args=(wave.pk, locality_a.pk), throw=True)
    assert not lagging_pairs(wave.pk)
    assert GapRow.objects.filter(locality=locality_a, suppressed=False, q_value=None).exclude(p_value=None)

    monkeypatch.setattr(pending, "qvalues_pending", lambda wave_id: True)  # a task on its way: wait for it
    assert stale_qvalue_waves() == []
    monkeypatch.undo()
    assert stale_qvalue_waves() == [wave.pk]

    lagging_recompute()  # what beat runs every minute

    assert_gaps_match(wave, [locality_a, locality_b])
    assert stale_qvalue_waves() == []


def test_the_q_value_mark_tells_whether_a_task_is_on_its_way(wave: Wave) -> None:
    from analytics import pending

    assert not pending.qvalues_pending(wave.pk)
    client = pending.redis_client()
    if client is None:
        pending.cache.add(pending._qvalues_key(wave.pk), 1, 60)
    else:
        client.set(pending.redis_key(pending._qvalues_key(wave.pk)), 1, ex=60)
    assert pending.qvalues_pending(wave.pk)
    pending.clear_qvalues(wave.pk)
    assert not pending.qvalues_pending(wave.pk)


# --- the gap API ---------------------------------------------------------------------


def _client(user):
    from django.test import Client
    from rest_framework.authtoken.models import Token

    return Client(headers={"authorization": "Token " + Token.objects.get_or_create(user=user)[0].key})


@pytest.fixture
def computed(wave: Wave, locality_a, locality_b) -> Wave:
    citizens(wave, "alpha", 12, 0.7, seed=7)
    citizens(wave, "beta", 4, 0.7, seed=8)
    for i in range(3):
        official(wave, locality_a, f"oa{i}", lambda a, i=i: 20 + 10 * i)
    call_command("recompute", wave=wave.code)
    return wave


def test_the_gap_api_returns_documented_rows(computed: Wave, manager) -> None:
    body = _client(manager).get(f"/api/v1/waves/{computed.code}/gaps/?level=overall").json()

    rows = {r["locality"]: r for r in body["results"]}
    alpha = rows["alpha"]
    assert set(alpha) == {
        "wave", "locality", "level", "key", "service_area", "citizens", "officials", "gap", "gap_ci_low",
        "gap_ci_high", "p_value", "q_value", "suppressed", "suppression_reason", "withheld", "weighted",
        "weighting", "computed_at", "watermark",
    }  # fmt: skip
    assert alpha["withheld"] is None
    assert alpha["weighted"] is False and alpha["weighting"] is None
    assert alpha["citizens"]["n"] == 12 and alpha["officials"]["n"] == 3
    assert alpha["gap"] == pytest.approx(alpha["citizens"]["estimate"] - alpha["officials"]["estimate"])
    assert alpha["q_value"] is not None
    assert rows["beta"]["suppressed"] is True and rows["beta"]["gap"] is None
    assert rows["beta"]["citizens"] == {"n": 4, "estimate": None, "ci_low": None, "ci_high": None}


def test_no_suppressed_estimate_leaks_into_json_or_csv(computed: Wave, manager) -> None:
    import csv
    import io

    client = _client(manager)
    rows = client.get(f"/api/v1/waves/{computed.code}/gaps/?locality=beta&page_size=1000").json()["results"]
    assert rows and all(r["suppressed"] for r in rows)
    assert all(r["citizens"]["estimate"] is None and r["gap"] is None and r["p_value"] is None for r in rows)

    response = client.get(f"/api/v1/waves/{computed.code}/gaps/?format=csv")
    assert response["Content-Type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(table) == 2 * (18 + 3 + 1)  # two localities x (activities + service areas + overall)
    for row in table:
        if row["suppressed"] == "True":
            assert row["citizens_estimate"] == row["gap"] == row["p_value"] == row["q_value"] == ""


def test_officials_read_only_their_own_localities(computed: Wave, official_b) -> None:
    rows = _client(official_b).get(f"/api/v1/waves/{computed.code}/gaps/?page_size=1000").json()["results"]
    assert {r["locality"] for r in rows} == {"beta"}


def test_bad_parameters(computed: Wave, manager) -> None:
    client = _client(manager)
    assert client.get(f"/api/v1/waves/{computed.code}/gaps/?level=kind").status_code == 400
    assert client.get(f"/api/v1/waves/{computed.code}/gaps/?weighted=maybe").status_code == 400
    assert client.get("/api/v1/waves/nope/gaps/").status_code == 404


def test_gap_report_command(computed: Wave, capsys) -> None:
    import json

    call_command("gap_report", computed.code)
    table = capsys.readouterr().out
    assert "alpha" in table and "(suppressed: fewer than 10 citizens" in table
    call_command("gap_report", computed.code, "--level", "activity", "--format", "json")
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 2 * 18 and {r["level"] for r in rows} == {"activity"}
    call_command("gap_report", computed.code, "--format", "csv")
    assert capsys.readouterr().out.startswith("wave,locality,level")


def test_the_gap_table_as_an_excel_workbook(computed: Wave, manager) -> None:
    import io

    from openpyxl import load_workbook

    response = _client(manager).get(f"/api/v1/waves/{computed.code}/gaps/?format=xlsx&level=overall")
    assert response["Content-Disposition"].endswith('-gaps.xlsx"')
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert header[:4] == ("wave", "locality", "level", "key")
    by_locality = {r[1]: dict(zip(header, r, strict=True)) for r in data}
    assert by_locality["alpha"]["citizens_n"] == 12 and isinstance(by_locality["alpha"]["gap"], float)
    assert by_locality["beta"]["suppressed"] is True and by_locality["beta"]["gap"] is None
