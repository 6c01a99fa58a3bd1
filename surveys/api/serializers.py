"""API input and output shapes."""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys.models import Audience, Response, Wave, WaveLocality


class ErrorSerializer(serializers.Serializer):
    """The shape of every error response (documentation only)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        # Declared here because a field named "errors" would shadow Serializer.errors.
        return {
            "code": serializers.CharField(help_text="Machine-readable error code, e.g. invalid_response."),
            "message": serializers.CharField(help_text="What went wrong, for people."),
            "errors": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text='Per-field messages, keyed by field; answers are keyed "answers.<item code>".',
            ),
        }


class WaveLocalitySerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="locality.code")
    name = serializers.CharField(source="locality.name")

    class Meta:
        model = WaveLocality
        fields = ["code", "name", "citizen_target", "official_target"]


class WaveSerializer(serializers.ModelSerializer):
    study = serializers.CharField(source="study.code")
    localities = WaveLocalitySerializer(source="wave_localities", many=True)

    class Meta:
        model = Wave
        fields = [
            "code", "name", "study", "status", "opens_at", "closes_at",
            "min_citizens", "min_officials", "localities",
        ]  # fmt: skip


@extend_schema_field({"type": "object", "additionalProperties": True})
class JSONObjectField(serializers.Field):
    """A JSON object as the request's JSON parser produced it. (DRF's
    JSONField encodes the value again only to check that it is JSON, which
    a parsed body always is: that cost a tenth of a submission's time.)"""

    default_error_messages = {"invalid": "Expected an object mapping item codes to answers."}

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


class UUIDStringField(serializers.UUIDField):
    """A UUID written as a string, as JSON clients send one. (DRF's field also
    takes a number, or true, as the UUID with that integer value: two clients
    numbering their submissions 1, 2, 3 would then collide.)"""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class SubmissionSerializer(serializers.Serializer):
    submission_id = UUIDStringField(
        help_text="Chosen by the client (a UUID); sending it again with the same payload is a safe retry."
    )
    audience = serializers.ChoiceField(choices=Audience.choices)
    locality = serializers.CharField(max_length=64, help_text="Locality code; must be part of the wave.")
    language = serializers.CharField(max_length=8, help_text="Language the respondent answered in.")
    answers = JSONObjectField(
        help_text=(
            "Object of item code -> answer: a choice code (string), a list of codes for "
            "multiple choice, a number for number/percent, a string for text."
        )
    )
    invitation = serializers.CharField(
        required=False, allow_null=True, max_length=128, help_text="Invitation token, if any."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # Every submission builds this serializer. DRF deep-copies the declared
        # fields for each instance, rebuilding each field from its arguments;
        # an instance needs only its own field objects to bind (name, parent),
        # as none of these fields changes anything it shares with the original.
        return {name: copy.copy(field) for name, field in self._declared_fields.items()}


class SubmissionResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = Response
        fields = ["id", "submission_id", "receipt", "submitted_at"]


_DATETIME = serializers.DateTimeField()


def submission_result(response: Response) -> dict[str, Any]:
    """SubmissionResultSerializer's output, built directly: this is the hot
    path, and a serializer instance costs more than the insert behind it."""
    return {
        "id": response.pk,
        "submission_id": str(response.submission_id),
        "receipt": response.receipt,
        "submitted_at": _DATETIME.to_representation(response.submitted_at),
    }


@extend_schema_field({"type": "object", "additionalProperties": True})
class _AnyObject(serializers.JSONField):
    pass


class QuestionnaireSerializer(serializers.Serializer):
    """Documentation of the questionnaire document (built by a selector)."""

    wave = serializers.CharField()
    audience = serializers.ChoiceField(choices=Audience.choices)
    questionnaire = serializers.CharField()
    version = serializers.IntegerField()
    checksum = serializers.CharField()
    languages = serializers.ListField(child=serializers.CharField())
    title = _AnyObject()
    introduction = _AnyObject(allow_null=True)
    sections = serializers.ListField(child=_AnyObject())


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
