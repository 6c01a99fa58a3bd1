"""The real backing services: PostgreSQL, Redis (cache and broker) and a Celery worker.

These run against the services named by DATABASE_URL, REDIS_URL and
CELERY_BROKER_URL; in CI (COPROD_REQUIRE_SERVICES=1) a missing one fails.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from coprod.celery import app
from tests.conftest import Services


def test_the_cache_is_redis_and_round_trips(services: Services) -> None:
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    cache.set("coprod-test-key", {"n": 1}, 30)
    assert cache.get("coprod-test-key") == {"n": 1}
    cache.delete("coprod-test-key")


def test_the_database_is_postgresql(postgres: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        (version,) = cursor.fetchone()
    assert int(version) >= 150000


def test_tasks_go_to_the_broker_not_in_process(services: Services) -> None:
    assert app.conf.task_always_eager is False
    assert app.conf.broker_url == services.broker_url


def test_a_real_worker_answers_through_the_broker(celery_worker: str) -> None:
    replies = app.control.ping(destination=[celery_worker], timeout=5)
    assert replies and celery_worker in replies[0]


@pytest.mark.django_db
def test_health_reports_every_configured_service(services: Services) -> None:
    response = Client().get("/health/")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    assert all(check["ok"] for check in body["checks"].values())


@pytest.mark.django_db
def test_health_is_503_on_a_redis_older_than_7(services: Services, monkeypatch) -> None:
    from surveys.redis import redis_client

    client = redis_client()
    real = client.info("server")["redis_version"]
    assert int(real.split(".")[0]) >= 7, "the suite's own Redis must be new enough"
    monkeypatch.setattr(client, "info", lambda section: {"redis_version": "6.2.14"})

    response = Client().get("/health/")

    assert response.status_code == 503
    assert response.json()["checks"]["cache"] == {
        "ok": False,
        "error": "RedisTooOld",
        "ms": pytest.approx(0, abs=1000),
    }


@pytest.mark.django_db
def test_health_is_503_and_names_the_service_that_is_down() -> None:
    unreachable = "redis://127.0.0.1:1/0"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": unreachable,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    with override_settings(CACHES=caches, CELERY_BROKER_URL=unreachable):
        response = Client().get("/health/")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["cache"]["ok"] is False
    assert checks["broker"]["ok"] is False
