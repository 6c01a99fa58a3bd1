"""Domain errors of the surveys app.

Each failure has one type and a stable machine-readable ``code``; the API
layer maps them to HTTP status codes in one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from surveys.models import Wave


class SurveysError(Exception):
    code = "surveys_error"

    def __init__(self, message: str = ""):
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = str(self)


class WaveNotOpen(SurveysError):
    """The wave is not open for responses."""

    code = "wave_not_open"

    def __init__(self, message: str = "", *, wave: Wave | None = None):
        super().__init__(message)
        self.wave = wave  # when the raiser has it: has it closed, or not opened yet?


class UnknownLocality(SurveysError):
    """The locality is not part of this wave."""

    code = "unknown_locality"


class InvitationUsed(SurveysError):
    """This invitation has already been used."""

    code = "invitation_used"


class InvitationInvalid(SurveysError):
    """The invitation token is unknown."""

    code = "invitation_invalid"


class SubmissionForbidden(SurveysError):
    """The caller may not submit this response (wrong audience, locality or invitation)."""

    code = "forbidden"


class SubmissionConflict(SurveysError):
    """This submission_id was already used for a different payload."""

    code = "submission_conflict"


class FieldErrors(SurveysError):
    """Errors per field: ``errors`` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class InvalidResponse(FieldErrors):
    """The response does not fit the questionnaire."""

    code = "invalid_response"


class InvalidWave(FieldErrors):
    """The wave's settings are inconsistent."""

    code = "invalid_wave"


class InvalidWaveTransition(SurveysError):
    """The wave cannot move to that status from its current one."""

    code = "invalid_wave_transition"
