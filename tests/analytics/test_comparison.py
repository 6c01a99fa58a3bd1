"""The official's page: their estimates beside what citizens report."""

from __future__ import annotations

import random
import uuid

import pytest
from django.test import Client

from analytics.services import lagging_recompute
from surveys.models import Audience, Wave
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate

pytestmark = pytest.mark.django_db


def submit_citizens(wave: Wave, n: int, rate: float) -> None:
    rng = random.Random(n)
    for _ in range(n):
        response_submit(
            wave=wave, submission_id=uuid.uuid4(), audience=Audience.CITIZEN, locality_code="alpha",
            language="en", answers=answers_generate(wave.citizen_version.definition, rng, engaged_rate=lambda a: rate),
        )  # fmt: skip


def answer_as_official(wave: Wave, official, estimate: float) -> None:
    answers = answers_generate(
        wave.official_version.definition, random.Random(1), estimate=lambda a: estimate
    )
    response_submit(
        wave=wave, submission_id=uuid.uuid4(), audience=Audience.OFFICIAL, locality_code="alpha",
        language="en", answers=answers, user=official,
    )  # fmt: skip


def page(official, wave: Wave, locality: str = "alpha"):
    client = Client()
    client.force_login(official)
    return client.get(f"/official/{wave.code}/{locality}/comparison/")


def test_below_the_threshold_the_page_says_how_many_more_are_needed(wave: Wave, official_a) -> None:
    submit_citizens(wave, 7, 0.5)
    answer_as_official(wave, official_a, 30)
    lagging_recompute()

    response = page(official_a, wave)

    assert response.status_code == 200
    text = response.content.decode()
    assert "3 more responses are needed" in text
    assert "<table" not in text


def test_above_the_threshold_estimates_sit_beside_the_citizens_share(wave: Wave, official_a) -> None:
    submit_citizens(wave, 12, 0.9)
    answer_as_official(wave, official_a, 30)
    lagging_recompute()

    text = page(official_a, wave).content.decode()

    assert "<table" in text
    assert "Based on 12 residents" in text
    assert "30%" in text  # the official's own estimate
    assert text.count("too few answers") == 0


def test_an_official_cannot_see_another_locality(wave: Wave, official_b) -> None:
    assert page(official_b, wave, "alpha").status_code == 404


def test_citizens_and_other_users_cannot_see_it(wave: Wave, manager) -> None:
    assert Client().get(f"/official/{wave.code}/alpha/comparison/").status_code == 302  # to sign in
    assert page(manager, wave).status_code == 403


def test_the_page_says_when_figures_lag_new_responses(wave: Wave, official_a) -> None:
    submit_citizens(wave, 12, 0.9)
    answer_as_official(wave, official_a, 30)
    lagging_recompute()
    submit_citizens(wave, 2, 0.9)

    text = page(official_a, wave).content.decode()

    assert "2 newer responses are not included yet" in text


def test_before_answering_the_official_sees_no_figures_only_a_way_to_answer(wave: Wave, official_a) -> None:
    # Given a locality past the citizen threshold, and an official who has not answered yet
    submit_citizens(wave, 12, 0.9)
    lagging_recompute()

    # When they open the comparison page
    response = page(official_a, wave)

    # Then it asks them to answer first, links to the questionnaire and shows nothing else
    assert response.status_code == 200
    text = response.content.decode()
    assert "Answer the questionnaire for this locality first" in text
    assert f'action="/official/{wave.code}/alpha/start/"' in text
    assert "<table" not in text
    assert "Based on" not in text
    assert "%" not in text.split("<h1>")[1]
    assert "more response" not in text  # not even how many residents answered
    assert "Figures computed" not in text


def test_a_locality_of_the_official_outside_the_wave_is_not_found(wave: Wave, official_a, locality_a) -> None:
    from surveys.models import Locality
    from surveys.services.accounts import official_ensure

    northbridge = Locality.objects.create(code="northbridge", name="Northbridge")
    official_ensure(username=official_a.username, password=None, localities=[locality_a, northbridge])

    assert page(official_a, wave, "northbridge").status_code == 404
