"""Fixed-window rate limits shared by the API throttles and the web forms.

One atomic INCR per window (pipelined: one round trip to Redis for several
windows), rather than a list of every request's timestamp.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from surveys.redis import key as redis_key
from surveys.redis import redis_client

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/minute' -> (30, 60)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


def window_hits(windows: list[tuple[str, int]]) -> list[int]:
    """Count one request in each (key, period) window; the counts so far.
    On Redis all of them take one round trip (INCR and EXPIRE, pipelined)."""
    client = redis_client()
    if client is not None:
        pipe = client.pipeline(transaction=False)
        for name, period in windows:
            pipe.incr(redis_key(name))
            pipe.expire(redis_key(name), period + 1, nx=True)
        return [int(count) for count in pipe.execute()[::2]]
    counts = []
    for name, period in windows:
        cache.add(name, 0, period + 1)
        try:
            counts.append(int(cache.incr(name)))
        except ValueError:  # expired between add and incr
            cache.add(name, 1, period + 1)
            counts.append(1)
    return counts


def client_ident(request: HttpRequest) -> str:
    """The client's address, behind NUM_PROXIES trusted proxies (as the API throttles see it)."""
    return str(BaseThrottle().get_ident(request))  # type: ignore[arg-type]  # reads only META


def over_limit(request: HttpRequest, scope: str) -> float:
    """Count one request of this client in ``scope`` (a THROTTLE_RATES entry);
    seconds to wait when over the limit, else 0."""
    limit, period = parse_rate(settings.THROTTLE_RATES[scope])
    now = time.time()
    window = int(now // period)
    [count] = window_hits([(f"throttle:{scope}:{client_ident(request)}:{window}", period)])
    return ((window + 1) * period - now) if count > limit else 0.0
