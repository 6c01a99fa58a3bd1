"""The survey domain: the instrument (study, questionnaires) and data collection
(localities, waves, invitations, responses).

Rules that must hold under concurrency are database constraints; rules about
one row live in ``clean()``; everything else is in ``surveys.services``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

CODE_HELP = _("Lower-case letters, digits and underscores; stable once data exist.")


class Audience(models.TextChoices):
    CITIZEN = "citizen", _("Citizen")
    OFFICIAL = "official", _("Official")


class ActivityKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    COLLECTIVE = "collective", _("Collective")


class CoproductionPhase(models.TextChoices):
    COMMISSIONING = "commissioning", _("Co-commissioning")
    DESIGN = "design", _("Co-design")
    DELIVERY = "delivery", _("Co-delivery")
    ASSESSMENT = "assessment", _("Co-assessment")


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Study(TimeStamped):
    """A body of measurement: service areas, activities and questionnaires."""

    code = models.SlugField(max_length=64, unique=True, help_text=CODE_HELP)
    name = models.JSONField(help_text=_("Name per language code."))
    description = models.JSONField(default=dict, blank=True)
    languages = models.JSONField(help_text=_("Language codes; the first is the default."))

    class Meta:
        verbose_name_plural = _("studies")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ServiceArea(TimeStamped):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="service_areas")
    code = models.SlugField(max_length=64, help_text=CODE_HELP)
    name = models.JSONField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["study", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="servicearea_unique_code"),
        ]

    def __str__(self) -> str:
        return self.code


class Activity(TimeStamped):
    """One co-production behaviour; pairs the citizen and the official item."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="activities")
    service_area = models.ForeignKey(ServiceArea, on_delete=models.PROTECT, related_name="activities")
    code = models.CharField(max_length=128, help_text=_("e.g. environment.recycling"))
    kind = models.CharField(max_length=16, choices=ActivityKind.choices)
    phase = models.CharField(
        max_length=16, choices=CoproductionPhase.choices, default=CoproductionPhase.DELIVERY
    )
    name = models.JSONField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name_plural = _("activities")
        ordering = ["study", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="activity_unique_code"),
            models.CheckConstraint(condition=Q(kind__in=ActivityKind.values), name="activity_kind_valid"),
            models.CheckConstraint(
                condition=Q(phase__in=CoproductionPhase.values), name="activity_phase_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        if self.service_area_id and self.study_id and self.service_area.study_id != self.study_id:
            raise ValidationError({"service_area": _("The service area belongs to another study.")})


class Locality(TimeStamped):
    """A place results are reported for (municipality, district)."""

    code = models.SlugField(max_length=64, unique=True, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    population_margins = models.JSONField(
        null=True,
        blank=True,
        help_text=_(
            "Adult population by age band and gender, for weighting: "
            '{"18_29": {"female": 5100, "male": 4900}, ...}.'
        ),
    )

    class Meta:
        verbose_name_plural = _("localities")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=~Q(parent=F("pk")), name="locality_not_own_parent"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        margins = self.population_margins
        if margins is None:
            return
        problem = _margins_problem(margins)
        if problem:
            raise ValidationError({"population_margins": problem})


def _margins_problem(margins: object) -> str | None:
    if not isinstance(margins, dict) or not margins:
        return "Expected an object of age bands, each an object of gender counts."
    for band, by_gender in margins.items():
        if not isinstance(by_gender, dict) or not by_gender:
            return f"Age band {band!r}: expected an object of gender counts."
        for gender, count in by_gender.items():
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                return f"{band}.{gender}: expected a whole number of people, got {count!r}."
    return None


class Questionnaire(TimeStamped):
    """A questionnaire for one audience; its content lives in immutable versions."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="questionnaires")
    code = models.SlugField(max_length=64, help_text=CODE_HELP)
    audience = models.CharField(max_length=16, choices=Audience.choices)

    class Meta:
        ordering = ["study", "code"]
        constraints = [
            models.UniqueConstraint(fields=["study", "code"], name="questionnaire_unique_code"),
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="questionnaire_audience_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.study.code}/{self.code}"


class QuestionnaireVersion(models.Model):
    """One immutable definition of a questionnaire.

    A changed definition is a new version. Once a wave uses a version, a
    database trigger refuses any change to its definition (see migration
    0002), so figures can always be traced to the exact wording asked.
    """

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    checksum = models.CharField(max_length=64, help_text=_("SHA-256 of the canonical definition."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="questionnaireversion_unique_number"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="questionnaireversion_number_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire} v{self.number}"

    @property
    def audience(self) -> str:
        return self.questionnaire.audience


class WaveStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")
    ARCHIVED = "archived", _("Archived")


class WaveQuerySet(models.QuerySet["Wave"]):
    def accepting_responses(self) -> WaveQuerySet:
        """The waves that accept responses now: open, and now lies between
        their opening and closing times. The same rule, in SQL, as
        ``services.responses.wave_accepts_responses`` for one wave (a test
        holds the two to each other)."""
        now = timezone.now()
        return self.filter(
            Q(status=WaveStatus.OPEN),
            Q(opens_at__isnull=True) | Q(opens_at__lte=now),
            Q(closes_at__isnull=True) | Q(closes_at__gt=now),
        )


class Wave(TimeStamped):
    """One round of data collection."""

    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="waves")
    code = models.SlugField(max_length=64, unique=True, help_text=CODE_HELP)
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=WaveStatus.choices, default=WaveStatus.DRAFT)
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    citizen_version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="citizen_waves"
    )
    official_version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="official_waves"
    )
    localities: models.ManyToManyField[Locality, WaveLocality] = models.ManyToManyField(
        Locality, through="WaveLocality", related_name="waves"
    )
    min_citizens = models.PositiveIntegerField(
        default=10, help_text=_("Suppress a figure backed by fewer citizens than this.")
    )
    min_officials = models.PositiveIntegerField(
        default=3, help_text=_("Suppress a figure backed by fewer officials than this.")
    )
    results_public = models.BooleanField(
        default=False,
        help_text=_("Publish the gap report (with suppression applied) at /results/<wave>/ without login."),
    )

    objects = WaveQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=WaveStatus.values), name="wave_status_valid"),
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=F("opens_at")),
                name="wave_closes_after_opens",
            ),
            models.CheckConstraint(condition=Q(min_citizens__gte=1), name="wave_min_citizens_positive"),
            models.CheckConstraint(condition=Q(min_officials__gte=1), name="wave_min_officials_positive"),
            models.CheckConstraint(
                condition=~Q(citizen_version=F("official_version")),
                name="wave_versions_differ",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        errors: dict[str, object] = {}
        if self.citizen_version_id and self.citizen_version.audience != Audience.CITIZEN:
            errors["citizen_version"] = _("Choose a citizen questionnaire version.")
        if self.official_version_id and self.official_version.audience != Audience.OFFICIAL:
            errors["official_version"] = _("Choose an official questionnaire version.")
        for field in ("citizen_version", "official_version"):
            version = getattr(self, field) if getattr(self, f"{field}_id") else None
            if version and self.study_id and version.questionnaire.study_id != self.study_id:
                errors[field] = _("This version belongs to another study.")
        if errors:
            raise ValidationError(errors)

    @property
    def has_closed(self) -> bool:
        """Closed or archived, or past its closing time (rather than not open
        yet: a draft wave, or one before its opening time)."""
        return self.status in (WaveStatus.CLOSED, WaveStatus.ARCHIVED) or (
            self.closes_at is not None and self.closes_at <= timezone.now()
        )

    def version_for(self, audience: str) -> QuestionnaireVersion:
        return self.citizen_version if audience == Audience.CITIZEN else self.official_version

    def version_id_for(self, audience: str) -> int:
        return self.citizen_version_id if audience == Audience.CITIZEN else self.official_version_id


class WaveLocality(models.Model):
    """A locality in a wave's scope, with its response targets."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="wave_localities")
    locality = models.ForeignKey(Locality, on_delete=models.PROTECT, related_name="wave_localities")
    citizen_target = models.PositiveIntegerField(null=True, blank=True)
    official_target = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["wave", "locality__code"]
        constraints = [
            models.UniqueConstraint(fields=["wave", "locality"], name="wavelocality_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.wave.code}/{self.locality.code}"


class Invitation(models.Model):
    """A single-use token bound to a wave, an audience and a locality.

    Only the SHA-256 of the token is stored; the token itself is shown once,
    when the invitation is issued.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="invitations")
    audience = models.CharField(max_length=16, choices=Audience.choices)
    locality = models.ForeignKey(Locality, on_delete=models.PROTECT, related_name="invitations")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    email = models.EmailField(blank=True, help_text=_("Optional: where the invitation was sent."))
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(audience__in=Audience.values), name="invitation_audience_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.wave.code}/{self.locality.code}/{self.audience} #{self.pk}"


class Response(models.Model):
    """One complete submission; its answers live in one JSON document.

    ``submission_id`` is chosen by the client and makes retries safe.
    An official's new submission for the same wave and locality supersedes
    the earlier one, which stays as history with ``is_current = False``.
    """

    # Every index here is written on every submission, so there are no more of
    # them than the queries need: wave_id is the prefix of response_wave_loc_idx,
    # and the user columns, empty for citizens, are indexed only where set.
    wave = models.ForeignKey(Wave, on_delete=models.PROTECT, related_name="responses", db_index=False)
    questionnaire_version = models.ForeignKey(
        QuestionnaireVersion, on_delete=models.PROTECT, related_name="responses"
    )
    audience = models.CharField(max_length=16, choices=Audience.choices)
    locality = models.ForeignKey(Locality, on_delete=models.PROTECT, related_name="responses")
    language = models.CharField(max_length=8)
    answers = models.JSONField()
    submission_id = models.UUIDField(unique=True, default=uuid.uuid4)
    payload_hash = models.CharField(
        max_length=64, help_text=_("SHA-256 of the submitted payload, to tell retries from conflicts.")
    )
    receipt = models.CharField(max_length=16)
    invitation = models.OneToOneField(
        Invitation, null=True, blank=True, on_delete=models.PROTECT, related_name="response"
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="survey_responses",
        db_index=False,
        help_text=_("The official who answered; empty for anonymous citizens."),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        help_text=_("Who entered it on the respondent's behalf (telephone, paper), if anyone."),
    )
    is_current = models.BooleanField(default=True)
    submitted_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["wave", "locality", "audience", "is_current"], name="response_wave_loc_idx"),
            models.Index(
                fields=["respondent"], condition=Q(respondent__isnull=False), name="response_respondent_idx"
            ),
            models.Index(
                fields=["submitted_by"],
                condition=Q(submitted_by__isnull=False),
                name="response_submitted_by_idx",
            ),
        ]
        constraints = [
            # A constraint, not unique=True: that would add a second, LIKE-pattern
            # index on PostgreSQL that no query uses.
            models.UniqueConstraint(fields=["receipt"], name="response_receipt_unique"),
            models.CheckConstraint(condition=Q(audience__in=Audience.values), name="response_audience_valid"),
            # An official has one current answer per wave and locality.
            models.UniqueConstraint(
                fields=["wave", "locality", "respondent"],
                condition=Q(is_current=True, respondent__isnull=False),
                name="response_one_current_per_official",
            ),
            models.CheckConstraint(
                condition=Q(audience=Audience.CITIZEN) | Q(respondent__isnull=False),
                name="response_official_has_respondent",
            ),
        ]

    def __str__(self) -> str:
        return self.receipt


class Draft(TimeStamped):
    """Answers in progress, kept server-side while a respondent moves between pages.

    Identified by the browser session and, on request, by a resume code (only
    its hash is stored). ``submission_id`` is fixed when the draft starts, so
    submitting twice (a double click, a retried request) stores one response.
    """

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="drafts")
    audience = models.CharField(max_length=16, choices=Audience.choices)
    locality = models.ForeignKey(Locality, on_delete=models.CASCADE, related_name="drafts")
    language = models.CharField(max_length=8)
    answers = models.JSONField(default=dict)
    submission_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    invitation = models.ForeignKey(
        Invitation, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts"
    )
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="drafts"
    )
    resume_code_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    response = models.OneToOneField(
        Response, null=True, blank=True, on_delete=models.SET_NULL, related_name="draft"
    )

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(condition=Q(audience__in=Audience.values), name="draft_audience_valid"),
        ]

    def __str__(self) -> str:
        return f"draft {self.pk} ({self.wave.code}/{self.locality.code})"

    @property
    def submitted(self) -> bool:
        return self.response_id is not None


class OfficialProfile(TimeStamped):
    """A user who answers the officials' questionnaire for some localities."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="official_profile"
    )
    localities = models.ManyToManyField(Locality, related_name="officials")
    service_areas = models.ManyToManyField(ServiceArea, blank=True, related_name="officials")
    organisation = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["user__username"]

    def __str__(self) -> str:
        return str(self.user)
