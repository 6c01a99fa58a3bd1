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
    suppressed = serializers.SerializerMethodField(
        help_text=(
            "Backed by fewer respondents than the wave's threshold for that audience "
            "(min_citizens / min_officials): every estimate is withheld (null); n stays."
        )
    )

    class Meta:
        model = IndexRow
        fields = [
            "wave", "locality", "audience", "level", "key", "n", "estimate", "ci_low", "ci_high",
            "mean_score", "sd", "computed_at", "watermark", "stale", "lag_seconds", "suppressed",
        ]  # fmt: skip

    WITHHELD = ("estimate", "ci_low", "ci_high", "mean_score", "sd")

    def get_suppressed(self, row: IndexRow) -> bool:
        wave = row.wave
        threshold = wave.min_citizens if row.audience == "citizen" else wave.min_officials
        return row.n < threshold

    def to_representation(self, row: IndexRow) -> dict[str, Any]:
        data = super().to_representation(row)
        if data["suppressed"]:
            # Small cells never leave the server: with one or two officials the
            # "mean" would be a colleague's own answer.
            data.update(dict.fromkeys(self.WITHHELD))
        return data

    def _freshness(self, row: IndexRow) -> Any:
        return self.context["freshness"].get((row.wave_id, row.locality_id))

    def get_stale(self, row: IndexRow) -> bool:
        found = self._freshness(row)
        return bool(found and found.stale)

    def get_lag_seconds(self, row: IndexRow) -> float:
        found = self._freshness(row)
        return round(found.lag_seconds, 1) if found else 0.0
