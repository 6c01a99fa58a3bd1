"""The floor: the least the project's stack can do per request.

Two views served beside the project's own URLs (bench/floor_settings.py),
through every middleware of the production settings:

- ``insert``: the issue's bare view, word for word (bench/bare_app.py):
  parse the body, insert one JSON row. Against the bare view itself, it
  measures what the middleware costs on its own.
- ``page``: a page with nothing of its own: read the visitor's session (as
  officials' pages do; citizens' pages read a signed cookie instead) and
  render a template with a form, its CSRF token and a translated word, in
  the visitor's language. No draft, no questionnaire.

An API submission does all that ``insert`` does and more; a journey page
does what ``page`` does, give or take the session read, and more (a POST
answered with a redirect renders no template but reads and writes the
draft). bench/rotate.py --floor reads both against the bare view, so the
issue's targets can be set beside what this stack allows at all.
"""

from __future__ import annotations

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from coprod.urls import urlpatterns as project_urlpatterns

PAGE = engines["django"].from_string(
    '{% load i18n %}<!doctype html><html lang="{{ LANGUAGE_CODE }}"><head><meta charset="utf-8">'
    "<title>{% translate 'Next' %}</title></head><body><main><form method=\"post\">{% csrf_token %}"
    "<button type=\"submit\">{% translate 'Next' %}</button></form></main></body></html>"
)


@csrf_exempt
def insert(request: HttpRequest, wave: str) -> HttpResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_response (body) VALUES (%s)", [json.dumps(body)])
    return HttpResponse(status=201)


def page(request: HttpRequest) -> HttpResponse:
    request.session.get("floor")  # the visitor's session, as officials' pages read it
    return HttpResponse(PAGE.render({}, request))


def session(request: HttpRequest) -> HttpResponse:
    """Start a session (and a CSRF cookie) for the page burst's client."""
    request.session["floor"] = True
    return HttpResponse(PAGE.render({}, request))


urlpatterns = [
    path("floor/insert/<str:wave>/", insert),
    path("floor/page/", page),
    path("floor/session/", session),
    *project_urlpatterns,
]
