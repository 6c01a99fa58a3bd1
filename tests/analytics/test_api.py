"""The index API: access by role, filters, pagination, freshness."""

from __future__ import annotations

import random
import uuid

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from analytics.services import lagging_recompute
from surveys.models import Audience, Wave
from surveys.services.accounts import role_groups_ensure
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate

pytestmark = pytest.mark.django_db


def submit(wave: Wave, locality: str, n: int) -> None:
    rng = random.Random(n)
    for _ in range(n):
        response_submit(
            wave=wave, submission_id=uuid.uuid4(), audience=Audience.CITIZEN, locality_code=locality,
            language="en", answers=answers_generate(wave.citizen_version.definition, rng),
        )  # fmt: skip


def client_for(user) -> Client:
    return Client(headers={"authorization": "Token " + Token.objects.get_or_create(user=user)[0].key})


@pytest.fixture
def computed(wave: Wave, locality_a, locality_b) -> Wave:
    submit(wave, "alpha", 4)
    submit(wave, "beta", 3)
    lagging_recompute()
    return wave


def test_an_analyst_reads_every_locality(computed: Wave, django_user_model) -> None:
    analyst = django_user_model.objects.create_user("ana")
    analyst.groups.add(role_groups_ensure()["Analysts"])

    body = (
        client_for(analyst)
        .get(f"/api/v1/waves/{computed.code}/indices/?level=overall&audience=citizen")
        .json()
    )

    assert body["count"] == 2
    rows = {r["locality"]: r for r in body["results"]}
    assert rows["alpha"]["n"] == 4 and rows["beta"]["n"] == 3
    assert set(rows["alpha"]) == {
        "wave", "locality", "audience", "level", "key", "n", "estimate", "ci_low", "ci_high",
        "mean_score", "sd", "computed_at", "watermark", "stale", "lag_seconds", "suppressed", "withheld",
    }  # fmt: skip
    assert rows["alpha"]["stale"] is False


def test_an_official_reads_only_their_own_localities(computed: Wave, official_a) -> None:
    body = client_for(official_a).get(f"/api/v1/waves/{computed.code}/indices/?page_size=1000").json()
    assert {r["locality"] for r in body["results"]} == {"alpha"}
    other = client_for(official_a).get(f"/api/v1/waves/{computed.code}/indices/?locality=beta").json()
    assert other["count"] == 0


def test_anonymous_and_citizens_cannot_read_figures(computed: Wave, django_user_model) -> None:
    assert Client().get(f"/api/v1/waves/{computed.code}/indices/").status_code == 401
    nobody = django_user_model.objects.create_user("nobody")
    response = client_for(nobody).get(f"/api/v1/waves/{computed.code}/indices/")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_filters_pagination_and_validation(computed: Wave, manager, django_assert_max_num_queries) -> None:
    client = client_for(manager)
    url = f"/api/v1/waves/{computed.code}/indices/"
    with django_assert_max_num_queries(12):
        page = client.get(url + "?page_size=5&page=2").json()
    assert len(page["results"]) == 5 and page["previous"] and page["next"]
    activity = client.get(url + "?level=activity&key=environment.recycle&locality=alpha").json()
    assert {(r["audience"], r["key"]) for r in activity["results"]} == {
        ("citizen", "environment.recycle"), ("official", "environment.recycle"),
    }  # fmt: skip
    assert client.get(url + "?level=galaxy").status_code == 400
    assert client.get(url + "?page_size=5000").json()["results"].__len__() <= 1000
    assert client.get("/api/v1/waves/nope/indices/").status_code == 404


def test_stale_figures_say_so(computed: Wave, manager) -> None:
    submit(computed, "alpha", 1)
    body = (
        client_for(manager).get(f"/api/v1/waves/{computed.code}/indices/?level=overall&locality=alpha").json()
    )
    assert all(r["stale"] for r in body["results"])
    assert all(r["lag_seconds"] >= 0 for r in body["results"])


def test_small_cells_are_withheld(computed: Wave, official_a) -> None:
    # alpha has 4 citizens (threshold 10) and no official: everything is suppressed, counts stay.
    rows = (
        client_for(official_a).get(f"/api/v1/waves/{computed.code}/indices/?page_size=1000").json()["results"]
    )
    assert rows and all(r["suppressed"] for r in rows)
    assert all(r[f] is None for r in rows for f in ("estimate", "ci_low", "ci_high", "mean_score", "sd"))
    assert {r["n"] for r in rows if r["audience"] == "citizen" and r["level"] == "overall"} == {4}


def test_cells_at_the_threshold_are_shown(wave: Wave, locality_a, manager) -> None:
    Wave.objects.filter(pk=wave.pk).update(min_citizens=4)
    submit(wave, "alpha", 4)
    lagging_recompute()
    rows = (
        client_for(manager)
        .get(f"/api/v1/waves/{wave.code}/indices/?level=overall&audience=citizen")
        .json()["results"]
    )
    assert rows[0]["n"] == 4 and rows[0]["suppressed"] is False and rows[0]["estimate"] is not None
