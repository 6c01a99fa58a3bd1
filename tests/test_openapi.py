"""The API answers as docs/api.md and its OpenAPI schema say. (Cases found by
fuzzing the running API against its schema with schemathesis.)"""

from __future__ import annotations

import random
import uuid
from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from analytics.services import lagging_recompute
from surveys.models import Audience, Wave
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate

pytestmark = pytest.mark.django_db

JSON = "application/json"


def client_for(user: Any) -> Client:
    return Client(headers={"authorization": "Token " + Token.objects.get_or_create(user=user)[0].key})


@pytest.fixture
def computed(wave: Wave) -> Wave:
    rng = random.Random(1)
    for locality in ["alpha", "alpha", "beta"]:
        response_submit(
            wave=wave, submission_id=uuid.uuid4(), audience=Audience.CITIZEN, locality_code=locality,
            language="en", answers=answers_generate(wave.citizen_version.definition, rng),
        )  # fmt: skip
    lagging_recompute()
    return wave


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_gap_errors_are_json_when_a_file_was_asked_for(computed: Wave, manager, file_format: str) -> None:
    # An error used to come as JSON text labelled text/csv, or as an "Excel
    # workbook" holding JSON; it is JSON, as every API error is.
    client = client_for(manager)
    missing = client.get(f"/api/v1/waves/nope/gaps/?format={file_format}")
    assert missing.status_code == 404
    assert missing["Content-Type"] == JSON
    assert missing.json()["code"] == "not_found"
    assert "Content-Disposition" not in missing
    bad = client.get(f"/api/v1/waves/{computed.code}/gaps/?format={file_format}&weighted=maybe")
    assert (bad.status_code, bad["Content-Type"]) == (400, JSON)
    assert bad.json()["errors"] == {"weighted": ["Must be true or false."]}
    anonymous = Client().get(f"/api/v1/waves/{computed.code}/gaps/?format={file_format}")
    assert (anonymous.status_code, anonymous["Content-Type"]) == (401, JSON)
