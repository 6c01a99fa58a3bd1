"""Content negotiation with the common case decided at once.

Nearly every client of the API sends ``Accept: */*``, ``application/json`` or
nothing, and every view but the schema renders JSON first. DRF's negotiation
parses the header into media types and ranks them on every request to reach
the same answer; here those cases are recognised as they are, and anything
else (a format override, another media type, quality values) goes through
DRF's negotiation unchanged, 406 included.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# What DRF's negotiation itself answers for these headers: the first
# renderer, under its own media type.
_ANY = frozenset({None, "*/*"})


class CommonCaseContentNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        meta = request.META
        first = next(iter(renderers), None)  # DRF passes a list
        if first is not None and not format_suffix:
            accept = meta.get("HTTP_ACCEPT")
            if (accept in _ANY or accept == first.media_type) and (
                not meta.get("QUERY_STRING") or self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            ):
                return first, first.media_type
        result: Any = super().select_renderer(request, renderers, format_suffix)
        return result
