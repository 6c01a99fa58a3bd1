"""Officials never receive a figure computed from other officials' answers, and
see citizens' figures only once they have answered themselves.

With three officials and their own answer known, an official could solve the
officials' mean and s.d. (or a gap's interval, p or q, which carry the
officials' spread) for their colleagues' answers exactly. Survey managers and
analysts read every figure.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token

from surveys.models import Locality, Wave
from surveys.services.accounts import official_ensure, role_groups_ensure
from tests.analytics.test_gaps import citizens, official

pytestmark = pytest.mark.django_db

OFFICIALS_FIGURES = ("gap", "gap_ci_low", "gap_ci_high", "p_value", "q_value")
SPREAD = ("estimate", "ci_low", "ci_high", "mean_score", "sd")


@pytest.fixture
def computed(wave: Wave, locality_a: Locality, locality_b: Locality, official_a) -> Wave:
    """Alpha: 15 citizens and three officials (official_a and two colleagues)
    who answer 7, 8 and 9 for every activity. Beta: 12 citizens and three
    officials who answer 50."""
    citizens(wave, "alpha", 15, 0.8, seed=31)
    citizens(wave, "beta", 12, 0.8, seed=32)
    official(wave, locality_a, official_a.username, lambda a: 7)
    official(wave, locality_a, "colleague-1", lambda a: 8)
    official(wave, locality_a, "colleague-2", lambda a: 9)
    for i in range(3):
        official(wave, locality_b, f"ob{i}", lambda a: 50)
    call_command("recompute", wave=wave.code)
    return wave


@pytest.fixture
def newcomer(locality_a: Locality):
    """An official of alpha who has not answered yet."""
    return official_ensure(username="nina-new", password=None, localities=[locality_a]).user


@pytest.fixture
def analyst(django_user_model):
    user = django_user_model.objects.create_user("ana")
    user.groups.add(role_groups_ensure()["Analysts"])
    return user


def api(user) -> Client:
    return Client(headers={"authorization": "Token " + Token.objects.get_or_create(user=user)[0].key})


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows(user, wave: Wave, what: str, query: str = "") -> list[dict]:
    return api(user).get(f"/api/v1/waves/{wave.code}/{what}/?page_size=1000&{query}").json()["results"]


def shares(page: str) -> set[int]:
    """Every whole percentage on a page (84%, and both ends of a range 55-93%,
    written with an en dash)."""
    return {int(v) for v in re.findall(r"(?<![\d.])(\d{1,3})(?=%|\u2013)", page)}


# --- the API -------------------------------------------------------------------------


def test_an_official_gets_no_officials_index_figure(computed: Wave, official_a) -> None:
    found = rows(official_a, computed, "indices", "audience=official")

    assert found and {r["locality"] for r in found} == {"alpha"}
    assert all(r[field] is None for r in found for field in SPREAD)
    assert {r["withheld"] for r in found} == {"officials_answers"}
    assert {r["n"] for r in found} == {3}  # counts stay
    assert not any(r["suppressed"] for r in found)  # withheld for this caller, not suppressed


def test_an_official_keeps_the_citizens_index_figures(computed: Wave, official_a) -> None:
    found = rows(official_a, computed, "indices", "audience=citizen&level=overall")

    assert [r["withheld"] for r in found] == [None]
    assert found[0]["estimate"] is not None and found[0]["ci_low"] is not None and found[0]["sd"] is not None


def test_an_official_gets_the_citizens_side_of_a_gap_and_nothing_of_the_officials(
    computed: Wave, official_a
) -> None:
    found = rows(official_a, computed, "gaps")

    assert len(found) == 18 + 3 + 1
    for row in found:
        assert row["withheld"] == "officials_answers"
        assert row["officials"] == {"n": 3, "estimate": None, "ci_low": None, "ci_high": None}
        assert all(row[field] is None for field in OFFICIALS_FIGURES)
        assert row["citizens"]["estimate"] is not None and row["citizens"]["ci_low"] is not None
        assert row["suppressed"] is False and row["suppression_reason"] == ""


def test_the_gap_files_withhold_the_same(computed: Wave, official_a) -> None:
    response = api(official_a).get(f"/api/v1/waves/{computed.code}/gaps/?format=csv")
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))

    assert len(table) == 18 + 3 + 1
    for row in table:
        assert row["withheld"] == "officials_answers"
        assert row["officials_n"] == "3" and row["citizens_estimate"] != ""
        assert all(row[f] == "" for f in ("officials_estimate", "officials_ci_low", "officials_ci_high"))
        assert all(row[f] == "" for f in OFFICIALS_FIGURES)


def test_before_answering_an_official_gets_no_figure_at_all(computed: Wave, newcomer) -> None:
    gaps = rows(newcomer, computed, "gaps")
    indices = rows(newcomer, computed, "indices")

    assert gaps and indices
    assert {r["withheld"] for r in gaps + indices} == {"answer_first"}
    assert all(r["citizens"]["estimate"] is None and r["officials"]["estimate"] is None for r in gaps)
    assert all(r["citizens"]["n"] == 15 for r in gaps if r["level"] == "overall")
    assert all(r[field] is None for r in indices for field in SPREAD)


@pytest.mark.parametrize("role", ["manager", "analyst"])
def test_survey_managers_and_analysts_read_every_figure(computed: Wave, role: str, request) -> None:
    user = request.getfixturevalue(role)
    gaps = [r for r in rows(user, computed, "gaps") if r["locality"] == "alpha"]
    indices = rows(user, computed, "indices", "audience=official&locality=alpha")

    assert {r["withheld"] for r in gaps + indices} == {None}
    overall = next(r for r in gaps if r["level"] == "overall")
    assert overall["officials"]["estimate"] == pytest.approx(0.08)
    assert None not in (overall["gap_ci_low"], overall["p_value"], overall["q_value"])
    assert all(r["sd"] is not None for r in indices)


def test_an_official_who_is_also_an_analyst_reads_every_figure(computed: Wave, official_a) -> None:
    official_a.groups.add(role_groups_ensure()["Analysts"])

    assert {r["withheld"] for r in rows(official_a, computed, "gaps")} == {None}


# --- the pages -----------------------------------------------------------------------


def test_the_locality_page_shows_an_official_the_citizens_only(computed: Wave, official_a, manager) -> None:
    url = f"/dashboard/{computed.code}/alpha/"
    full = browser(manager).get(url).content.decode()
    assert {7, 8, 9} & shares(full), "the manager sees the officials' mean (8%)"

    page = browser(official_a).get(url).content.decode()

    assert not {7, 8, 9} & shares(page)
    assert "officials estimate" not in page
    assert 'stroke="#b35900"' not in page  # no officials' circle or interval in the chart
    assert "<svg" in page and "of residents say they do it" in page
    assert "Officials' estimates are not shown to officials" in page
    table = page.split('id="activities-title">Activities</h2>')[1]
    assert '<th scope="col">Officials</th>' not in table and '<th scope="col">Gap</th>' not in table


def test_the_gap_table_and_the_overview_show_an_official_no_officials_figure(
    computed: Wave, official_a
) -> None:
    client = browser(official_a)
    for query in ("", "?level=overall", "?level=service_area&sort=-gap", "?sort=q"):
        table = client.get(f"/dashboard/{computed.code}/gaps/{query}").content.decode().split("<h1")[1]
        assert not {7, 8, 9} & shares(table), query
        assert '<th scope="col">Officials</th>' not in table and "significant" not in table
        assert "sort=q" not in table and "sort=-gap" not in table  # no ordering by a withheld figure
        assert "Alpha" in table

    # No order at all that follows a withheld figure, whatever the query asks.
    def body(query: str) -> str:
        page = client.get(f"/dashboard/{computed.code}/gaps/{query}").content.decode()
        return page.split("<tbody>")[1].split("</tbody>")[0]

    by_locality = body("?sort=locality")
    for query in ("", "?sort=zzz", "?sort=-zzz", "?sort=gap", "?sort=-q"):
        assert body(query) == by_locality, query

    overview = client.get(f"/dashboard/{computed.code}/").content.decode()
    assert "heatmap" not in overview and "Largest significant gaps" not in overview
    assert "Officials' estimates are not shown to officials" in overview


def test_published_results_withhold_officials_figures_from_officials_and_visitors(
    computed: Wave, official_a, manager
) -> None:
    Wave.objects.filter(pk=computed.pk).update(results_public=True)
    url = f"/results/{computed.code}/"
    assert {7, 8, 9} & shares(browser(manager).get(url).content.decode())  # survey managers see them
    # Signed out, an official would read what they are refused signed in.
    Wave.objects.filter(pk=computed.pk).update(status="closed")
    visitor = Client().get(url).content.decode()
    assert "Alpha" in visitor and not {7, 8, 9} & shares(visitor)

    page = browser(official_a).get(url).content.decode()

    assert "Alpha" in page and not {7, 8, 9} & shares(page)
    assert '<th scope="col">Officials</th>' not in page


def test_before_answering_an_official_sees_no_figure_on_any_page(computed: Wave, newcomer) -> None:
    client = browser(newcomer)

    locality = client.get(f"/dashboard/{computed.code}/alpha/").content.decode()
    assert "Answer the questionnaire for this locality first" in locality
    assert f'action="/official/{computed.code}/alpha/start/"' in locality
    assert not shares(locality.split("<h1")[1]) and "<svg" not in locality and "<table" not in locality

    table = client.get(f"/dashboard/{computed.code}/gaps/").content.decode()
    assert not shares(table.split("<h1")[1])
    assert "Answer the questionnaire for these localities first: Alpha" in table

    Wave.objects.filter(pk=computed.pk).update(results_public=True)
    results = client.get(f"/results/{computed.code}/").content.decode()
    alpha = results.split('<th scope="row">Alpha</th>')[1:]
    assert alpha and all(not shares(row.split("</tr>")[0]) for row in alpha)
    beta = results.split('<th scope="row">Beta</th>')[1:]
    assert beta and all(shares(row.split("</tr>")[0]) for row in beta)  # not theirs: published
