"""System checks for a deployment (manage.py check --deploy)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def proxies_counted(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Behind a TLS proxy, the rate limits must know how many proxies there are."""
    proxies = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None) and proxies == 0:
        return [
            checks.Warning(
                "SECURE_PROXY_SSL_HEADER trusts a proxy, but NUM_PROXIES is 0: every rate limit "
                "and sign-in lockout counts the proxy's address, so all clients share one budget.",
                hint="Set NUM_PROXIES to the number of proxies in front of gunicorn (docs/operations.md).",
                id="coprod.W001",
            )
        ]
    return []
