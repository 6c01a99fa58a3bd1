"""Liveness and readiness for load balancers and operators: GET /health/.

Checks each configured backing service with a short timeout and answers 200
when all are reachable, 503 naming the ones that are not.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from surveys.redis import redis_client


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


# The throttles and the analytics marks use commands Redis has had since 7.0
# (EXPIRE ... NX, SET ... NX GET); on an older server every submission would fail.
OLDEST_REDIS = (7, 0)


class RedisTooOld(RuntimeError):
    """The cache's Redis predates OLDEST_REDIS."""


def _cache() -> None:
    key = "health:probe"
    cache.set(key, "ok", 10)
    if cache.get(key) != "ok":
        raise RuntimeError("cache did not return what was stored")
    client = redis_client()
    if client is not None:
        version = str(client.info("server")["redis_version"])
        if tuple(int(part) for part in version.split(".")[:2]) < OLDEST_REDIS:
            raise RedisTooOld(version)


def _broker() -> None:
    from coprod.celery import app

    with app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def checks() -> dict[str, Callable[[], None]]:
    found: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache}
    if settings.CELERY_BROKER_URL:
        found["broker"] = _broker
    return found


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    results: dict[str, dict[str, object]] = {}
    for name, check in checks().items():
        started = time.monotonic()
        try:
            check()
            results[name] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            results[name] = {"ok": False, "error": exc.__class__.__name__}
        results[name]["ms"] = round((time.monotonic() - started) * 1000, 1)
    healthy = all(r["ok"] for r in results.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results}, status=200 if healthy else 503
    )
