"""The API answers as its OpenAPI schema (/api/v1/schema/) says: every status
it gives is documented for that operation, and every body fits the schema
documented for that status and media type. (Found by fuzzing the running
API against its schema with schemathesis; each case here is one it found.)"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

import jsonschema
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from analytics.services import lagging_recompute
from surveys.models import Audience, Wave
from surveys.services.responses import response_submit
from surveys.synthetic import answers_generate

pytestmark = pytest.mark.django_db

JSON = "application/json"
WAVES = "/api/v1/waves/"
WAVE = "/api/v1/waves/{wave}/"
QUESTIONNAIRE = "/api/v1/waves/{wave}/questionnaire/{audience}/"
RESPONSES = "/api/v1/waves/{wave}/responses/"
INDICES = "/api/v1/waves/{wave}/indices/"
GAPS = "/api/v1/waves/{wave}/gaps/"
TOKEN = "/api/v1/auth/token/"


@pytest.fixture
def schema() -> dict[str, Any]:
    response = Client().get("/api/v1/schema/", headers={"accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema says it."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {key: _json_schema(value) for key, value in node.items()}
    if out.pop("nullable", False):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def assert_documented(
    schema: dict[str, Any], path: str, method: str, response: Any, media_type: str = JSON
) -> None:
    """The response's status is documented for the operation, with this media
    type, and (for JSON) the body fits the schema given there."""
    responses = schema["paths"][path][method]["responses"]
    status = str(response.status_code)
    assert status in responses, f"{method.upper()} {path}: {status} is not documented ({sorted(responses)})"
    content = responses[status]["content"]
    assert media_type in content, f"{method.upper()} {path} {status}: only {sorted(content)}"
    assert response["Content-Type"].split(";")[0] == media_type
    if media_type == JSON:
        body_schema = {
            **_json_schema(content[JSON]["schema"]),
            "components": _json_schema(schema["components"]),
        }
        jsonschema.validate(response.json(), body_schema)


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


def test_every_operation_documents_the_errors_any_endpoint_may_give(schema: dict[str, Any]) -> None:
    # 400 bad_request (a NUL in the query, too many parameters), 406, 429 and
    # 503 on every endpoint; 401 wherever a token is read (not the token endpoint).
    for path, operations in schema["paths"].items():
        if path in ("/api/v1/schema/",):
            continue
        for method, operation in operations.items():
            documented = set(operation["responses"])
            expected = {"400", "406", "429", "503"} | (set() if path == TOKEN else {"401"})
            assert expected <= documented, f"{method.upper()} {path} lacks {expected - documented}"


def test_reading_waves_answers_as_documented(
    schema: dict[str, Any], api: Client, wave: Wave, manager
) -> None:
    assert_documented(schema, WAVES, "get", api.get("/api/v1/waves/"))
    assert_documented(schema, WAVE, "get", api.get(f"/api/v1/waves/{wave.code}/"))
    assert_documented(schema, WAVE, "get", api.get("/api/v1/waves/nope/"))
    assert_documented(
        schema, QUESTIONNAIRE, "get", api.get(f"/api/v1/waves/{wave.code}/questionnaire/citizen/")
    )
    # A status the list does not know: 400 invalid_response (was undocumented).
    unknown = client_for(manager).get("/api/v1/waves/?status=galaxy")
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == {"status": ["Must be one of: draft, open, closed, archived."]}
    assert_documented(schema, WAVES, "get", unknown)
    # A NUL in the query string: 400 bad_request, on every endpoint.
    nul = api.get(f"/api/v1/waves/{wave.code}/?x=%00")
    assert (nul.status_code, nul.json()["code"]) == (400, "bad_request")
    assert_documented(schema, WAVE, "get", nul)
    # An unknown token: 401 authentication_failed, also where no sign-in is needed.
    stranger = Client(headers={"authorization": "Token 0123456789abcdef"}).get("/api/v1/waves/")
    assert (stranger.status_code, stranger.json()["code"]) == (401, "authentication_failed")
    assert_documented(schema, WAVES, "get", stranger)
    # A format the endpoint does not give: 406 not_acceptable.
    html = Client(headers={"accept": "text/html"}).get(f"/api/v1/waves/{wave.code}/")
    assert (html.status_code, html.json()["code"]) == (406, "not_acceptable")
    assert_documented(schema, WAVE, "get", html)


def test_the_token_endpoint_answers_as_documented(schema: dict[str, Any], api: Client, manager) -> None:
    wrong = api.post(TOKEN, {"username": manager.username, "password": "nope"}, content_type=JSON)
    assert_documented(schema, TOKEN, "post", wrong)
    missing = api.post(TOKEN, {"username": manager.username}, content_type=JSON)
    assert (missing.status_code, missing.json()["code"]) == (400, "invalid_response")
    assert_documented(schema, TOKEN, "post", missing)
    # The token endpoint parses its body as the submission endpoint does: 415
    # and 413 were given but not documented.
    text = api.post(TOKEN, "username=a&password=b", content_type="application/x-www-form-urlencoded")
    assert (text.status_code, text.json()["code"]) == (415, "unsupported_media_type")
    assert_documented(schema, TOKEN, "post", text)
    huge = api.post(TOKEN, {"username": "a" * 300_000, "password": "b"}, content_type=JSON)
    assert (huge.status_code, huge.json()["code"]) == (413, "payload_too_large")
    assert_documented(schema, TOKEN, "post", huge)


def test_submitting_answers_as_documented(schema: dict[str, Any], api: Client, wave: Wave) -> None:
    body = {
        "submission_id": str(uuid.uuid4()), "audience": "citizen", "locality": "alpha", "language": "en",
        "answers": answers_generate(wave.citizen_version.definition, random.Random(2), optional_skip=0),
    }  # fmt: skip
    url = f"/api/v1/waves/{wave.code}/responses/"
    created = api.post(url, body, content_type=JSON)
    assert created.status_code == 201
    assert_documented(schema, RESPONSES, "post", created)
    assert_documented(schema, RESPONSES, "post", api.post(url, body, content_type=JSON))
    assert_documented(schema, RESPONSES, "post", api.post(url, {**body, "answers": {}}, content_type=JSON))


def test_index_and_gap_pages_are_as_documented(schema: dict[str, Any], computed: Wave, manager) -> None:
    # The schema said a bare array; the endpoints give a page {count, next, previous, results}.
    client = client_for(manager)
    indices = client.get(f"/api/v1/waves/{computed.code}/indices/?page_size=5")
    assert indices.json()["count"] > 5 and indices.json()["results"]
    assert_documented(schema, INDICES, "get", indices)
    gaps = client.get(f"/api/v1/waves/{computed.code}/gaps/?page_size=5")
    assert gaps.json()["count"] > 5 and gaps.json()["results"]
    assert_documented(schema, GAPS, "get", gaps)
    bad_level = client.get(f"/api/v1/waves/{computed.code}/indices/?level=galaxy")
    assert bad_level.status_code == 400
    assert_documented(schema, INDICES, "get", bad_level)
    assert_documented(schema, INDICES, "get", Client().get(f"/api/v1/waves/{computed.code}/indices/"))
    assert_documented(schema, GAPS, "get", client.get(f"/api/v1/waves/{computed.code}/gaps/?page=99"))
    assert_documented(
        schema, GAPS, "get", client.get(f"/api/v1/waves/{computed.code}/gaps/?format=csv"), "text/csv"
    )


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_gap_errors_are_json_when_a_file_was_asked_for(
    schema: dict[str, Any], computed: Wave, manager, file_format: str
) -> None:
    # An error used to come as JSON text labelled text/csv, or as an "Excel
    # workbook" holding JSON; it is JSON, as every API error is.
    client = client_for(manager)
    missing = client.get(f"/api/v1/waves/nope/gaps/?format={file_format}")
    assert missing.status_code == 404
    assert missing["Content-Type"] == JSON
    assert missing.json()["code"] == "not_found"
    assert "Content-Disposition" not in missing
    assert_documented(schema, GAPS, "get", missing)
    bad = client.get(f"/api/v1/waves/{computed.code}/gaps/?format={file_format}&weighted=maybe")
    assert (bad.status_code, bad["Content-Type"]) == (400, JSON)
    assert bad.json()["errors"] == {"weighted": ["Must be true or false."]}
    assert_documented(schema, GAPS, "get", bad)
    anonymous = Client().get(f"/api/v1/waves/{computed.code}/gaps/?format={file_format}")
    assert (anonymous.status_code, anonymous["Content-Type"]) == (401, JSON)
    assert_documented(schema, GAPS, "get", anonymous)
