"""Throttles for submissions: per client address and per wave for anonymous
callers, per account for signed-in ones.

Fixed-window counters: one atomic INCR per request and throttle (a single
round trip to Redis), instead of DRF's default of reading and rewriting a list
of every request's timestamp, which grows with the limit and loses updates
between processes. Rates are settings (THROTTLE_SUBMIT_ANON,
THROTTLE_SUBMIT_WAVE, THROTTLE_USER; see docs/api.md).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/minute' -> (30, 60)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


def window_hit(key: str, period: int) -> int:
    """Count one request in the current window of ``key``; the count so far."""
    client = getattr(getattr(cache, "_cache", None), "get_client", None)
    if client is not None:  # Redis: INCR and EXPIRE in one round trip
        full_key = cache.make_and_validate_key(key)
        pipe = client(full_key, write=True).pipeline()
        pipe.incr(full_key)
        pipe.expire(full_key, period + 1, nx=True)
        return int(pipe.execute()[0])
    cache.add(key, 0, period + 1)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, period + 1)
        return 1


class WindowThrottle(BaseThrottle):
    scope = ""

    def __init__(self) -> None:
        self.limit, self.period = parse_rate(str(api_settings.DEFAULT_THROTTLE_RATES[self.scope]))
        self.window_end = 0.0

    def ident(self, request: Request, view: Any) -> str | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        ident = self.ident(request, view)
        if ident is None:
            return True
        now = time.time()
        window = int(now // self.period)
        self.window_end = (window + 1) * self.period
        return window_hit(f"throttle:{self.scope}:{ident}:{window}", self.period) <= self.limit

    def wait(self) -> float:
        return max(self.window_end - time.time(), 1.0)


class SubmitAnonThrottle(WindowThrottle):
    """Anonymous submissions from one client address."""

    scope = "submit_anon"

    def ident(self, request: Request, view: Any) -> str | None:
        return None if request.user.is_authenticated else self.get_ident(request)


class SubmitWaveThrottle(WindowThrottle):
    """All anonymous submissions to one wave: a flood from many addresses
    cannot swamp a wave's data."""

    scope = "submit_wave"

    def ident(self, request: Request, view: Any) -> str | None:
        return None if request.user.is_authenticated else str(view.kwargs.get("wave", ""))


class UserThrottle(WindowThrottle):
    """Requests from one signed-in account (officials, survey managers, API clients)."""

    scope = "user"

    def ident(self, request: Request, view: Any) -> str | None:
        return str(request.user.pk) if request.user.is_authenticated else None


class TokenThrottle(WindowThrottle):
    """Requests for an API token from one client address."""

    scope = "token"

    def ident(self, request: Request, view: Any) -> str | None:
        return self.get_ident(request)
