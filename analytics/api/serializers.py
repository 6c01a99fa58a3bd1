from __future__ import annotations

from typing import Any

from rest_framework import serializers

from analytics.models import IndexRow


class IndexRowSerializer(serializers.ModelSerializer):
    wave = serializers.CharField(source="wave.code")
    locality = serializers.CharField(source="locality.code")
    stale = serializers.SerializerMethodField(help_text="Whether responses arrived that these figures miss.")
    lag_seconds = serializers.SerializerMethodField(
        help_text="How long the oldest missed response has waited (0 when fresh)."
    )

    class Meta:
        model = IndexRow
        fields = [
            "wave", "locality", "audience", "level", "key", "n", "estimate", "ci_low", "ci_high",
            "mean_score", "sd", "computed_at", "watermark", "stale", "lag_seconds",
        ]  # fmt: skip

    def _freshness(self, row: IndexRow) -> Any:
        return self.context["freshness"].get((row.wave_id, row.locality_id))

    def get_stale(self, row: IndexRow) -> bool:
        found = self._freshness(row)
        return bool(found and found.stale)

    def get_lag_seconds(self, row: IndexRow) -> float:
        found = self._freshness(row)
        return round(found.lag_seconds, 1) if found else 0.0
