"""Throttles for anonymous submissions: per client address and per wave.

Signed-in callers (officials, survey managers, API clients) are not held to
these; the default user throttle applies to them instead. Rates are settings
(THROTTLE_SUBMIT_ANON, THROTTLE_SUBMIT_WAVE; see README "Configuration").
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle


class SubmitAnonThrottle(AnonRateThrottle):
    """Anonymous submissions from one client address."""

    scope = "submit_anon"


class SubmitWaveThrottle(SimpleRateThrottle):
    """All anonymous submissions to one wave: a flood from many addresses
    cannot swamp a wave's data."""

    scope = "submit_wave"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if request.user and request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": view.kwargs.get("wave", "")}


class TokenThrottle(AnonRateThrottle):
    """Requests for an API token from one client address."""

    scope = "token"
