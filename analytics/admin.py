"""Read-only views of the computed figures for survey managers and analysts.

Figures are written by the recompute services only; the admin never edits them.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from analytics.models import IndexRow, LocalityState


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IndexRow)
class IndexRowAdmin(ReadOnlyAdmin):
    list_display = (
        "wave",
        "locality",
        "audience",
        "level",
        "key",
        "n",
        "estimate",
        "ci_low",
        "ci_high",
        "computed_at",
    )
    list_filter = ("wave", "audience", "level")
    search_fields = ("key", "locality__code")
    list_select_related = ("wave", "locality")


@admin.register(LocalityState)
class LocalityStateAdmin(ReadOnlyAdmin):
    list_display = (
        "wave",
        "locality",
        "response_count",
        "watermark",
        "computed_at",
        "duration_ms",
        "recomputes",
    )
    list_filter = ("wave",)
    list_select_related = ("wave", "locality")
