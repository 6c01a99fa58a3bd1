"""Precomputed engagement indices and the state of each (wave, locality) computation.

Reports read these rows only; nothing recomputes statistics on request.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

# Bump when the definition of any index changes; every row records the
# definition it was computed with, and the nightly rebuild recomputes rows of
# older definitions.
INDEX_DEFINITION = 1


class Level(models.TextChoices):
    ACTIVITY = "activity", _("Activity")
    SERVICE_AREA = "service_area", _("Service area")
    KIND = "kind", _("Individual or collective")
    OVERALL = "overall", _("Overall")


class IndexRow(models.Model):
    """One engagement index of one audience in one locality and wave.

    Citizens: the engaged share (activity level) or the mean per-respondent
    share of activities engaged in (other levels). Officials: the mean estimate
    as a share (activity level) or the mean per-official mean estimate.
    """

    wave = models.ForeignKey("surveys.Wave", on_delete=models.CASCADE, related_name="+")
    locality = models.ForeignKey("surveys.Locality", on_delete=models.CASCADE, related_name="+")
    audience = models.CharField(max_length=16)
    level = models.CharField(max_length=16, choices=Level.choices)
    key = models.CharField(max_length=128)
    n = models.PositiveIntegerField()
    estimate = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    mean_score = models.FloatField(null=True)
    sd = models.FloatField(null=True)
    definition = models.PositiveSmallIntegerField(default=INDEX_DEFINITION)
    watermark = models.BigIntegerField(help_text=_("Highest response id included."))
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "locality", "audience", "level", "key"], name="indexrow_unique"
            ),
            models.CheckConstraint(
                condition=Q(estimate__isnull=True) | Q(estimate__gte=0, estimate__lte=1),
                name="indexrow_estimate_is_share",
            ),
        ]
        indexes = [models.Index(fields=["wave", "level", "audience"], name="indexrow_wave_level_idx")]

    def __str__(self) -> str:
        return f"{self.wave_id}/{self.locality_id}/{self.audience}/{self.level}/{self.key}"


class LocalityState(models.Model):
    """What the stored figures of a (wave, locality) were computed from.

    The fingerprint (count and id sum of the responses that count) lets the
    reconciler find any (wave, locality) whose figures lag its responses.
    """

    wave = models.ForeignKey("surveys.Wave", on_delete=models.CASCADE, related_name="+")
    locality = models.ForeignKey("surveys.Locality", on_delete=models.CASCADE, related_name="+")
    response_count = models.PositiveIntegerField(default=0)
    id_sum = models.BigIntegerField(default=0)
    watermark = models.BigIntegerField(default=0)
    definition = models.PositiveSmallIntegerField(default=INDEX_DEFINITION)
    computed_at = models.DateTimeField()
    thresholds = models.CharField(
        max_length=32,
        default="",
        help_text=_("The wave's suppression thresholds the gaps were computed with."),
    )
    weighting = models.CharField(
        max_length=64,
        default="",
        blank=True,
        help_text=_("The population table and minimum cell the weighted gaps were computed with."),
    )
    duration_ms = models.FloatField(default=0)
    recomputes = models.PositiveIntegerField(default=0, help_text=_("How many times it was computed."))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["wave", "locality"], name="localitystate_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.wave_id}/{self.locality_id} @ {self.watermark}"


class GapRow(models.Model):
    """The perception gap of one locality and wave at one level and key:
    citizens' engaged share minus officials' estimate (see docs/methodology.md).

    A suppressed row keeps its counts; every estimate, interval and p/q value
    in it is null. Weighted rows (``weighted``) are the variant with citizens
    weighted to the locality's population by age band x gender; they sit
    beside the unweighted rows, never in their place.
    """

    wave = models.ForeignKey("surveys.Wave", on_delete=models.CASCADE, related_name="+")
    locality = models.ForeignKey("surveys.Locality", on_delete=models.CASCADE, related_name="+")
    level = models.CharField(max_length=16, choices=Level.choices)
    key = models.CharField(max_length=128)
    service_area = models.CharField(max_length=64, blank=True)
    citizens_n = models.PositiveIntegerField()
    citizens_estimate = models.FloatField(null=True)
    citizens_ci_low = models.FloatField(null=True)
    citizens_ci_high = models.FloatField(null=True)
    officials_n = models.PositiveIntegerField()
    officials_estimate = models.FloatField(null=True)
    officials_ci_low = models.FloatField(null=True)
    officials_ci_high = models.FloatField(null=True)
    gap = models.FloatField(null=True)
    gap_ci_low = models.FloatField(null=True)
    gap_ci_high = models.FloatField(null=True)
    p_value = models.FloatField(null=True)
    q_value = models.FloatField(null=True)
    suppressed = models.BooleanField(default=False)
    suppression_reason = models.TextField(blank=True)
    suppression_notes = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Why it is suppressed, as codes with parameters (analytics.reasons)."),
    )
    weighted = models.BooleanField(default=False)
    weighting_method = models.CharField(
        max_length=32, blank=True, help_text=_("poststratification or raking (weighted rows).")
    )
    citizens_n_effective = models.FloatField(
        null=True, help_text=_("Kish effective sample size of the weighted citizens.")
    )
    definition = models.PositiveSmallIntegerField(default=INDEX_DEFINITION)
    watermark = models.BigIntegerField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "locality", "level", "key", "weighted"], name="gaprow_unique"
            ),
            models.CheckConstraint(
                condition=Q(suppressed=False)
                | Q(
                    citizens_estimate__isnull=True,
                    officials_estimate__isnull=True,
                    gap__isnull=True,
                    p_value__isnull=True,
                    q_value__isnull=True,
                    citizens_n_effective__isnull=True,
                ),
                name="gaprow_suppressed_has_no_estimates",
            ),
        ]
        indexes = [models.Index(fields=["wave", "weighted", "level"], name="gaprow_wave_weighted_idx")]

    def __str__(self) -> str:
        return f"{self.wave_id}/{self.locality_id}/{self.level}/{self.key}"
