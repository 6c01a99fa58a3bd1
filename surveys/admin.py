"""The survey manager's back office.

Responses are read-only here: they come in only through the submission
service. Questionnaire versions are created by ``load_study``; a version a
wave uses is shown read-only (and the database refuses changes anyway).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from surveys.errors import InvalidWaveTransition
from surveys.models import (
    Activity,
    Invitation,
    Locality,
    OfficialProfile,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    ServiceArea,
    Study,
    Wave,
    WaveLocality,
    WaveStatus,
)
from surveys.services.population import population_changed_announce
from surveys.services.waves import wave_transition


def _text(value: dict[str, str] | None) -> str:
    if not value:
        return ""
    return value.get("en") or next(iter(value.values()), "")


class ServiceAreaInline(admin.TabularInline):
    model = ServiceArea
    extra = 0
    fields = ("code", "name", "position")


@admin.register(Study)
class StudyAdmin(admin.ModelAdmin):
    list_display = ("code", "display_name", "languages", "updated_at")
    search_fields = ("code",)
    inlines = [ServiceAreaInline]

    @admin.display(description=_("name"))
    def display_name(self, obj: Study) -> str:
        return _text(obj.name)


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ("code", "study", "display_name", "position")
    list_filter = ("study",)

    @admin.display(description=_("name"))
    def display_name(self, obj: ServiceArea) -> str:
        return _text(obj.name)


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("code", "service_area", "kind", "phase", "display_name")
    list_filter = ("study", "service_area", "kind", "phase")
    search_fields = ("code",)

    @admin.display(description=_("name"))
    def display_name(self, obj: Activity) -> str:
        return _text(obj.name)


@admin.register(Locality)
class LocalityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "parent", "has_margins")
    search_fields = ("code", "name")
    autocomplete_fields = ("parent",)

    @admin.display(boolean=True, description=_("population margins"))
    def has_margins(self, obj: Locality) -> bool:
        return obj.population_margins is not None

    def save_model(self, request: HttpRequest, obj: Locality, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "population_margins" in form.changed_data:
            population_changed_announce(obj)


class QuestionnaireVersionInline(admin.TabularInline):
    model = QuestionnaireVersion
    extra = 0
    fields = ("number", "checksum", "created_at")
    readonly_fields = fields
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("code", "study", "audience", "updated_at")
    list_filter = ("study", "audience")
    inlines = [QuestionnaireVersionInline]


@admin.register(QuestionnaireVersion)
class QuestionnaireVersionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "checksum_short", "created_at", "in_use")
    list_filter = ("questionnaire__study", "questionnaire__audience")
    readonly_fields = ("questionnaire", "number", "checksum", "created_at", "definition_pretty")
    exclude = ("definition",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Versions come from `manage.py load_study`, which validates the file.
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=_("checksum"))
    def checksum_short(self, obj: QuestionnaireVersion) -> str:
        return obj.checksum[:12]

    @admin.display(boolean=True, description=_("used by a wave"))
    def in_use(self, obj: QuestionnaireVersion) -> bool:
        return obj.citizen_waves.exists() or obj.official_waves.exists()

    @admin.display(description=_("definition"))
    def definition_pretty(self, obj: QuestionnaireVersion) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.definition, indent=2, ensure_ascii=False))


class WaveLocalityInline(admin.TabularInline):
    model = WaveLocality
    extra = 1
    autocomplete_fields = ("locality",)


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "study",
        "status",
        "opens_at",
        "closes_at",
        "min_citizens",
        "min_officials",
        "results_public",
    )
    list_filter = ("status", "study")
    search_fields = ("code", "name")
    readonly_fields = ("status", "created_at", "updated_at")
    inlines = [WaveLocalityInline]
    actions = ["open_waves", "close_waves", "archive_waves"]

    def get_readonly_fields(self, request: HttpRequest, obj: Wave | None = None) -> tuple[str, ...]:
        fields = tuple(self.readonly_fields)
        if obj is not None:
            # The instrument of a wave never changes once created.
            fields += ("study", "citizen_version", "official_version")
        return fields

    def _transition(self, request: HttpRequest, queryset: QuerySet[Wave], to: str) -> None:
        for wave in queryset:
            try:
                wave_transition(wave=wave, to=to)
                self.message_user(request, f"{wave.code}: {to}.", messages.SUCCESS)
            except InvalidWaveTransition as exc:
                self.message_user(request, f"{wave.code}: {exc}", messages.ERROR)

    @admin.action(description=_("Open selected waves"))
    def open_waves(self, request: HttpRequest, queryset: QuerySet[Wave]) -> None:
        self._transition(request, queryset, WaveStatus.OPEN)

    @admin.action(description=_("Close selected waves"))
    def close_waves(self, request: HttpRequest, queryset: QuerySet[Wave]) -> None:
        self._transition(request, queryset, WaveStatus.CLOSED)

    @admin.action(description=_("Archive selected waves"))
    def archive_waves(self, request: HttpRequest, queryset: QuerySet[Wave]) -> None:
        self._transition(request, queryset, WaveStatus.ARCHIVED)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations are issued by `manage.py issue_invitations`, which shows each
    token once; only their hashes are stored, so none can be typed in here."""

    list_display = ("pk", "wave", "audience", "locality", "email", "created_at", "used_at")
    list_filter = ("wave", "audience", "locality")
    readonly_fields = ("wave", "audience", "locality", "token_hash", "created_at", "used_at")
    search_fields = ("email",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ("receipt", "wave", "audience", "locality", "language", "is_current", "submitted_at")
    list_filter = ("wave", "audience", "locality", "is_current", "language")
    search_fields = ("receipt",)
    search_help_text = _("A receipt code or a submission id, exactly.")
    date_hierarchy = "submitted_at"
    list_select_related = ("wave", "locality")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Response], search_term: str
    ) -> tuple[QuerySet[Response], bool]:
        """Exact lookups the unique indexes serve (a table of a million
        responses cannot be scanned for a substring on every search)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(submission_id=uuid.UUID(term)), False
        except ValueError:
            return queryset.filter(receipt=term.upper()), False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting a response must go through a service that tells analytics.
        return False


@admin.register(OfficialProfile)
class OfficialProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "organisation", "locality_codes")
    search_fields = ("user__username", "organisation")
    filter_horizontal = ("localities", "service_areas")

    @admin.display(description=_("localities"))
    def locality_codes(self, obj: OfficialProfile) -> str:
        return ", ".join(loc.code for loc in obj.localities.all())

    def get_queryset(self, request: HttpRequest) -> QuerySet[OfficialProfile]:
        return super().get_queryset(request).prefetch_related("localities")
