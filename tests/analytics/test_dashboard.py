"""Dashboard pages: who sees what, rendering at 0, 1 and many responses, no leaks."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.test import Client

from surveys.models import Wave
from tests.analytics.test_gaps import citizens, official

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def computed(wave: Wave, locality_a, locality_b) -> Wave:
    citizens(wave, "alpha", 15, 0.8, seed=11)
    for i in range(3):
        official(wave, locality_a, f"oa{i}", lambda a, i=i: 20 + 5 * i)
    citizens(wave, "beta", 1, 0.8, seed=12)
    call_command("recompute", wave=wave.code)
    return wave


def test_a_manager_sees_the_overview_the_table_and_every_locality(computed: Wave, manager) -> None:
    client = client_for(manager)
    overview = client.get(f"/dashboard/{computed.code}/").content.decode()
    assert "Alpha" in overview and "Beta" in overview
    assert client.get(f"/dashboard/{computed.code}/gaps/?level=overall&sort=-gap").status_code == 200
    page = client.get(f"/dashboard/{computed.code}/alpha/").content.decode()
    assert "<svg" in page and "<table" in page
    assert "officials estimate" in page


def test_suppressed_figures_never_reach_a_page(computed: Wave, manager) -> None:
    """Beta has one citizen and no official: every figure is withheld."""
    client = client_for(manager)
    page = client.get(f"/dashboard/{computed.code}/beta/").content.decode()
    assert "Too few people have answered" in page
    assert "<svg" not in page
    assert "%" not in page.split('id="activities-title"')[1]  # the activity table shows reasons, not shares
    table = client.get(f"/dashboard/{computed.code}/gaps/").content.decode()
    assert "fewer than 10 citizens" in table


def test_an_empty_locality_renders(wave: Wave, manager, locality_a) -> None:
    call_command("recompute", wave=wave.code)
    assert client_for(manager).get(f"/dashboard/{wave.code}/alpha/").status_code == 200


def test_officials_see_only_their_own_localities(computed: Wave, official_a, official_b) -> None:
    client = client_for(official_b)
    assert client.get(f"/dashboard/{computed.code}/beta/").status_code == 200
    assert client.get(f"/dashboard/{computed.code}/alpha/").status_code == 404
    overview = client.get(f"/dashboard/{computed.code}/").content.decode()
    assert "Beta" in overview and "Alpha" not in overview


def test_others_are_refused(computed: Wave, django_user_model) -> None:
    assert Client().get(f"/dashboard/{computed.code}/")["Location"].startswith("/accounts/login/")
    nobody = client_for(django_user_model.objects.create_user("nobody"))
    assert nobody.get(f"/dashboard/{computed.code}/").status_code == 403


def test_public_results_only_when_published_and_never_with_small_cells(computed: Wave) -> None:
    anonymous = Client()
    assert anonymous.get(f"/results/{computed.code}/").status_code == 404
    Wave.objects.filter(pk=computed.pk).update(results_public=True)
    # While it takes answers, nothing: signed out, an official would read
    # what they may only after answering.
    waiting = anonymous.get(f"/results/{computed.code}/").content.decode()
    assert "once the survey has closed" in waiting and "%" not in waiting.split("<h1")[1]
    Wave.objects.filter(pk=computed.pk).update(status="closed")

    page = anonymous.get(f"/results/{computed.code}/").content.decode()

    assert "Alpha" in page and "withheld" in page
    beta_rows = page.split("Beta")[1:]
    assert beta_rows and all("%" not in chunk.split("</tr>")[0] for chunk in beta_rows)
    # Residents' figures only: an official could sign out to read the
    # officials' mean and spread here, and work out colleagues' answers.
    assert '<th scope="col">Officials</th>' not in page and "not published" in page


def test_published_results_show_the_gaps_to_survey_managers(computed: Wave, manager) -> None:
    Wave.objects.filter(pk=computed.pk).update(results_public=True)
    page = client_for(manager).get(f"/results/{computed.code}/").content.decode()
    assert '<th scope="col">Officials</th>' in page and '<th scope="col">Gap</th>' in page
    assert "not published" not in page


def test_the_overview_has_a_service_area_heatmap_without_small_cells(computed: Wave, manager) -> None:
    page = client_for(manager).get(f"/dashboard/{computed.code}/").content.decode()
    heatmap = page.split('class="comparison heatmap"')[1].split("</table>")[0]
    assert all(area in heatmap for area in ("Local environment", "Health", "Community safety"))
    beta = heatmap.split("Beta")[1].split("</tr>")[0]
    assert beta.count("withheld") == 3


def test_the_locality_page_shows_the_trend_across_waves(computed: Wave, manager, study, locality_a) -> None:
    from surveys.services.waves import wave_ensure, wave_open

    later = wave_open(wave=wave_ensure(code="w2", study=study, localities=[locality_a]).wave)
    citizens(later, "alpha", 12, 0.5, seed=13)
    for i in range(3):
        official(later, locality_a, f"oa{i}", lambda a, i=i: 40)
    call_command("recompute", wave="w2")

    page = client_for(manager).get(f"/dashboard/{computed.code}/alpha/").content.decode()

    assert "The overall gap across waves" in page
    assert page.count("<circle") >= 2 * 18 + 2


def test_chart_coordinates_do_not_follow_the_readers_number_format(computed: Wave, manager) -> None:
    """French writes 12,5 where SVG needs 12.5: the charts must not be localised."""
    import re

    page = client_for(manager).get(f"/dashboard/{computed.code}/alpha/", HTTP_ACCEPT_LANGUAGE="fr")
    chart = page.content.decode().split('class="dumbbell"')[1].split("</svg>")[0]
    assert re.search(r'cx="\d+\.\d"', chart)
    assert not re.search(r'="-?\d+,\d+"', chart)
