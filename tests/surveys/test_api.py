"""The submission API: every status code and error code in docs/api.md."""

from __future__ import annotations

import json
import random
import threading
import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.settings import api_settings

from surveys.api.serializers import SubmissionSerializer
from surveys.models import Audience, Locality, Response, Wave
from surveys.services.accounts import api_client_ensure, official_ensure
from surveys.services.invitations import invitations_issue
from surveys.services.waves import wave_close, wave_ensure, wave_open
from surveys.synthetic import answers_generate
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def payload(wave: Wave, audience: str = "citizen", seed: int = 1, **overrides: Any) -> dict[str, Any]:
    version = wave.version_for(audience)
    body = {
        "submission_id": str(uuid.uuid4()),
        "audience": audience,
        "locality": "alpha",
        "language": "en",
        "answers": answers_generate(version.definition, random.Random(seed), optional_skip=0),
    }
    body.update(overrides)
    return body


def post(client: Client, wave: Wave | str, body: Any, **headers: str) -> Any:
    code = wave if isinstance(wave, str) else wave.code
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/waves/{code}/responses/", data, content_type="application/json", headers=headers
    )


def token_for(user: Any) -> str:
    return "Token " + Token.objects.get_or_create(user=user)[0].key


# --- reading ---------------------------------------------------------------------


def test_anyone_lists_the_open_waves_with_their_localities(
    api: Client, wave: Wave, study, django_assert_num_queries
) -> None:
    draft = wave_ensure(code="w2-draft", study=study, localities=list(Locality.objects.all())).wave
    wave_open(wave=wave_ensure(code="w3", study=study, localities=list(Locality.objects.all())).wave)
    # One query for the waves, one for all their localities, however many waves.
    with django_assert_num_queries(2):
        body = api.get("/api/v1/waves/").json()

    assert [w["code"] for w in body] == ["w1", "w3"]
    listed = body[0]
    assert listed["status"] == "open"
    assert (listed["min_citizens"], listed["min_officials"]) == (10, 3)
    assert [loc["code"] for loc in listed["localities"]] == ["alpha", "beta"]
    assert api.get(f"/api/v1/waves/{draft.code}/").status_code == 404


def test_survey_managers_see_every_status(manager, wave: Wave, study) -> None:
    wave_ensure(code="w2-draft", study=study, localities=[])
    client = Client(headers={"authorization": token_for(manager)})

    assert {w["code"] for w in client.get("/api/v1/waves/").json()} == {"w1", "w2-draft"}
    assert [w["code"] for w in client.get("/api/v1/waves/?status=draft").json()] == ["w2-draft"]
    bad = client.get("/api/v1/waves/?status=paused")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_response"
    assert "status" in bad.json()["errors"]


@pytest.mark.parametrize("when", ["past_closing", "before_opening"])
def test_a_wave_outside_its_opening_times_is_not_listed_as_open(
    api: Client, wave: Wave, manager, when: str
) -> None:
    now = timezone.now()
    if when == "past_closing":
        wave.opens_at, wave.closes_at = now - timedelta(days=2), now - timedelta(minutes=1)
    else:
        wave.opens_at, wave.closes_at = now + timedelta(days=1), None
    wave.save(update_fields=["opens_at", "closes_at"])  # still status "open"

    assert api.get("/api/v1/waves/").json() == []
    assert api.get(f"/api/v1/waves/{wave.code}/").status_code == 404
    assert api.get(f"/api/v1/waves/{wave.code}/questionnaire/citizen/").status_code == 404
    # Survey managers see every wave, whatever its times.
    client = Client(headers={"authorization": token_for(manager)})
    assert [w["code"] for w in client.get("/api/v1/waves/?status=open").json()] == [wave.code]
    assert client.get(f"/api/v1/waves/{wave.code}/").status_code == 200


def test_the_questionnaire_document(api: Client, wave: Wave) -> None:
    response = api.get("/api/v1/waves/w1/questionnaire/citizen/")

    assert response.status_code == 200
    doc = response.json()
    assert doc["audience"] == "citizen"
    assert doc["languages"] == ["en", "fr", "de", "da", "cs"]
    items = {i["code"]: i for s in doc["sections"] for i in s["items"]}
    recycle = items["environment_recycle"]
    assert recycle["type"] == "frequency"
    assert recycle["required"] is True
    assert recycle["activity"] == {
        "code": "environment.recycle", "service_area": "environment", "kind": "individual",
        "phase": "delivery",
    }  # fmt: skip
    assert {c["code"]: c["engaged"] for c in recycle["choices"]}["often"] is True
    assert set(recycle["choices"][0]["label"]) == {"en", "fr", "de", "da", "cs"}
    assert items["household_size"]["min"] == 1 and items["household_size"]["max"] == 20
    assert items["willing_areas"]["relevant"] == {"item": "willing_more", "in": ["yes", "maybe"]}

    official = api.get("/api/v1/waves/w1/questionnaire/official/").json()
    estimates = [i for s in official["sections"] for i in s["items"] if i["activity"]]
    assert {i["type"] for i in estimates} == {"percent"}
    assert {i["activity"]["code"] for i in estimates} == {
        i["activity"]["code"] for i in items.values() if i["activity"]
    }
    assert api.get("/api/v1/waves/w1/questionnaire/journalist/").status_code == 404


# --- submitting --------------------------------------------------------------------


def test_a_valid_submission_gets_201_and_a_receipt(api: Client, wave: Wave) -> None:
    body = payload(wave)

    response = post(api, wave, body)

    assert response.status_code == 201
    result = response.json()
    assert set(result) == {"id", "submission_id", "receipt", "submitted_at"}
    assert result["submission_id"] == body["submission_id"]
    assert Response.objects.get().receipt == result["receipt"]


def test_a_retry_gets_200_and_the_same_body(api: Client, wave: Wave) -> None:
    body = payload(wave)
    first = post(api, wave, body)
    again = post(api, wave, body)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert Response.objects.count() == 1


def test_the_same_submission_id_with_another_payload_is_409(api: Client, wave: Wave) -> None:
    body = payload(wave)
    post(api, wave, body)
    response = post(api, wave, {**body, "locality": "beta"})
    assert response.status_code == 409
    assert response.json()["code"] == "submission_conflict"


def test_the_same_submission_id_and_payload_from_another_caller_is_409(
    api: Client, wave: Wave, official_a, locality_a, manager
) -> None:
    """Only the caller that sent it can retry a submission: anyone else would be
    handed another respondent's receipt for an answer never stored as theirs."""
    colleague = official_ensure(username="oskar-alpha", password=PASSWORD, localities=[locality_a]).user
    official = payload(wave, audience="official")
    assert post(api, wave, official, authorization=token_for(official_a)).status_code == 201
    assert post(api, wave, official, authorization=token_for(official_a)).status_code == 200
    stolen = post(api, wave, official, authorization=token_for(colleague))
    assert stolen.status_code == 409 and stolen.json()["code"] == "submission_conflict"

    entered = payload(wave, seed=2)
    assert post(api, wave, entered, authorization=token_for(manager)).status_code == 201
    for caller in ({}, {"authorization": token_for(official_a)}):
        response = post(api, wave, entered, **caller)
        assert response.status_code == 409 and response.json()["code"] == "submission_conflict"
    anonymous = payload(wave, seed=3)
    assert post(api, wave, anonymous).status_code == 201
    response = post(api, wave, anonymous, authorization=token_for(manager))
    assert response.status_code == 409 and response.json()["code"] == "submission_conflict"
    assert Response.objects.count() == 3


def test_who_may_submit_is_decided_before_what_the_answers_hold(api: Client, wave: Wave, official_a) -> None:
    """A caller that may not submit here gets 403, whatever its answers hold."""
    bad = {"environment_recycle": "daily"}
    elsewhere = payload(wave, audience="official", locality="beta")
    elsewhere["answers"].update(bad)
    response = post(api, wave, elsewhere, authorization=token_for(official_a))
    assert response.status_code == 403
    as_citizen = payload(wave)
    as_citizen["answers"].update(bad)
    assert post(api, wave, as_citizen, authorization=token_for(official_a)).status_code == 403
    assert Response.objects.count() == 0


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_locality_outside_the_wave_is_reported_before_the_answers(
    api: Client, wave: Wave, manager, signed_in: bool
) -> None:
    """The same on both submission paths (anonymous, and entry on a respondent's behalf)."""
    body = payload(wave, locality="nowhere")
    body["answers"]["environment_recycle"] = "daily"
    headers = {"authorization": token_for(manager)} if signed_in else {}
    response = post(api, wave, body, **headers)
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_locality"


def test_the_fields_and_the_answers_problems_come_together(api: Client, wave: Wave) -> None:
    body = payload(wave, submission_id="not-a-uuid", language=["en"])
    body["answers"]["environment_recycle"] = "daily"
    body["answers"]["nonsense"] = 1
    response = post(api, wave, body)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {
        "submission_id", "language", "answers.environment_recycle", "answers.nonsense",
    }  # fmt: skip


def test_invalid_answers_are_400_with_every_problem_by_item(api: Client, wave: Wave) -> None:
    body = payload(wave)
    body["answers"]["environment_recycle"] = "daily"
    body["answers"]["nonsense"] = 1
    del body["answers"]["gender"]

    response = post(api, wave, body)

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_response"
    assert set(error["errors"]) == {"answers.environment_recycle", "answers.nonsense", "answers.gender"}
    assert Response.objects.count() == 0


def test_the_problems_are_in_the_callers_language_and_the_summary_in_english(api: Client, wave: Wave) -> None:
    body = payload(wave)
    del body["answers"]["gender"]

    response = post(api, wave, body, **{"accept-language": "fr"})

    assert response.status_code == 400
    assert response.json()["errors"] == {"answers.gender": ["Cette question nécessite une réponse."]}
    assert response.json()["message"] == "The response does not fit the questionnaire."


def test_a_number_no_float_can_hold_is_an_invalid_answer_not_a_crash(api: Client, wave: Wave) -> None:
    body = payload(wave)
    body["answers"]["household_size"] = 10**400
    response = post(api, wave, body)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"answers.household_size"}
    assert Response.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"submission_id": "not-a-uuid"}, "submission_id"),
        ({"submission_id": 12345}, "submission_id"),
        ({"submission_id": True}, "submission_id"),
        ({"submission_id": None}, "submission_id"),
        ({"audience": "journalist"}, "audience"),
        ({"answers": ["a", "list"]}, "answers"),
        ({"answers": "text"}, "answers"),
        ({"answers": 3}, "answers"),
        ({"answers": None}, "answers"),
        ({"language": "xx"}, "language"),
    ],
)
def test_malformed_fields_are_400_invalid_response(api: Client, wave: Wave, change, field: str) -> None:
    response = post(api, wave, payload(wave, **change))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_response"
    assert field in response.json()["errors"]


def test_a_wave_closed_by_another_process_is_409_at_once(api: Client, wave: Wave, official_a) -> None:
    """This process keeps the wave it read for a moment (wave_get_recent);
    another process closing it (here: an update that sends no signal) must
    still stop submissions at once, because the insert itself checks."""
    from surveys.selectors import wave_get_recent

    assert post(api, wave, payload(wave, seed=1)).status_code == 201
    Wave.objects.filter(pk=wave.pk).update(status="closed")
    assert wave_get_recent(wave.code).status == "open"  # the stale copy is in use

    response = post(api, wave, payload(wave, seed=2))
    assert response.status_code == 409 and response.json()["code"] == "wave_not_open"
    response = post(
        api, wave, payload(wave, audience="official", seed=3), authorization=token_for(official_a)
    )
    assert response.status_code == 409 and response.json()["code"] == "wave_not_open"
    assert Response.objects.filter(wave=wave).count() == 1


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (["a"], "Expected an object mapping item codes to answers."),
        ("a", "Expected an object mapping item codes to answers."),
        (None, "This field may not be null."),
    ],
)
def test_answers_that_are_not_an_object_are_named_and_nothing_is_saved(
    api: Client, wave: Wave, answers: Any, message: str
) -> None:
    response = post(api, wave, payload(wave, answers=answers))
    assert response.json()["errors"] == {"answers": [message]}
    assert Response.objects.count() == 0


def test_a_missing_field_is_named(api: Client, wave: Wave) -> None:
    body = payload(wave)
    del body["submission_id"]
    response = post(api, wave, body)
    assert response.status_code == 400
    assert response.json()["errors"]["submission_id"] == ["This field is required."]


def test_a_closed_wave_is_409(api: Client, wave: Wave) -> None:
    wave_close(wave=wave)
    response = post(api, wave, payload(wave))
    assert response.status_code == 409
    assert response.json()["code"] == "wave_not_open"


def test_an_unknown_wave_is_404(api: Client, wave: Wave) -> None:
    response = post(api, "nope", payload(wave))
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_locality_outside_the_wave_is_400(api: Client, wave: Wave) -> None:
    response = post(api, wave, payload(wave, locality="gamma"))
    assert response.status_code == 400
    assert response.json()["code"] == "unknown_locality"


def test_a_used_invitation_is_409(api: Client, wave: Wave, locality_a) -> None:
    [issued] = invitations_issue(wave=wave, audience="citizen", locality=locality_a)
    assert post(api, wave, payload(wave, invitation=issued.token)).status_code == 201
    response = post(api, wave, payload(wave, invitation=issued.token))
    assert response.status_code == 409
    assert response.json()["code"] == "invitation_used"


def test_an_invitation_for_another_audience_is_403(api: Client, wave: Wave, locality_a) -> None:
    [issued] = invitations_issue(wave=wave, audience="official", locality=locality_a)
    response = post(api, wave, payload(wave, invitation=issued.token))
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_an_unknown_invitation_is_400(api: Client, wave: Wave) -> None:
    response = post(api, wave, payload(wave, invitation="guessed"))
    assert response.status_code == 400
    assert response.json()["code"] == "invitation_invalid"


def test_an_anonymous_official_submission_is_401(api: Client, wave: Wave) -> None:
    response = post(api, wave, payload(wave, audience="official"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_officials_submit_with_a_token_for_their_own_locality_only(
    api: Client, wave: Wave, official_a, official_b
) -> None:
    own = post(api, wave, payload(wave, audience="official"), authorization=token_for(official_a))
    other = post(api, wave, payload(wave, audience="official"), authorization=token_for(official_b))

    assert own.status_code == 201
    assert other.status_code == 403
    assert other.json()["code"] == "forbidden"


def test_an_official_cannot_submit_citizen_responses(api: Client, wave: Wave, official_a) -> None:
    response = post(api, wave, payload(wave), authorization=token_for(official_a))
    assert response.status_code == 403


def test_an_officials_new_submission_supersedes_the_old(api: Client, wave: Wave, official_a) -> None:
    auth = token_for(official_a)
    first = post(api, wave, payload(wave, audience="official", seed=1), authorization=auth).json()
    post(api, wave, payload(wave, audience="official", seed=2), authorization=auth)

    current = Response.objects.filter(respondent=official_a, is_current=True)
    assert current.count() == 1
    assert current.get().submission_id != uuid.UUID(first["submission_id"])


def test_officials_may_use_their_browser_session(wave: Wave, official_a) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(official_a)
    # A session caller must send the CSRF token, like any browser form.
    assert post(client, wave, payload(wave, audience="official")).status_code == 403
    client.get("/")  # sets the CSRF cookie
    csrf = client.cookies["csrftoken"].value
    response = post(client, wave, payload(wave, audience="official"), x_csrftoken=csrf)
    assert response.status_code == 201


def test_malformed_json_is_400(api: Client, wave: Wave) -> None:
    response = post(api, wave, "{not json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_nan_is_not_json(api: Client, wave: Wave) -> None:
    body = json.dumps(payload(wave, audience="citizen")).replace(
        '"household_size": ', '"household_size": NaN, "x": '
    )
    response = post(api, wave, body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


def test_another_content_type_is_415(api: Client, wave: Wave) -> None:
    response = api.post(
        "/api/v1/waves/w1/responses/", "a=b", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


@override_settings(API_MAX_BODY_BYTES=2000)
def test_a_body_over_the_limit_is_413(api: Client, wave: Wave) -> None:
    body = payload(wave)
    body["answers"]["comments"] = "x" * 3000
    response = post(api, wave, body)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    assert Response.objects.count() == 0


def test_anonymous_submissions_are_throttled_with_retry_after(api: Client, wave: Wave, monkeypatch) -> None:
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_anon", "2/minute")
    statuses = [post(api, wave, payload(wave, seed=i)).status_code for i in range(3)]
    assert statuses == [201, 201, 429]
    throttled = post(api, wave, payload(wave, seed=9))
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0
    # Another client address is not affected.
    other = Client(REMOTE_ADDR="10.9.8.7")
    assert post(other, wave, payload(wave, seed=10)).status_code == 201


def test_a_wave_is_throttled_across_all_anonymous_clients(api: Client, wave: Wave, monkeypatch) -> None:
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_wave", "2/minute")
    clients = [Client(REMOTE_ADDR=f"10.0.0.{i}") for i in range(3)]
    statuses = [post(c, wave, payload(wave, seed=i)).status_code for i, c in enumerate(clients)]
    assert statuses == [201, 201, 429]


def test_one_client_refused_per_address_does_not_use_up_the_wave(
    api: Client, wave: Wave, monkeypatch
) -> None:
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_anon", "2/minute")
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_wave", "5/minute")
    flood = [post(api, wave, payload(wave, seed=i)).status_code for i in range(8)]
    assert flood == [201, 201] + [429] * 6
    others = [Client(REMOTE_ADDR=f"10.1.0.{i}") for i in range(3)]
    assert [post(c, wave, payload(wave, seed=20 + i)).status_code for i, c in enumerate(others)] == [201] * 3
    assert post(Client(REMOTE_ADDR="10.1.0.9"), wave, payload(wave, seed=30)).status_code == 429


def test_a_forwarded_for_header_does_not_make_a_new_client(api: Client, wave: Wave, monkeypatch) -> None:
    """Unless NUM_PROXIES says proxies stand in front, the client is the socket's address:
    any client can write X-Forwarded-For."""
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_anon", "2/minute")
    statuses = [
        post(api, wave, payload(wave, seed=i), x_forwarded_for=f"198.51.100.{i}").status_code
        for i in range(3)
    ]
    assert statuses == [201, 201, 429]


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_one_proxy_the_client_is_the_address_it_appended(api: Client, wave: Wave, monkeypatch) -> None:
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_anon", "1/minute")
    first = post(api, wave, payload(wave, seed=1), x_forwarded_for="198.51.100.7")
    # What the client wrote comes first; the proxy appends the address it saw.
    spoofed = post(api, wave, payload(wave, seed=2), x_forwarded_for="203.0.113.5, 198.51.100.7")
    other = post(api, wave, payload(wave, seed=3), x_forwarded_for="198.51.100.8")
    assert [first.status_code, spoofed.status_code, other.status_code] == [201, 429, 201]


def test_survey_managers_and_api_clients_enter_paper_responses_without_anonymous_limits(
    api: Client, wave: Wave, manager, monkeypatch
) -> None:
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "submit_anon", "1/minute")
    _user, key = api_client_ensure(username="cati-centre")
    for auth in (token_for(manager), f"Token {key}"):
        statuses = [post(api, wave, payload(wave, seed=i), authorization=auth).status_code for i in range(3)]
        assert statuses == [201, 201, 201]
    entered = Response.objects.filter(submitted_by__isnull=False)
    assert {r.submitted_by.username for r in entered} == {manager.username, "cati-centre"}


# --- tokens --------------------------------------------------------------------------


def test_a_token_for_a_username_and_password(api: Client, official_a) -> None:
    response = api.post(
        "/api/v1/auth/token/",
        {"username": official_a.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=official_a).key


def test_wrong_credentials_are_400_and_repeated_failures_lock_out(api: Client, official_a) -> None:
    def attempt(password: str) -> Any:
        return api.post(
            "/api/v1/auth/token/",
            {"username": official_a.username, "password": password},
            content_type="application/json",
        )

    first = attempt("wrong")
    assert first.status_code == 400
    assert first.json()["code"] == "invalid_credentials"
    for _ in range(4):
        attempt("wrong")
    locked = attempt(PASSWORD)  # even the right password, once locked out
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert int(locked["Retry-After"]) > 0


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_a_proxy_a_lockout_holds_for_the_failing_client_only(api: Client, official_a) -> None:
    def attempt(password: str, address: str) -> Any:
        return api.post(
            "/api/v1/auth/token/",
            {"username": official_a.username, "password": password},
            content_type="application/json",
            headers={"x-forwarded-for": address},
        )

    for _ in range(5):
        attempt("wrong", "198.51.100.7")
    assert attempt(PASSWORD, "198.51.100.7").status_code == 429
    assert attempt(PASSWORD, "198.51.100.8").status_code == 200  # the official, elsewhere


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
@pytest.mark.parametrize("forwarded", ["not-an-address", "198.51.100.7:4431", ""])
def test_a_forwarded_address_that_is_no_address_does_not_break_sign_in(
    api: Client, official_a, forwarded: str
) -> None:
    """The lockout stores the address in an address column: the connection's is used instead."""
    response = api.post(
        "/api/v1/auth/token/",
        {"username": official_a.username, "password": "wrong"},
        content_type="application/json",
        headers={"x-forwarded-for": forwarded},
    )
    assert response.status_code == 400


# --- schema --------------------------------------------------------------------------


def test_the_openapi_schema_documents_every_endpoint_and_error(api: Client) -> None:
    response = api.get("/api/v1/schema/", headers={"accept": "application/vnd.oai.openapi+json"})
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    assert {
        "/api/v1/waves/",
        "/api/v1/waves/{wave}/",
        "/api/v1/waves/{wave}/questionnaire/{audience}/",
        "/api/v1/waves/{wave}/responses/",
        "/api/v1/auth/token/",
    } <= set(paths)
    submit = paths["/api/v1/waves/{wave}/responses/"]["post"]["responses"]
    assert {"200", "201", "400", "401", "403", "404", "409", "413", "415", "429"} <= set(submit)
    text = json.dumps(submit)
    for code in ["invalid_response", "unknown_locality", "wave_not_open", "invitation_used",
                 "submission_conflict", "payload_too_large", "throttled"]:  # fmt: skip
        assert code in text
    docs = Client().get("/api/v1/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content


# --- concurrency (PostgreSQL: real row locks and unique indexes) ----------------------


def _in_threads(n: int, work) -> list[Any]:
    results: list[Any] = [None] * n
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@pytest.mark.django_db(transaction=True)
def test_one_invitation_used_concurrently_succeeds_exactly_once(postgres, wave: Wave, locality_a) -> None:
    [issued] = invitations_issue(wave=wave, audience="citizen", locality=locality_a)
    bodies = [payload(wave, seed=i, invitation=issued.token) for i in range(8)]

    statuses = _in_threads(8, lambda i: post(Client(REMOTE_ADDR=f"10.1.0.{i}"), wave, bodies[i]).status_code)

    assert sorted(statuses) == [201] + [409] * 7
    assert Response.objects.filter(invitation=issued.invitation).count() == 1


@pytest.mark.django_db(transaction=True)
def test_one_submission_id_sent_concurrently_is_stored_once(postgres, wave: Wave) -> None:
    body = payload(wave)

    statuses = _in_threads(8, lambda i: post(Client(REMOTE_ADDR=f"10.2.0.{i}"), wave, body).status_code)

    assert statuses.count(201) == 1
    assert statuses.count(200) == 7
    assert Response.objects.filter(audience=Audience.CITIZEN).count() == 1


def test_the_fast_result_matches_the_documented_serializer(api: Client, wave: Wave) -> None:
    from surveys.api.serializers import SubmissionResultSerializer

    body = post(api, wave, payload(wave)).json()
    stored = Response.objects.get()
    assert body == SubmissionResultSerializer(stored).data


@pytest.mark.parametrize("escape", ["\\ud800", "\\uDFFF", "x\\uDbFfy", "\\ude00\\ud83d"])
def test_a_lone_surrogate_is_malformed_json(api: Client, wave: Wave, escape: str) -> None:
    body = json.dumps(payload(wave)).replace('"language": "en"', f'"language": "{escape}"')
    response = post(api, wave, body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"


@pytest.mark.parametrize("charset", ["utf-7", "rot13", "zlib", "base64", "latin-1"])
def test_a_charset_other_than_unicode_is_415(api: Client, wave: Wave, charset: str) -> None:
    """Only UTF-8, -16 and -32 are JSON's: no bytes-to-bytes codec (which could
    inflate a body past the size limit) and no UTF-7 (which could carry a lone
    surrogate) is ever run on a body."""
    response = api.generic(
        "POST",
        f"/api/v1/waves/{wave.code}/responses/",
        json.dumps(payload(wave)).encode(),
        content_type=f"application/json; charset={charset}",
    )
    assert response.status_code == 415
    body = response.json()
    assert body["code"] == "unsupported_media_type"
    assert charset in body["message"]
    assert not Response.objects.exists()


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8", "utf-16", "utf-16-le", "utf-32"])
def test_json_in_any_unicode_encoding_is_accepted(api: Client, wave: Wave, charset: str) -> None:
    body = json.dumps(payload(wave), ensure_ascii=False).encode(charset)
    response = api.generic(
        "POST",
        f"/api/v1/waves/{wave.code}/responses/",
        body,
        content_type=f"application/json; charset={charset}",
    )
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("depth", [40, 400, 900])
def test_an_answer_nested_deep_is_malformed_json_not_a_crash(api: Client, wave: Wave, depth: int) -> None:
    """Deep enough to parse, deep enough to exhaust the stack of a recursive walk."""
    sent = payload(wave)
    nested = "[" * depth + '"x"' + "]" * depth
    body = json.dumps({**sent, "answers": {**sent["answers"], "comments": "DEEP"}}).replace('"DEEP"', nested)
    response = post(api, wave, body)
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert not Response.objects.exists()


@pytest.mark.parametrize("path", ["responses", "auth"])
def test_json_nested_thousands_deep_is_malformed_not_a_crash(api: Client, wave: Wave, path: str) -> None:
    url = f"/api/v1/waves/{wave.code}/responses/" if path == "responses" else "/api/v1/auth/token/"
    sent = payload(wave)
    deep = "[" * 50_000 + "]" * 50_000
    body = json.dumps({**sent, "answers": {**sent["answers"], "comments": "DEEP"}}).replace('"DEEP"', deep)
    response = api.post(url, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_json"
    assert not Response.objects.exists()


def test_a_surrogate_pair_escape_is_the_character_it_encodes(api: Client, wave: Wave) -> None:
    sent = payload(wave)
    text_item = "comments"  # the built-in questionnaire's text item
    body = json.dumps({**sent, "answers": {**sent["answers"], text_item: "\U0001f600 ok"}})
    assert "\\ud83d\\ude00" in body  # json.dumps escapes it as a pair
    assert post(api, wave, body).status_code == 201
    assert Response.objects.get().answers[text_item] == "\U0001f600 ok"


def test_each_submission_serializer_validates_with_fields_of_its_own() -> None:
    """The submission serializer copies its declared fields shallowly (the hot
    path); two instances in flight must still not share a bound field or an error."""
    good = {
        "submission_id": str(uuid.uuid4()), "audience": "citizen", "locality": "alpha",
        "language": "en", "answers": {},
    }  # fmt: skip
    bad = {**good, "submission_id": "nope", "audience": "mayor", "locality": "x" * 65}
    first, second = SubmissionSerializer(data=bad), SubmissionSerializer(data=good)

    assert not first.is_valid()
    assert second.is_valid(), second.errors
    assert set(first.errors) == {"submission_id", "audience", "locality"}
    for name, field in first.fields.items():
        assert field is not second.fields[name]
        assert field.parent is first and second.fields[name].parent is second
        assert SubmissionSerializer._declared_fields[name].parent is None, "a declared field was bound"
    assert str(second.validated_data["submission_id"]) == good["submission_id"]
