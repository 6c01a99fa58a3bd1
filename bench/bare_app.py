"""The issue's yardstick: a bare Django view that parses a citizen response
body and inserts it as one JSON row into PostgreSQL, and nothing else (no
middleware, no validation, no sessions). bench/bare.py serves it with gunicorn
to measure what this machine can do at all; the project's own figures are
read against it."""

from __future__ import annotations

import json
import os
import secrets

import dj_database_url
from django.conf import settings

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[],
        INSTALLED_APPS=[],
        DATABASES={"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)},
        USE_TZ=True,
    )

from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path


def submit(request: HttpRequest, wave: str) -> HttpResponse:
    body = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_response (body) VALUES (%s)", [json.dumps(body)])
    return HttpResponse(status=201)


urlpatterns = [path("api/v1/waves/<str:wave>/responses/", submit)]
application = get_wsgi_application()
