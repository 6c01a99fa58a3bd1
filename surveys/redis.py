"""One Redis client per process for the hot paths (throttles, coalescing).

Django's cache creates a new redis-py client object for every operation,
which costs more than the round trip itself; these counters use one shared,
thread-safe client on the cache's Redis instead. None without REDIS_URL (the
callers then fall back to the cache API).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings


@lru_cache(maxsize=1)
def redis_client() -> Any | None:
    if not settings.REDIS_URL:
        return None
    import redis

    return redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)


@lru_cache(maxsize=16)
def redis_script(source: str) -> Any | None:
    """A Lua script on that client, sent by its digest (EVALSHA; loaded on
    first use and again after a server restart). None without REDIS_URL."""
    client = redis_client()
    return client.register_script(source) if client is not None else None


def key(name: str) -> str:
    return f"{settings.CACHES['default'].get('KEY_PREFIX', 'coprod')}:{name}"
