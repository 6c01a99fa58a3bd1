"""Fixed-window rate limits shared by the API throttles and the web forms.

One atomic INCR per window, rather than a list of every request's timestamp;
on Redis one script counts every window of a request in one command.
"""

from __future__ import annotations

import ipaddress
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

from surveys.redis import key as redis_key
from surveys.redis import redis_script

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """'30/minute' -> (30, 60)."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0]]


# KEYS: the windows' counters, narrowest first; ARGV: per window, its lifetime
# in seconds and its limit. Each counter is incremented and, unless it already
# has one, given its lifetime; counting stops at the first window over its
# limit, so a request one window refuses uses up none of the wider windows
# after it (one client's flood, refused per client, does not spend the wave's).
WINDOW_HITS_SCRIPT = """
local counts = {}
for i, name in ipairs(KEYS) do
  counts[i] = redis.call('INCR', name)
  redis.call('EXPIRE', name, ARGV[2 * i - 1], 'NX')
  if counts[i] > tonumber(ARGV[2 * i]) then
    break
  end
end
return counts
"""


def window_hits(windows: list[tuple[str, int, int]]) -> list[int]:
    """Count one request in each (key, period, limit) window, narrowest first,
    up to and including the first one over its limit: the counts so far of the
    windows counted (fewer than ``windows`` when one refused the request).
    On Redis all of them take one command: a script, atomic, and lighter on
    the client than a pipeline of INCR and EXPIRE per window."""
    script = redis_script(WINDOW_HITS_SCRIPT)
    if script is not None:
        counts = script(
            keys=[redis_key(name) for name, _, _ in windows],
            args=[value for _, period, limit in windows for value in (period + 1, limit)],
        )
        return [int(count) for count in counts]
    counts = []
    for name, period, limit in windows:
        cache.add(name, 0, period + 1)
        try:
            counts.append(int(cache.incr(name)))
        except ValueError:  # expired between add and incr
            cache.add(name, 1, period + 1)
            counts.append(1)
        if counts[-1] > limit:
            break
    return counts


def client_ident(request: HttpRequest) -> str:
    """The client's address, behind NUM_PROXIES trusted proxies (as the API throttles see it)."""
    return str(BaseThrottle().get_ident(request))  # type: ignore[arg-type]  # reads only META


def login_client_address(request: HttpRequest) -> str | None:
    """The client's address for django-axes (AXES_CLIENT_IP_CALLABLE), read as
    the rate limits read it; None when the request has none (a request built
    in code, such as a test client's force_login)."""
    for address in (client_ident(request), request.META.get("REMOTE_ADDR")):
        try:
            # django-axes stores it in an address column: never a made-up header's text.
            return str(ipaddress.ip_address(address or ""))
        except ValueError:
            continue
    return None


def over_limit(request: HttpRequest, scope: str) -> float:
    """Count one request of this client in ``scope`` (a THROTTLE_RATES entry);
    seconds to wait when over the limit, else 0."""
    limit, period = parse_rate(settings.THROTTLE_RATES[scope])
    now = time.time()
    window = int(now // period)
    [count] = window_hits([(f"throttle:{scope}:{client_ident(request)}:{window}", period, limit)])
    return ((window + 1) * period - now) if count > limit else 0.0
