"""Errors outside the API's own views: JSON under /api/, a page in the visitor's
language elsewhere, and never a 500 for a NUL character in an address (in a
form field it is an error beside its question: tests/surveys/test_web.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.db import InterfaceError, OperationalError, transaction
from django.test import Client, override_settings
from redis.exceptions import AuthenticationError as RedisAuthenticationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from surveys.models import Response, Wave

pytestmark = pytest.mark.django_db


def test_an_unknown_api_address_is_404_in_the_apis_error_shape(api: Client) -> None:
    response = api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_format_the_api_does_not_serve_is_404_in_the_apis_error_shape(api: Client, wave: Wave) -> None:
    response = api.get(f"/api/v1/waves/{wave.code}/?format=xml")
    assert response.status_code == 404
    assert set(response.json()) == {"code", "message"} and response.json()["code"] == "not_found"


def test_an_unknown_page_is_404_in_the_visitors_language(citizen: Client) -> None:
    response = citizen.get("/no/such/page/", headers={"accept-language": "fr"})
    assert response.status_code == 404
    page = response.content.decode()
    assert '<html lang="fr">' in page
    assert "Page introuvable" in page
    assert 'action="/i18n/setlang/"' in page  # the language can still be switched


@pytest.mark.parametrize(
    "url",
    ["/api/v1/waves/?status=%00", "/api/v1/waves/open%00/", "/w/de%00mo/", "/w/demo/?locality=%00"],
)
def test_a_nul_character_in_an_address_is_400(citizen: Client, wave: Wave, url: str) -> None:
    response = citizen.get(url, headers={"accept-language": "da"})
    assert response.status_code == 400
    if url.startswith("/api/"):
        assert response.json()["code"] == "bad_request"
    else:
        assert '<html lang="da">' in response.content.decode()


def test_a_form_without_its_csrf_token_gets_a_page_that_says_what_to_do(wave: Wave) -> None:
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(f"/w/{wave.code}/", {"locality": "alpha"}, headers={"accept-language": "de"})
    assert response.status_code == 403
    page = response.content.decode()
    assert '<html lang="de">' in page and "Formular abgelaufen" in page


def db_error(cause: Exception) -> OperationalError:
    """Django's error around psycopg's, as Django's wrapper raises it."""
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("failure", "status", "code", "retry_after"),
    [
        (RuntimeError("boom"), 500, "server_error", None),
        (
            db_error(psycopg.OperationalError("connection failed: Connection refused")),
            503,
            "service_unavailable",
            "30",
        ),
        (db_error(psycopg.errors.AdminShutdown("terminating connection")), 503, "service_unavailable", "30"),
        (db_error(psycopg.errors.TooManyConnections("too many clients")), 503, "service_unavailable", "30"),
        (db_error(psycopg.errors.QueryCanceled("statement timeout")), 500, "server_error", None),
        (db_error(psycopg.errors.ProgramLimitExceeded("index row size")), 500, "server_error", None),
        (OperationalError("no such table: surveys_wave"), 500, "server_error", None),  # SQLite's
        (InterfaceError("connection already closed"), 503, "service_unavailable", "30"),
        (RedisConnectionError("Error 111 connecting to 127.0.0.1:6379"), 503, "service_unavailable", "30"),
        (RedisTimeoutError("Timeout reading from socket"), 503, "service_unavailable", "30"),
        (RedisAuthenticationError("invalid password"), 500, "server_error", None),
    ],
)
def test_an_unexpected_failure_is_json_under_the_api_and_503_when_a_service_is_out_of_reach(
    monkeypatch, failure: Exception, status: int, code: str, retry_after: str | None
) -> None:
    def broken(*args, **kwargs):
        raise failure

    monkeypatch.setattr("surveys.api.views.waves_for_api", broken)
    response = Client(raise_request_exception=False).get("/api/v1/waves/")
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.get("Retry-After") == retry_after


def test_an_unexpected_failure_is_a_page_elsewhere(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("surveys.views.common.render", broken)
    response = Client(raise_request_exception=False).get("/", headers={"accept-language": "cs"})
    assert response.status_code == 500 and "Retry-After" not in response
    assert '<html lang="cs">' in response.content.decode() and "Něco se pokazilo" in response.content.decode()


def test_a_cookie_holding_a_nul_character_is_ignored(wave: Wave) -> None:
    browser = Client()
    browser.cookies.load('sessionid="abcdefgh\\000x"; csrftoken="a\\000"')
    assert "\x00" in browser.cookies["sessionid"].value
    response = browser.get(f"/w/{wave.code}/")
    assert response.status_code == 200
    assert "sessionid" not in response.wsgi_request.COOKIES  # (SQLite would take the key as it is)


def test_a_400_before_the_language_is_chosen_is_still_wholly_in_the_visitors_language(
    citizen: Client,
) -> None:
    citizen.get("/no/such/page/", headers={"accept-language": "fr"})  # leaves French active in this thread
    response = citizen.get("/w/x%00/", headers={"accept-language": "da"})
    page = response.content.decode()
    assert response.status_code == 400
    assert '<html lang="da">' in page and "Forespørgslen blev ikke forstået" in page
    assert "Accept-Language" in response["Vary"]


# --- a service out of reach: 503 with Retry-After, not 500 ----------------------------------


@contextmanager
def throttles_out_of_reach(settings) -> Iterator[None]:
    """The rate limits' Redis client pointed at a port nothing listens on."""
    from surveys.redis import redis_client, redis_script

    real = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    redis_client.cache_clear(), redis_script.cache_clear()
    try:
        yield
    finally:
        settings.REDIS_URL = real
        redis_client.cache_clear(), redis_script.cache_clear()


def test_a_submission_while_redis_is_out_of_reach_is_503_and_stored_once_it_is_back(
    wave: Wave, services, settings
) -> None:
    from tests.surveys.test_api import payload, post

    body = payload(wave)
    with throttles_out_of_reach(settings):
        refused = post(Client(raise_request_exception=False), wave, body)

    assert refused.status_code == 503
    assert refused.json()["code"] == "service_unavailable"
    assert refused["Retry-After"] == "30"
    assert not Response.objects.exists()
    assert post(Client(), wave, body).status_code == 201
    assert post(Client(), wave, body).status_code == 200
    assert Response.objects.count() == 1


def test_starting_while_redis_is_out_of_reach_is_a_503_page_in_the_visitors_language(
    wave: Wave, services, settings
) -> None:
    browser = Client(raise_request_exception=False, headers={"accept-language": "cs"})
    with throttles_out_of_reach(settings):
        response = browser.post(f"/w/{wave.code}/", {"locality": "alpha"})

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert '<html lang="cs">' in page and "Dočasně nedostupné" in page


CACHE_OUT_OF_REACH = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}
}


def test_while_the_cache_is_out_of_reach_the_api_and_officials_pages_are_503(
    wave: Wave, official_a, services
) -> None:
    official = Client(raise_request_exception=False, headers={"accept-language": "de"})
    official.force_login(official_a)

    with override_settings(CACHES=CACHE_OUT_OF_REACH):
        api = Client(raise_request_exception=False).get("/api/v1/waves/")  # rate limits count there
        page = official.get("/official/")  # the session is read through the cache

    assert api.status_code == 503 and api.json()["code"] == "service_unavailable"
    assert page.status_code == 503 and "Vorübergehend nicht verfügbar" in page.content.decode()


def test_journey_pages_are_served_while_the_cache_is_out_of_reach(wave: Wave, services) -> None:
    browser = Client()
    started = browser.post(f"/w/{wave.code}/", {"locality": "alpha"})

    with override_settings(CACHES=CACHE_OUT_OF_REACH):
        # A citizen's draft is named by a signed cookie and kept in the database: no cache read.
        response = browser.get(started["Location"])

    assert response.status_code == 200


def test_postgresql_out_of_reach_is_503_and_a_statement_timeout_500(postgres, monkeypatch) -> None:
    """Real psycopg errors: a server nothing answers for, and a statement cut short."""
    from django.db import connection, connections

    default = connections["default"]
    unreachable = default.__class__({**default.settings_dict, "PORT": 1}, alias="unreachable")

    def out_of_reach(*args, **kwargs):
        unreachable.ensure_connection()

    def too_slow(*args, **kwargs):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 1")
            cursor.execute("SELECT pg_sleep(1)")

    client = Client(raise_request_exception=False)
    monkeypatch.setattr("surveys.api.views.waves_for_api", out_of_reach)
    assert client.get("/api/v1/waves/").status_code == 503
    monkeypatch.setattr("surveys.api.views.waves_for_api", too_slow)
    assert client.get("/api/v1/waves/").status_code == 500
