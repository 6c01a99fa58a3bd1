"""Shared fixtures: personas, the built-in study, an open wave, real services.

Tests that need a real PostgreSQL, Redis or Celery worker ask for the
``services`` fixture (or one built on it). Without the services configured
they skip, except when COPROD_REQUIRE_SERVICES=1 (as .ci/run sets it), where a
missing service is a failure.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pytest
from django.conf import settings
from django.test import Client

from surveys.definition.validate import StudyDefinition, study_definition_validate
from surveys.models import Locality, Study, Wave
from surveys.services.accounts import manager_ensure, official_ensure
from surveys.services.studies import BUILTIN_STUDY_PATH, study_file_parse, study_load
from surveys.services.waves import wave_ensure, wave_open

REQUIRE_SERVICES = os.environ.get("COPROD_REQUIRE_SERVICES", "") in {"1", "true", "yes"}
PASSWORD = "correct-horse-battery-staple"


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = settings.DATABASES["default"]
    return [
        f"coprod: database {db['ENGINE'].rsplit('.', 1)[-1]}, "
        f"cache {'redis' if settings.REDIS_URL else 'local memory'}, "
        f"broker {'redis' if settings.CELERY_BROKER_URL else 'none (eager tasks)'}, "
        f"require services: {REQUIRE_SERVICES}"
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    if not REQUIRE_SERVICES:
        return
    missing = []
    if settings.DATABASES["default"]["ENGINE"] != settings.POSTGRESQL_ENGINE:
        missing.append("DATABASE_URL (PostgreSQL)")
    if not settings.REDIS_URL:
        missing.append("REDIS_URL")
    if not settings.CELERY_BROKER_URL:
        missing.append("CELERY_BROKER_URL")
    if missing:
        raise pytest.UsageError(
            "COPROD_REQUIRE_SERVICES=1 but these services are not configured: " + ", ".join(missing)
        )


@dataclass(frozen=True)
class Services:
    redis_url: str
    broker_url: str


@pytest.fixture(scope="session")
def services() -> Services:
    """The real Redis and broker; skip (or fail in CI) when not configured."""
    if not (settings.REDIS_URL and settings.CELERY_BROKER_URL):
        message = "REDIS_URL and CELERY_BROKER_URL are not set"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return Services(redis_url=settings.REDIS_URL, broker_url=settings.CELERY_BROKER_URL)


@pytest.fixture
def postgres(db: None) -> None:
    """Tests of PostgreSQL-only behaviour; skip (or fail in CI) on SQLite."""
    if settings.DATABASES["default"]["ENGINE"] != settings.POSTGRESQL_ENGINE:
        if REQUIRE_SERVICES:
            pytest.fail("DATABASE_URL does not point to PostgreSQL")
        pytest.skip("needs PostgreSQL (set DATABASE_URL)")


# --- the instrument ---------------------------------------------------------------


@cache
def builtin_definition() -> StudyDefinition:
    """The built-in study, validated once per test session."""
    return study_definition_validate(study_file_parse(BUILTIN_STUDY_PATH))


@pytest.fixture
def study(db: None) -> Study:
    return study_load(definition=builtin_definition()).study


@pytest.fixture
def locality_a(db: None) -> Locality:
    return Locality.objects.create(code="alpha", name="Alpha")


@pytest.fixture
def locality_b(db: None) -> Locality:
    return Locality.objects.create(code="beta", name="Beta")


@pytest.fixture
def wave(study: Study, locality_a: Locality, locality_b: Locality) -> Wave:
    """An open wave of the built-in study over localities alpha and beta."""
    created = wave_ensure(code="w1", study=study, localities=[locality_a, locality_b]).wave
    return wave_open(wave=created)


# --- personas --------------------------------------------------------------------


@pytest.fixture
def manager(db: None):
    return manager_ensure(username="maria-manager", password=PASSWORD).user


@pytest.fixture
def official_a(locality_a: Locality):
    return official_ensure(username="olga-alpha", password=PASSWORD, localities=[locality_a]).user


@pytest.fixture
def official_b(locality_b: Locality):
    return official_ensure(username="otto-beta", password=PASSWORD, localities=[locality_b]).user


@pytest.fixture
def citizen() -> Client:
    """An anonymous citizen's browser."""
    return Client()


@pytest.fixture
def manager_client(manager) -> Iterator[Client]:
    client = Client()
    client.force_login(manager)
    yield client


# --- a real Celery worker -----------------------------------------------------------


@pytest.fixture(scope="module")
def celery_worker(services: Services, django_db_setup: None, django_db_blocker) -> Iterator[str]:
    """A real `celery -A coprod worker` process on the test database and the real
    broker, for one test module; yields its node name. Tests using it need
    committed data (``transactional_db``), since the worker has its own
    connection. Tasks left in the queues by earlier tests are purged first,
    and the worker is stopped after the module, so it never works on data a
    later test is flushing."""
    import subprocess
    import sys
    import time
    import uuid
    from pathlib import Path

    from coprod.celery import app

    db = settings.DATABASES["default"]
    if db["ENGINE"] != settings.POSTGRESQL_ENGINE:
        pytest.fail("the Celery worker fixture needs PostgreSQL (DATABASE_URL)")
    database_url = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    with app.connection_for_write() as conn:
        for queue in ("indices", "exports", "default"):
            # A queue that was never declared has nothing to purge.
            with contextlib.suppress(Exception):
                conn.default_channel.queue_purge(queue)
    node = f"test-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "coprod.settings.local",
    }
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "celery", "-A", "coprod", "worker"),
            *("--pool", "solo", "--concurrency", "1", "--hostname", node),
            *("--queues", "indices,exports,default"),
            *("--without-gossip", "--without-mingle", "--loglevel", "WARNING"),
        ],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited with code {process.returncode}")
            if app.control.ping(destination=[node], timeout=1.0):
                break
        else:
            pytest.fail("the Celery worker did not answer a ping within 60 s")
        yield node
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Throttle counters and lockouts live in the cache: start every test clean."""
    from django.core.cache import cache

    from surveys.selectors import recent_waves_forget

    cache.clear()
    recent_waves_forget()  # test databases roll back: the same code is another wave next time
    yield


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """A request leaves its language active in the thread (Django switches it
    per request, never back): tests that read messages outside a request must
    not depend on which request ran before them."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture
def api() -> Client:
    """An anonymous API client speaking JSON."""
    return Client(headers={"accept": "application/json"})
