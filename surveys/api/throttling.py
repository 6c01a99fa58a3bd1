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

from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

from surveys.ratelimit import parse_rate, window_hits


class WindowThrottle(BaseThrottle):
    """Fixed-window limits on one or more scopes, counted in one round trip."""

    scopes: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.rates = [parse_rate(str(api_settings.DEFAULT_THROTTLE_RATES[s])) for s in self.scopes]
        self.window_end = 0.0

    def idents(self, request: Request, view: Any) -> list[str] | None:
        """One identity per scope, or None when the throttle does not apply."""
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        idents = self.idents(request, view)
        if idents is None:
            return True
        now = time.time()
        windows, ends = [], []
        for scope, ident, (limit, period) in zip(self.scopes, idents, self.rates, strict=True):
            window = int(now // period)
            windows.append((f"throttle:{scope}:{ident}:{window}", period, limit))
            ends.append((window + 1) * period)
        counts = window_hits(windows)  # stops at the first window over its limit
        over = [
            end for count, (limit, _), end in zip(counts, self.rates, ends, strict=False) if count > limit
        ]
        self.window_end = max(over, default=0.0)
        return not over

    def wait(self) -> float:
        return max(self.window_end - time.time(), 1.0)


class SubmitAnonThrottle(WindowThrottle):
    """Anonymous submissions: per client address, and per wave across all
    addresses (a flood from many addresses cannot swamp a wave's data). The
    client's window comes first: what it refuses is not counted for the wave."""

    scopes = ("submit_anon", "submit_wave")

    def idents(self, request: Request, view: Any) -> list[str] | None:
        if request.user.is_authenticated:
            return None
        return [self.get_ident(request), str(view.kwargs.get("wave", ""))]


class UserThrottle(WindowThrottle):
    """Requests from one signed-in account (officials, survey managers, API clients)."""

    scopes = ("user",)

    def idents(self, request: Request, view: Any) -> list[str] | None:
        return [str(request.user.pk)] if request.user.is_authenticated else None


class TokenThrottle(WindowThrottle):
    """Requests for an API token from one client address."""

    scopes = ("token",)

    def idents(self, request: Request, view: Any) -> list[str] | None:
        return [self.get_ident(request)]
