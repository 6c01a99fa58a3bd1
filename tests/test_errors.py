"""Errors outside the API's own views: JSON under /api/, a page in the visitor's
language elsewhere, and never a 500 for a NUL character in an address (in a
form field it is an error beside its question: tests/surveys/test_web.py)."""

from __future__ import annotations

import pytest
from django.test import Client

from surveys.models import Wave

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


def test_an_unexpected_failure_is_500_json_under_the_api(api: Client, monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("surveys.api.views.waves_for_api", broken)
    response = Client(raise_request_exception=False).get("/api/v1/waves/")
    assert response.status_code == 500
    assert response.json()["code"] == "server_error"


def test_an_unexpected_failure_is_a_page_elsewhere(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("surveys.views.common.render", broken)
    response = Client(raise_request_exception=False).get("/", headers={"accept-language": "cs"})
    assert response.status_code == 500
    assert '<html lang="cs">' in response.content.decode()


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
