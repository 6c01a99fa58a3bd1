from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analytics.disclosure import (
    EVERYTHING,
    WITHHELD_REASONS,
    Disclosure,
    gap_row_disclosed,
    gap_values_disclosed,
    index_row_disclosed,
)
from analytics.models import GapRow, IndexRow

WITHHELD_HELP = (
    "Null, or why figures of this row are withheld from this caller although not suppressed: "
    "`officials_answers` (the caller is an official: every figure computed from officials' "
    "answers is null) or `answer_first` (the caller is an official of this locality who has not "
    "answered in this wave yet: every figure is null). Counts stay."
)

WITHHELD_SCHEMA = serializers.ChoiceField(choices=WITHHELD_REASONS, allow_null=True)


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
    withheld = serializers.SerializerMethodField(help_text=WITHHELD_HELP)

    class Meta:
        model = IndexRow
        fields = [
            "wave", "locality", "audience", "level", "key", "n", "estimate", "ci_low", "ci_high",
            "mean_score", "sd", "computed_at", "watermark", "stale", "lag_seconds", "suppressed",
            "withheld",
        ]  # fmt: skip

    WITHHELD = ("estimate", "ci_low", "ci_high", "mean_score", "sd")

    def get_suppressed(self, row: IndexRow) -> bool:
        wave = row.wave
        threshold = wave.min_citizens if row.audience == "citizen" else wave.min_officials
        return row.n < threshold

    @extend_schema_field(WITHHELD_SCHEMA)
    def get_withheld(self, row: IndexRow) -> str | None:
        disclosure: Disclosure = self.context["disclosure"]
        return disclosure.index_withheld(row.locality_id, row.audience)

    def to_representation(self, row: IndexRow) -> dict[str, Any]:
        data = super().to_representation(index_row_disclosed(row, self.context["disclosure"]))
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


class _Side(serializers.Serializer):
    n = serializers.IntegerField()
    estimate = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)


class _Weighting(serializers.Serializer):
    method = serializers.ChoiceField(choices=["poststratification", "raking"], allow_null=True)
    citizens_n_effective = serializers.FloatField(allow_null=True)


class GapRowSerializer(serializers.ModelSerializer):
    wave = serializers.CharField(source="wave.code")
    locality = serializers.CharField(source="locality.code")
    citizens = serializers.SerializerMethodField()
    officials = serializers.SerializerMethodField()
    weighting = serializers.SerializerMethodField(
        help_text="Weighted rows only (null otherwise): how the citizens were weighted to the "
        "locality's population by age band x gender, and their Kish effective sample size."
    )

    withheld = serializers.SerializerMethodField(help_text=WITHHELD_HELP)

    class Meta:
        model = GapRow
        fields = [
            "wave", "locality", "level", "key", "service_area", "citizens", "officials", "gap",
            "gap_ci_low", "gap_ci_high", "p_value", "q_value", "suppressed", "suppression_reason",
            "withheld", "weighted", "weighting", "computed_at", "watermark",
        ]  # fmt: skip

    @extend_schema_field(WITHHELD_SCHEMA)
    def get_withheld(self, row: GapRow) -> str | None:
        disclosure: Disclosure = self.context["disclosure"]
        return disclosure.gap_withheld(row.locality_id)

    def to_representation(self, row: GapRow) -> dict[str, Any]:
        return super().to_representation(gap_row_disclosed(row, self.context["disclosure"]))

    @extend_schema_field(_Weighting(allow_null=True))
    def get_weighting(self, row: GapRow) -> dict[str, Any] | None:
        if not row.weighted:
            return None
        return {"method": row.weighting_method or None, "citizens_n_effective": row.citizens_n_effective}

    @extend_schema_field(_Side)
    def get_citizens(self, row: GapRow) -> dict[str, Any]:
        return {
            "n": row.citizens_n,
            "estimate": row.citizens_estimate,
            "ci_low": row.citizens_ci_low,
            "ci_high": row.citizens_ci_high,
        }

    @extend_schema_field(_Side)
    def get_officials(self, row: GapRow) -> dict[str, Any]:
        return {
            "n": row.officials_n,
            "estimate": row.officials_estimate,
            "ci_low": row.officials_ci_low,
            "ci_high": row.officials_ci_high,
        }


GAP_CSV_COLUMNS = [
    "wave", "locality", "level", "key", "service_area",
    "citizens_n", "citizens_estimate", "citizens_ci_low", "citizens_ci_high",
    "officials_n", "officials_estimate", "officials_ci_low", "officials_ci_high",
    "gap", "gap_ci_low", "gap_ci_high", "p_value", "q_value", "suppressed", "suppression_reason",
    "withheld", "weighted", "weighting_method", "citizens_n_effective", "computed_at", "watermark",
]  # fmt: skip


def gap_csv_rows(rows: QuerySet[GapRow], disclosure: Disclosure = EVERYTHING) -> Iterator[dict[str, Any]]:
    """Gap rows flattened for a spreadsheet (the same figures as the JSON, as
    this caller may see them), straight from the database's columns: no model
    objects, since a wave can have tens of thousands of rows."""
    columns = [c for c in GAP_CSV_COLUMNS if c not in {"wave", "locality", "withheld"}]
    # One plain query: a PostgreSQL server-side cursor (.iterator()) made this
    # ten times slower, and even a large wave's table fits in memory.
    for values in rows.values("wave__code", "locality__code", "locality_id", *columns):
        values["wave"] = values.pop("wave__code")
        values["locality"] = values.pop("locality__code")
        values["computed_at"] = values["computed_at"].isoformat()
        locality_id = values.pop("locality_id")
        yield gap_values_disclosed(values, disclosure, locality_id)
