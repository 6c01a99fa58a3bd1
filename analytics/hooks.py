"""How analytics learns of new responses: a receiver on surveys' narrow hook."""

from __future__ import annotations

from typing import Any

from analytics import pending


def on_response_submitted(sender: Any, *, wave_id: int, locality_id: int, **kwargs: Any) -> None:
    """Sent after the response's transaction committed: schedule a recompute."""
    pending.schedule(wave_id, locality_id)


def on_population_changed(sender: Any, *, locality_id: int, **kwargs: Any) -> None:
    """A locality's population figures changed: recompute its weighted figures
    in every wave it takes part in (the reconciler would find them too)."""
    from surveys.selectors import wave_locality_pairs

    for wave_id, _locality in wave_locality_pairs(locality_id=locality_id):
        pending.schedule(wave_id, locality_id)
