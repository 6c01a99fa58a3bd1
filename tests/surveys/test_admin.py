"""The survey manager's admin: every model manageable, roles enforced."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from surveys.models import Response, Wave

pytestmark = pytest.mark.django_db

MODELS = [
    "study", "servicearea", "activity", "locality", "questionnaire", "questionnaireversion",
    "wave", "invitation", "response", "officialprofile",
]  # fmt: skip


@pytest.mark.parametrize("model", MODELS)
def test_a_survey_manager_sees_every_model(manager_client: Client, wave: Wave, model: str) -> None:
    response = manager_client.get(reverse(f"admin:surveys_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", ["indexrow", "localitystate"])
def test_computed_figures_are_visible_but_read_only(manager_client: Client, wave: Wave, model: str) -> None:
    assert manager_client.get(reverse(f"admin:analytics_{model}_changelist")).status_code == 200
    assert manager_client.get(reverse(f"admin:analytics_{model}_add")).status_code == 403


def test_the_wave_page_shows_its_localities(manager_client: Client, wave: Wave) -> None:
    response = manager_client.get(reverse("admin:surveys_wave_change", args=[wave.pk]))
    assert response.status_code == 200
    assert b"alpha" in response.content


def test_responses_cannot_be_edited_in_the_admin(manager_client: Client, wave: Wave) -> None:
    assert manager_client.get(reverse("admin:surveys_response_add")).status_code == 403


def test_responses_are_found_by_exact_receipt_or_submission_id(manager_client: Client, wave: Wave) -> None:
    import random
    import uuid

    from surveys.services.responses import response_submit
    from surveys.synthetic import answers_generate

    found = []
    for seed in (1, 2):
        found.append(
            response_submit(
                wave=wave, submission_id=uuid.uuid4(), audience="citizen", locality_code="alpha", language="en",
                answers=answers_generate(wave.citizen_version.definition, random.Random(seed)),
            ).response
        )  # fmt: skip
    url = reverse("admin:surveys_response_changelist")
    first, second = found
    by_receipt = manager_client.get(url, {"q": first.receipt.lower()}).content.decode()
    assert first.receipt in by_receipt and second.receipt not in by_receipt
    by_id = manager_client.get(url, {"q": str(second.submission_id)}).content.decode()
    assert second.receipt in by_id and first.receipt not in by_id
    partial = manager_client.get(url, {"q": first.receipt[:4]}).content.decode()
    assert first.receipt not in partial  # exact only: the unique index answers it


def test_a_manager_opens_and_closes_waves_from_the_admin(manager_client: Client, wave: Wave) -> None:
    url = reverse("admin:surveys_wave_changelist")
    manager_client.post(url, {"action": "close_waves", "_selected_action": [wave.pk]})
    wave.refresh_from_db()
    assert wave.status == "closed"
    manager_client.post(url, {"action": "archive_waves", "_selected_action": [wave.pk]})
    wave.refresh_from_db()
    assert wave.status == "archived"
    response = manager_client.post(url, {"action": "open_waves", "_selected_action": [wave.pk]}, follow=True)
    wave.refresh_from_db()
    assert wave.status == "archived"
    assert b"cannot become open" in response.content


def test_an_official_cannot_enter_the_admin(official_a) -> None:
    client = Client()
    client.force_login(official_a)
    response = client.get(reverse("admin:surveys_response_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not Response.objects.exists()


def test_the_home_page_lists_open_waves(citizen: Client, wave: Wave) -> None:
    response = citizen.get("/")
    assert response.status_code == 200
    assert wave.name.encode() in response.content
    assert b'lang="en"' in response.content


def test_the_home_page_speaks_the_browsers_language(citizen: Client, wave: Wave) -> None:
    response = citizen.get("/", HTTP_ACCEPT_LANGUAGE="de")
    assert b'lang="de"' in response.content


def test_the_admin_tells_the_manager_what_it_saved(manager_client) -> None:
    """Its notices travel in the manager's session (MESSAGE_STORAGE), shown once."""
    from django.contrib.messages.storage.session import SessionStorage

    add = reverse("admin:surveys_locality_add")
    response = manager_client.post(add, {"code": "gamma", "name": "Gamma", "_continue": "1"}, follow=True)
    shown = [str(m) for m in response.context["messages"]]
    assert any("was added successfully" in m for m in shown), shown
    assert isinstance(response.context["messages"], SessionStorage)
    again = manager_client.get(response.redirect_chain[-1][0])
    assert not list(again.context["messages"]), "a notice is shown once"
