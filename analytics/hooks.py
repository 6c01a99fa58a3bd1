"""How analytics learns of new responses: a receiver on surveys' narrow hook."""

from __future__ import annotations

from typing import Any

from analytics import pending


def on_response_submitted(sender: Any, *, wave_id: int, locality_id: int, **kwargs: Any) -> None:
    """Sent after the response's transaction committed: schedule a recompute."""
    pending.schedule(wave_id, locality_id)
