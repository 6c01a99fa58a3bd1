"""The API's content negotiation answers exactly as DRF's own, only sooner."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings

from surveys.api.negotiation import CommonCaseContentNegotiation

ACCEPTS = [
    None,
    "*/*",
    "",
    "application/json",
    "application/json; indent=4",
    "application/json;q=0.5, text/html",
    "text/html",
    "text/html, */*;q=0.1",
    "application/*",
    "application/vnd.oai.openapi",
    "application/vnd.oai.openapi+json",
    "application/yaml, application/json",
    "image/png",
]
QUERIES = ["", "format=json", "format=openapi", "format=api", "page=2", "format="]
RENDERER_SETS = [
    [JSONRenderer()],
    [JSONRenderer(), BrowsableAPIRenderer()],
    [OpenApiYamlRenderer(), OpenApiJsonRenderer()],
]


def _select(negotiation, accept, query, renderers, suffix):  # type: ignore[no-untyped-def]
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    request = Request(RequestFactory().get(f"/api/v1/waves/?{query}", **headers))
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, suffix)
    except NotAcceptable:
        return "406"
    except Http404:  # a format no renderer has
        return "404"
    return type(renderer).__name__, media_type


@pytest.mark.parametrize("renderers", RENDERER_SETS, ids=lambda rs: "+".join(type(r).__name__ for r in rs))
def test_every_header_query_and_suffix_gets_drfs_own_answer(renderers) -> None:  # type: ignore[no-untyped-def]
    compared = 0
    for accept in ACCEPTS:
        for query in QUERIES:
            for suffix in (None, "json"):
                ours = _select(CommonCaseContentNegotiation(), accept, query, renderers, suffix)
                theirs = _select(DefaultContentNegotiation(), accept, query, renderers, suffix)
                assert ours == theirs, (accept, query, suffix)
                compared += 1
    assert compared == len(ACCEPTS) * len(QUERIES) * 2


def test_it_is_the_negotiation_the_api_uses() -> None:
    assert api_settings.DEFAULT_CONTENT_NEGOTIATION_CLASS is CommonCaseContentNegotiation


@pytest.mark.django_db
def test_a_client_that_takes_no_json_still_gets_406_and_the_schema_its_format() -> None:
    client = Client()
    refused = client.get("/api/v1/waves/", headers={"accept": "text/html"})
    assert refused.status_code == 406
    assert refused.json()["code"] == "not_acceptable"
    assert client.get("/api/v1/waves/", headers={"accept": "*/*"})["Content-Type"] == "application/json"
    schema = client.get("/api/v1/schema/", headers={"accept": "*/*"})
    assert schema["Content-Type"].startswith("application/vnd.oai.openapi")
    assert schema.content.startswith(b"openapi:")
    as_json = client.get("/api/v1/schema/", headers={"accept": "application/vnd.oai.openapi+json"})
    assert as_json.content.startswith(b"{")
