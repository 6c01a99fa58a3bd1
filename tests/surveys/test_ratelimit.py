"""The fixed-window counters behind every throttle, on the real Redis."""

from __future__ import annotations

import uuid

import pytest

from surveys.ratelimit import window_hits
from surveys.redis import key as redis_key
from surveys.redis import redis_client

pytestmark = pytest.mark.usefixtures("services")


def _names(count: int) -> list[str]:
    run = uuid.uuid4().hex
    return [f"test:ratelimit:{run}:{i}" for i in range(count)]


def test_each_window_counts_its_own_requests_and_expires_after_its_period() -> None:
    minute, hour = _names(2)
    assert window_hits([(minute, 60, 100), (hour, 3600, 100)]) == [1, 1]
    assert window_hits([(minute, 60, 100), (hour, 3600, 100)]) == [2, 2]
    assert window_hits([(hour, 3600, 100)]) == [3]
    client = redis_client()
    assert 0 < client.ttl(redis_key(minute)) <= 61
    assert 3590 < client.ttl(redis_key(hour)) <= 3601  # (Redis rounds to whole seconds)


def test_a_counter_left_without_a_lifetime_gets_one_and_a_running_one_keeps_its_own() -> None:
    stray, running = _names(2)
    client = redis_client()
    client.set(redis_key(stray), 5)  # as an interrupted older client could leave it
    client.set(redis_key(running), 1, ex=30)
    assert window_hits([(stray, 60, 100), (running, 60, 100)]) == [6, 2]
    assert 0 < client.ttl(redis_key(stray)) <= 61
    assert client.ttl(redis_key(running)) <= 30  # not extended by later requests


def test_counting_survives_redis_forgetting_the_script() -> None:
    [name] = _names(1)
    assert window_hits([(name, 60, 100)]) == [1]
    # A restarted Redis holds no scripts. (This empties the script cache of
    # every client of this Redis; redis-py loads a script again when told so.)
    redis_client().script_flush()
    assert window_hits([(name, 60, 100)]) == [2]


def test_a_request_one_window_refuses_is_not_counted_in_the_windows_after_it() -> None:
    client_window, wave_window = _names(2)
    windows = [(client_window, 60, 2), (wave_window, 60, 5)]
    assert [window_hits(windows) for _ in range(4)] == [[1, 1], [2, 2], [3], [4]]
    assert int(redis_client().get(redis_key(wave_window))) == 2
    # The wider window refusing still counts the narrower one (that request was made).
    assert window_hits([(wave_window, 60, 100), (client_window, 60, 100)]) == [3, 5]


def test_replies_are_parsed_by_hiredis() -> None:
    """requirements.txt installs hiredis for the hot paths' Redis replies (docs/performance.md)."""
    pool = redis_client().connection_pool
    connection = pool.get_connection("PING")
    try:
        assert type(connection._parser).__name__ == "_HiredisParser"
    finally:
        pool.release(connection)
