"""The PostgreSQL backend's health check (coprod.db.postgresql): no round trip
for a live connection, and a connection the server closed is replaced before
the request that finds it uses it."""

from __future__ import annotations

import time

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection

pytestmark = pytest.mark.django_db(transaction=True)


def _terminate(pid: int) -> None:
    """What a server restart or an administrator does to a connection, from outside."""
    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"] or None,
        dbname=connection.settings_dict["NAME"], autocommit=True,
    ) as other:  # fmt: skip
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if not connection.is_usable():
            return


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_a_live_connection_is_usable_without_a_query(postgres: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _backend_pid()
    raw = connection.connection
    opened = []
    real_cursor = raw.cursor
    monkeypatch.setattr(raw, "cursor", lambda *a, **k: opened.append(1) or real_cursor(*a, **k))
    assert connection.is_usable()
    assert opened == []  # Django's own check sends SELECT 1 through a cursor here


def test_a_connection_the_server_closed_is_found_unusable(postgres: None) -> None:
    _terminate(_backend_pid())
    assert not connection.is_usable()
    connection.close()  # for the test database's own clean-up


def test_the_request_after_a_server_side_disconnect_gets_a_new_connection(postgres: None) -> None:
    old = _backend_pid()
    _terminate(old)
    # What Django does as each request starts and first touches the database.
    close_old_connections()
    assert _backend_pid() != old


def test_a_connection_on_a_high_descriptor_number_is_still_usable_without_a_query(
    postgres: None, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    """A busy server has many sockets open; select() cannot watch descriptors
    from 1024 on, poll() can."""
    import os
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(2048, hard), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        connection.close()
        _backend_pid()  # a new connection, on a descriptor above 1024
        assert connection.connection.fileno() >= 1024
        raw = connection.connection
        opened = []
        real_cursor = raw.cursor
        monkeypatch.setattr(raw, "cursor", lambda *a, **k: opened.append(1) or real_cursor(*a, **k))
        assert connection.is_usable()
        assert opened == []
    finally:
        connection.close()
        for fd in held:
            os.close(fd)


def test_statements_are_bound_on_the_server_and_prepared_once_repeated(postgres: None, wave) -> None:  # type: ignore[no-untyped-def]
    """Parameters travel apart from the statement, and a statement a
    connection runs again and again is parsed and planned once (the journey's
    draft read here), as DB_PREPARED_STATEMENTS (on by default) asks."""
    from surveys.db import fetch_one
    from surveys.models import Draft
    from surveys.services.drafts import draft_start

    draft = draft_start(wave=wave, audience="citizen", locality_code="alpha", language="en")
    for _ in range(settings.DATABASES["default"]["OPTIONS"]["prepare_threshold"] + 1):
        assert fetch_one(Draft, submission_id=draft.submission_id, wave_id=wave.pk) == draft
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]

    assert any('FROM "surveys_draft" WHERE "submission_id" = $1 AND "wave_id" = $2' in s for s in prepared), (
        prepared
    )


def test_a_connection_waits_seconds_not_minutes_for_a_server_that_does_not_answer(postgres) -> None:
    connection.ensure_connection()
    options = dict(item.split("=", 1) for item in connection.connection.info.dsn.split())
    assert options["connect_timeout"] == "5"
    assert options["tcp_user_timeout"] == "30000"
