"""The weighted variant of the gaps: citizens weighted to their locality's
population by age band x gender, checked against an independent computation."""

from __future__ import annotations

import csv
import io
import json
import random
import uuid
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from analytics.models import GapRow, LocalityState
from analytics.services import lagging_pairs
from analytics.weighting import WeightingImpossible, citizen_weights
from surveys.models import Audience, Locality, Wave
from surveys.services.population import population_set
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate
from tests.analytics.reference import expected_weighted_gaps, reference_weights
from tests.analytics.test_gaps import _client, official

pytestmark = pytest.mark.django_db

MIN_CELL = 5
FIELDS = (
    "citizens_n", "officials_n", "suppressed", "citizens_estimate", "citizens_ci_low", "citizens_ci_high",
    "citizens_n_effective", "gap", "gap_ci_low", "gap_ci_high", "p_value", "q_value",
)  # fmt: skip

# Alpha: every cell has respondents enough -> post-stratification.
ALPHA = {"18_29": {"female": 300, "male": 200}, "30_44": {"female": 100, "male": 400}}
# Beta: the young men cell is empty in the sample -> raking to the margins.
BETA = {"18_29": {"female": 250, "male": 250}, "45_59": {"female": 300, "male": 200}}


def citizens_in(wave: Wave, locality: str, cells: dict[tuple[str, str | None], int], seed: int) -> None:
    """Citizens of the given (age band, gender) cells, engaged more often when young."""
    rng = random.Random(seed)
    for (band, gender), n in cells.items():
        rate = 0.8 if band == "18_29" else 0.3
        for _ in range(n):
            answers = answers_generate(wave.citizen_version.definition, rng, engaged_rate=lambda a, r=rate: r)
            answers["age_band"] = band
            answers["gender"] = gender
            response_submit(
                wave=wave, submission_id=uuid.uuid4(), audience=Audience.CITIZEN, locality_code=locality,
                language="en", answers=answers,
            )  # fmt: skip


def officials(wave: Wave, locality: Locality, prefix: str) -> None:
    for i in range(3):
        official(wave, locality, f"{prefix}{i}", lambda a, i=i: 25 + 9 * i + len(a) % 7)


def assert_weighted_match(wave: Wave, localities: list[Locality]) -> None:
    expected = expected_weighted_gaps(wave, [loc.pk for loc in localities], MIN_CELL)
    stored = {
        (r.locality_id, r.level, r.key): r
        for r in GapRow.objects.filter(wave=wave, locality__in=localities, weighted=True)
    }
    assert set(stored) == set(expected)
    for key, want in expected.items():
        assert stored[key].weighting_method == want["method"], key
        for field in FIELDS:
            got = getattr(stored[key], field)
            if want[field] is None or isinstance(want[field], bool | int):
                assert got == want[field], (key, field, got, want[field])
            else:
                # Raking stops at a relative misfit of 1e-7, the reference at 1e-12.
                assert got == pytest.approx(want[field], rel=1e-5, abs=1e-7), (key, field)


@pytest.fixture
def weighted_wave(wave: Wave, locality_a: Locality, locality_b: Locality) -> Wave:
    population_set(locality=locality_a, margins=ALPHA)
    population_set(locality=locality_b, margins=BETA)
    citizens_in(
        wave, "alpha",
        {("18_29", "female"): 6, ("18_29", "male"): 14, ("30_44", "female"): 9, ("30_44", "male"): 7,
         ("30_44", "other"): 2, ("60_74", "female"): 3},
        seed=1,
    )  # fmt: skip
    citizens_in(
        wave, "beta",
        {("18_29", "female"): 12, ("45_59", "female"): 4, ("45_59", "male"): 9, ("18_29", "prefer_not"): 1},
        seed=2,
    )  # fmt: skip
    officials(wave, locality_a, "oa")
    officials(wave, locality_b, "ob")
    call_command("recompute", wave=wave.code)
    return wave


def test_weighted_gaps_equal_an_independent_computation(weighted_wave: Wave, locality_a, locality_b) -> None:
    assert_weighted_match(weighted_wave, [locality_a, locality_b])
    methods = dict(GapRow.objects.filter(weighted=True).values_list("locality__code", "weighting_method"))
    assert methods == {"alpha": "poststratification", "beta": "raking"}
    # The unweighted rows are all still there, untouched by the variant.
    assert GapRow.objects.filter(wave=weighted_wave, weighted=False).count() == 2 * (18 + 3 + 1)
    # Weighting moves the figures: alpha's sample over-represents young men.
    overall = {r.weighted: r for r in GapRow.objects.filter(locality=locality_a, level="overall")}
    assert overall[True].citizens_estimate != pytest.approx(overall[False].citizens_estimate, abs=1e-3)
    assert overall[True].citizens_n_effective < overall[True].citizens_n


def test_weights_reproduce_the_population() -> None:
    rng = random.Random(3)
    cells = [("18_29", "female")] * 6 + [("18_29", "male")] * 9 + [("30_44", "female")] * 5
    cells += [("30_44", "male")] * 12 + [("30_44", "other")] * 2
    rng.shuffle(cells)
    citizens = [(i, {"age_band": b, "gender": g}) for i, (b, g) in enumerate(cells, start=1)]
    weighting = citizen_weights(citizens, ALPHA, min_cell=MIN_CELL)
    assert weighting.method == "poststratification" and weighting.excluded == 2
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for rid, answers in citizens:
        if rid in weighting.weights:
            totals[(answers["age_band"], answers["gender"])] += weighting.weights[rid]
    assert totals == pytest.approx({(b, g): n for b, by_g in ALPHA.items() for g, n in by_g.items()})

    # Without young men no weights can give 500 people aged 18-29 and only 400
    # women: raking cannot converge, and says so rather than report anything.
    no_young_men = [c for c in citizens if c[1]["age_band"] != "18_29" or c[1]["gender"] != "male"]
    with pytest.raises(WeightingImpossible, match="did not converge"):
        citizen_weights(no_young_men, ALPHA, min_cell=MIN_CELL)

    # Raking: the young men cell is empty, so only the margins can be matched.
    cells = [("18_29", "female")] * 7 + [("45_59", "female")] * 5 + [("45_59", "male")] * 8
    raked = [(i, {"age_band": b, "gender": g}) for i, (b, g) in enumerate(cells, start=1)]
    weighting = citizen_weights(raked, BETA, min_cell=MIN_CELL)
    assert weighting.method == "raking" and weighting.excluded == 0
    method, reference = reference_weights(pd.Series(cells), BETA, MIN_CELL)
    assert method == "raking"
    assert [weighting.weights[rid] for rid, _a in raked] == pytest.approx(list(reference), rel=1e-6)
    margin: dict[str, float] = defaultdict(float)
    for rid, answers in raked:
        margin[answers["age_band"]] += weighting.weights[rid]
        margin[answers["gender"]] += weighting.weights[rid]
    assert margin == pytest.approx({"18_29": 500, "45_59": 500, "female": 550, "male": 450}, rel=1e-6)


def test_a_sample_that_mirrors_the_population_gives_the_unweighted_figures(
    wave: Wave, locality_a: Locality
) -> None:
    """Equal weights: the weighted figures equal the unweighted ones and n_eff = n."""
    population_set(
        locality=locality_a, margins={"18_29": {"female": 600, "male": 600}, "30_44": {"female": 1200}}
    )
    citizens_in(
        wave, "alpha", {("18_29", "female"): 5, ("18_29", "male"): 5, ("30_44", "female"): 10}, seed=4
    )
    officials(wave, locality_a, "oa")
    call_command("recompute", wave=wave.code)
    rows = defaultdict(dict)
    for row in GapRow.objects.filter(locality=locality_a):
        rows[(row.level, row.key)][row.weighted] = row
    assert len(rows) == 18 + 3 + 1
    for (level, key), pair in rows.items():
        plain, weighted = pair[False], pair[True]
        assert weighted.citizens_n == plain.citizens_n
        assert not weighted.suppressed, (level, key)
        assert weighted.citizens_n_effective == pytest.approx(plain.citizens_n)
        for field in (
            "citizens_estimate",
            "citizens_ci_low",
            "citizens_ci_high",
            "gap",
            "gap_ci_low",
            "p_value",
        ):
            assert getattr(weighted, field) == pytest.approx(getattr(plain, field), abs=1e-9), (
                level,
                key,
                field,
            )


def test_too_few_respondents_to_weight_suppresses_every_weighted_row(
    weighted_wave: Wave, locality_a, settings
) -> None:
    settings.ANALYTICS_WEIGHTING_MIN_CELL = 16
    call_command("recompute", wave=weighted_wave.code)
    rows = list(GapRow.objects.filter(locality=locality_a, weighted=True))
    assert len(rows) == 18 + 3 + 1
    for row in rows:
        assert row.suppressed and row.citizens_estimate is None and row.gap is None
        assert row.citizens_n_effective is None and row.q_value is None
        # Which group is short, never its exact count (a small cell).
        assert row.suppression_reason == "too few respondents to weight (fewer than 16 in gender female)"
    # 20 aged 18-29 and 16 aged 30-44 are enough; the 3 aged 60-74 are outside the table.


def test_weighted_rows_under_the_citizen_threshold_are_suppressed_everywhere(
    weighted_wave: Wave, manager, capsys
) -> None:
    """Beta weights (25 citizens in the table) but falls under a threshold of 30:
    its weighted rows keep their counts and method, and no figure of theirs
    reaches the API, the CSV, the page or the command."""
    Wave.objects.filter(pk=weighted_wave.pk).update(min_citizens=30)
    weighted_wave.refresh_from_db()
    call_command("recompute", wave=weighted_wave.code)
    assert_weighted_match(weighted_wave, list(Locality.objects.filter(code__in=["alpha", "beta"])))
    beta = list(GapRow.objects.filter(locality__code="beta", weighted=True))
    assert beta and all(r.suppressed and r.weighting_method == "raking" for r in beta)
    assert {r.suppression_reason for r in beta} == {"fewer than 30 citizens"}
    assert all(r.citizens_estimate is None and r.citizens_n_effective is None for r in beta)
    assert not GapRow.objects.filter(locality__code="alpha", level="overall", weighted=True, suppressed=True)

    client = _client(manager)
    rows = client.get(f"/api/v1/waves/{weighted_wave.code}/gaps/?weighted=true&locality=beta&page_size=1000")
    for row in rows.json()["results"]:
        assert row["citizens"]["estimate"] is None and row["gap"] is None and row["p_value"] is None
        assert row["weighting"] == {"method": "raking", "citizens_n_effective": None}
    page = Client()
    page.force_login(manager)
    html = page.get(f"/dashboard/{weighted_wave.code}/beta/").content.decode()
    weighted_table = html[html.index('id="weighted-title"') :]
    assert (
        "withheld" in weighted_table and "%" not in weighted_table.split("</table>")[0].split("</thead>")[1]
    )
    call_command("gap_report", weighted_wave.code, "--weighted")
    out = capsys.readouterr().out
    assert "beta             overall                          (suppressed: fewer than 30 citizens)" in out


def test_a_weighting_failure_never_stops_the_unweighted_figures(weighted_wave: Wave, locality_a) -> None:
    """A population table written behind the service's back with a bad count:
    the recompute still stores the unweighted figures, and the weighted rows
    say that weighting failed."""
    Locality.objects.filter(pk=locality_a.pk).update(population_margins={"18_29": {"female": "many"}})
    citizens_in(weighted_wave, "alpha", {("18_29", "female"): 1}, seed=9)
    call_command("recompute", wave=weighted_wave.code)
    overall = GapRow.objects.get(locality=locality_a, level="overall", weighted=False)
    assert overall.citizens_n == 41 + 1 and overall.citizens_estimate is not None  # the new one is in
    weighted = list(GapRow.objects.filter(locality=locality_a, weighted=True))
    assert len(weighted) == 22 and all(r.suppressed for r in weighted)
    assert {r.suppression_reason for r in weighted} == {"weighting failed (TypeError); see the worker log"}


def test_changed_or_removed_population_figures_recompute(
    weighted_wave: Wave, locality_a, django_capture_on_commit_callbacks, settings
) -> None:
    # The recompute the change schedules runs in-process here, broker or not
    # (the transport is the one tests/analytics/test_pipeline.py exercises).
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = GapRow.objects.get(locality=locality_a, level="overall", weighted=True).citizens_estimate
    with django_capture_on_commit_callbacks(execute=True):
        population_set(locality=locality_a, margins={**ALPHA, "18_29": {"female": 900, "male": 900}})
    after = GapRow.objects.get(locality=locality_a, level="overall", weighted=True).citizens_estimate
    assert after > before  # the young, who engage more, count for more now
    assert not lagging_pairs(weighted_wave.pk)

    # Changed behind the service's back (a raw update): the reconciler notices.
    Locality.objects.filter(pk=locality_a.pk).update(population_margins=ALPHA)
    assert [(lag.wave_id, lag.locality_id) for lag in lagging_pairs(weighted_wave.pk)] == [
        (weighted_wave.pk, locality_a.pk)
    ]
    call_command("recompute", wave=weighted_wave.code)
    assert GapRow.objects.get(locality=locality_a, level="overall", weighted=True).citizens_estimate == before

    with django_capture_on_commit_callbacks(execute=True):
        population_set(locality=locality_a, margins=None)
    assert not GapRow.objects.filter(locality=locality_a, weighted=True).exists()
    assert GapRow.objects.filter(locality=locality_a, weighted=False).count() == 22
    assert LocalityState.objects.get(wave=weighted_wave, locality=locality_a).weighting == ""


def test_the_api_labels_weighted_rows_and_keeps_the_unweighted(weighted_wave: Wave, manager) -> None:
    client = _client(manager)
    url = f"/api/v1/waves/{weighted_wave.code}/gaps/?level=overall"
    plain = {r["locality"]: r for r in client.get(url).json()["results"]}
    weighted = {r["locality"]: r for r in client.get(url + "&weighted=true").json()["results"]}
    assert set(plain) == set(weighted) == {"alpha", "beta"}
    assert all(r["weighted"] is False and r["weighting"] is None for r in plain.values())
    alpha = weighted["alpha"]
    assert alpha["weighted"] is True
    assert alpha["weighting"]["method"] == "poststratification"
    row = GapRow.objects.get(locality__code="alpha", level="overall", weighted=True)
    assert alpha["weighting"]["citizens_n_effective"] == pytest.approx(row.citizens_n_effective)
    assert alpha["citizens"]["estimate"] == pytest.approx(row.citizens_estimate)
    assert alpha["citizens"]["estimate"] != pytest.approx(plain["alpha"]["citizens"]["estimate"], abs=1e-3)

    response = client.get(f"/api/v1/waves/{weighted_wave.code}/gaps/?weighted=1&format=csv")
    assert "gaps-weighted.csv" in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(table) == 2 * 22 and {r["weighted"] for r in table} == {"True"}
    assert {r["weighting_method"] for r in table} == {"poststratification", "raking"}
    for r in table:
        if r["suppressed"] == "True":
            assert r["citizens_estimate"] == r["citizens_n_effective"] == r["gap"] == r["p_value"] == ""


def test_officials_read_only_their_own_weighted_rows(weighted_wave: Wave, official_b) -> None:
    url = f"/api/v1/waves/{weighted_wave.code}/gaps/?weighted=true&page_size=1000"
    rows = _client(official_b).get(url).json()["results"]
    assert rows and {r["locality"] for r in rows} == {"beta"}


def test_the_locality_page_shows_the_weighted_variant_apart(weighted_wave: Wave, manager, locality_b) -> None:
    client = Client()
    client.force_login(manager)
    page = client.get(f"/dashboard/{weighted_wave.code}/alpha/").content.decode()
    assert "Weighted to the population by age band and gender" in page
    assert "post-stratification" in page and "Effective sample size" in page
    population_set(locality=locality_b, margins=None)
    call_command("recompute", wave=weighted_wave.code)
    assert (
        "Weighted to the population"
        not in client.get(f"/dashboard/{weighted_wave.code}/beta/").content.decode()
    )


def test_gap_report_weighted(weighted_wave: Wave, capsys) -> None:
    call_command("gap_report", weighted_wave.code, "--weighted")
    out = capsys.readouterr().out
    assert out.startswith("WEIGHTED") and "poststratification, n_eff" in out and "raking" in out
    call_command("gap_report", weighted_wave.code, "--weighted", "--format", "json")
    rows = json.loads(capsys.readouterr().out)
    assert {r["weighted"] for r in rows} == {True} and len(rows) == 2


def test_load_population_file(wave: Wave, locality_a, locality_b, tmp_path: Path, capsys) -> None:
    good = tmp_path / "population.csv"
    good.write_text(
        "locality,age_band,gender,population\n"
        "alpha,18_29,female,300\nalpha,18_29,male,200\nalpha,30_44,female,100\nbeta,45_59,male,50\n"
    )
    call_command("load_population", str(good))
    assert "alpha: 600 people in 3 cells" in capsys.readouterr().out
    locality_a.refresh_from_db()
    assert locality_a.population_margins == {"18_29": {"female": 300, "male": 200}, "30_44": {"female": 100}}

    bad = tmp_path / "bad.csv"
    bad.write_text(
        "locality,age_band,gender,population\n"
        "alpha,18_29,female,1\nbeta,16_17,female,10\ngamma,18_29,male,x\nalpha,18_29,female,2\n"
    )
    with pytest.raises(CommandError) as refused:
        call_command("load_population", str(bad))
    message = str(refused.value)
    assert "line 3: age band '16_17' is not one of" in message
    assert "line 4: unknown locality 'gamma'" in message and "population 'x' is not a whole number" in message
    assert "line 5: alpha 18_29 female appears twice" in message
    locality_a.refresh_from_db()
    assert locality_a.population_margins["18_29"]["female"] == 300  # nothing written

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("place,band,sex,count\nalpha,18_29,female,1\n")
    with pytest.raises(CommandError, match="expected the columns locality,age_band,gender,population"):
        call_command("load_population", str(wrong))


def test_the_gap_table_switches_to_the_weighted_figures(weighted_wave: Wave, manager) -> None:
    client = Client()
    client.force_login(manager)
    url = f"/dashboard/{weighted_wave.code}/gaps/?level=overall"
    plain = client.get(url).content.decode()
    weighted = client.get(url + "&weighted=1").content.decode()
    assert "weighted to the population by age band and gender" not in plain and "effective n" not in plain
    assert "weighted to the population by age band and gender" in weighted
    row = GapRow.objects.get(locality__code="alpha", level="overall", weighted=True)
    assert (
        f'{round(row.citizens_estimate * 100)}% <span class="n-eff">(effective n {row.citizens_n_effective:.0f})'
        in weighted
    )
    assert "weighted=1" in weighted  # sort and page links keep the choice
    assert "format=csv&amp;level=overall&amp;weighted=true" in weighted


def test_weighting_notes_are_stored_as_codes_and_read_in_the_readers_language(
    weighted_wave: Wave, locality_a, manager, settings
) -> None:
    # Given a locality whose respondents are too few to weight
    settings.ANALYTICS_WEIGHTING_MIN_CELL = 16
    call_command("recompute", wave=weighted_wave.code)

    # Then the reason is stored as a code with its parameters (the English text stays for the API)
    row = GapRow.objects.get(locality=locality_a, level="overall", weighted=True)
    assert row.suppression_notes == [
        {"code": "too_few_to_weight", "min": 16, "age_bands": [], "genders": ["female"]}
    ]
    assert row.suppression_reason == "too few respondents to weight (fewer than 16 in gender female)"

    # And a French reader gets it in French, with the questionnaire's label for the group
    client = Client()
    client.force_login(manager)
    page = client.get(f"/dashboard/{weighted_wave.code}/alpha/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    weighted_table = page[page.index('id="weighted-title"') :]
    assert "pas assez de répondants pour pondérer (moins de 16 dans : genre Femme)" in weighted_table
    assert "too few respondents" not in page


def test_service_areas_and_threshold_notes_are_named_in_the_readers_language(
    weighted_wave: Wave, manager
) -> None:
    Wave.objects.filter(pk=weighted_wave.pk).update(min_citizens=30)  # beta falls under it
    call_command("recompute", wave=weighted_wave.code)
    client = Client()
    client.force_login(manager)

    page = client.get(f"/dashboard/{weighted_wave.code}/beta/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()

    weighted_table = page[page.index('id="weighted-title"') :]
    headers = [h.split(">", 1)[1] for h in weighted_table.split('<th scope="row"')[1:]]
    areas = [h.split("<", 1)[0] for h in headers[1:4]]
    assert sorted(areas) == ["Environnement local", "Santé", "Sécurité de proximité"]
    assert "moins de 30 habitants" in weighted_table and "fewer than" not in page
    table = client.get(
        f"/dashboard/{weighted_wave.code}/gaps/?level=service_area", HTTP_ACCEPT_LANGUAGE="de"
    ).content.decode()
    assert ">Gesundheit</option>" in table and ">Gesundheit</td>" in table
    assert ">health<" not in table
