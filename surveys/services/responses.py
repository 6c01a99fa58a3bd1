"""Submitting responses: the one path every web form, API call and bulk loader takes."""

from __future__ import annotations

import functools
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, cast

from django.contrib.auth.models import AnonymousUser, User
from django.db import IntegrityError, connection, transaction
from django.db.models import Field
from django.utils import timezone

from surveys.db import one_or_none
from surveys.definition.answers import answers_validate, clean_answers
from surveys.errors import (
    InvalidResponse,
    InvitationInvalid,
    InvitationUsed,
    SubmissionConflict,
    SubmissionForbidden,
    UnknownLocality,
    WaveNotOpen,
)
from surveys.models import (
    Audience,
    Invitation,
    OfficialProfile,
    Response,
    Wave,
    WaveLocality,
    WaveStatus,
)
from surveys.selectors import user_may_enter_citizen_responses, version_definition
from surveys.signals import response_submitted

# The user model is Django's default one (settings.AUTH_USER_MODEL is not swapped).
UserLike = User | AnonymousUser | None

# Crockford's base-32 alphabet: no I, L, O or U, so a receipt read aloud or
# copied by hand is hard to get wrong.
RECEIPT_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def receipt_generate() -> str:
    """12 characters of the alphabet, 60 random bits, read from the system's
    random source at once (rather than once per character)."""
    bits = secrets.randbits(60)
    raw = "".join(RECEIPT_ALPHABET[(bits >> shift) & 31] for shift in range(0, 60, 5))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def payload_hash(
    *, audience: str, locality_code: str, language: str, answers: Any, invitation_hash: str | None
) -> str:
    payload = {
        "audience": audience,
        "locality": locality_code,
        "language": language,
        "answers": answers,
        "invitation": invitation_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class SubmitResult:
    response: Response
    created: bool


def response_errors(definition: dict[str, Any], answers: Any, language: str) -> dict[str, list[str]]:
    """Every problem with a response's answers and language (empty when valid)."""
    errors = answers_validate(definition, answers)
    if language not in definition["languages"]:
        errors["language"] = [f"Must be one of: {', '.join(definition['languages'])}."]
    return errors


def wave_accepts_responses(wave: Wave) -> bool:
    """Open, and now lies between its opening and closing times."""
    now = timezone.now()
    return (
        wave.status == WaveStatus.OPEN
        and (wave.opens_at is None or wave.opens_at <= now)
        and (wave.closes_at is None or now < wave.closes_at)
    )


def _require_open_now(wave: Wave) -> None:
    """WaveNotOpen unless the wave, as stored now, accepts responses: the
    caller's copy may have been read a moment ago (selectors.wave_get_recent)."""
    current = one_or_none(Wave.objects.filter(pk=wave.pk))
    if current is None or not wave_accepts_responses(current):
        raise WaveNotOpen()


def response_submit(
    *,
    wave: Wave,
    submission_id: uuid.UUID,
    audience: str,
    locality_code: str,
    language: str,
    answers: Any,
    invitation_token: str | None = None,
    invitation: Invitation | None = None,
    user: UserLike = None,
) -> SubmitResult:
    """Validate a response against the wave's questionnaire and save it.

    An invitation comes as the token a client holds (``invitation_token``) or,
    from the web forms, as the Invitation the token was exchanged for.

    Idempotent on ``submission_id``: the same payload again returns the stored
    response with ``created=False``; a different payload raises
    SubmissionConflict. An official's new submission supersedes their earlier
    one for the same wave and locality (kept as history, ``is_current=False``).
    Analytics is told after commit, through ``surveys.signals.response_submitted``.

    Raises WaveNotOpen, UnknownLocality, InvalidResponse, InvitationInvalid,
    InvitationUsed, SubmissionForbidden, SubmissionConflict. Nothing is saved
    when it raises.
    """
    invitation_hash = token_hash(invitation_token) if invitation_token else _hash_of(invitation)
    fingerprint = payload_hash(
        audience=audience,
        locality_code=locality_code,
        language=language,
        answers=answers,
        invitation_hash=invitation_hash,
    )
    anonymous = user is None or not user.is_authenticated
    if audience == Audience.CITIZEN and anonymous and invitation_hash is None:
        return _citizen_submit_direct(wave, submission_id, locality_code, language, answers, fingerprint)
    return _submit_in_transaction(
        wave, submission_id, audience, locality_code, language, answers, invitation_hash, user, fingerprint
    )


def _citizen_submit_direct(
    wave: Wave, submission_id: uuid.UUID, locality_code: str, language: str, answers: Any, fingerprint: str
) -> SubmitResult:
    """The common case, an anonymous citizen without an invitation, in one
    INSERT ... SELECT ... ON CONFLICT statement: it checks that the locality is
    in the wave and that the submission_id is new as it inserts, so it needs
    no transaction, lock or savepoint of its own. Same outcomes as the general path."""
    if not wave_accepts_responses(wave):
        existing = one_or_none(Response.objects.filter(submission_id=submission_id))
        if existing is not None:  # a retry of a response stored before the wave closed
            return _replayed(existing, wave, fingerprint, caller=None)
        raise WaveNotOpen()
    version_id = wave.citizen_version_id
    definition = version_definition(version_id)
    errors = response_errors(definition, answers, language)
    if errors:
        # As on the general path, a locality outside the wave is reported first.
        _locality_id(wave, locality_code)
        raise InvalidResponse(errors)
    response = Response(
        wave=wave,
        questionnaire_version_id=version_id,
        audience=Audience.CITIZEN,
        language=language,
        answers=clean_answers(definition, answers),
        submission_id=submission_id,
        payload_hash=fingerprint,
        receipt=receipt_generate(),
        is_current=True,
        submitted_at=timezone.now(),
    )
    inserted = _insert_if_new(response, locality_code)
    if inserted is None:
        existing = one_or_none(Response.objects.filter(submission_id=submission_id))
        if existing is not None:
            return _replayed(existing, wave, fingerprint, caller=None)
        # The insert also refuses a wave that closed since the caller read it.
        _require_open_now(wave)
        raise _unknown_locality(wave, locality_code)
    response.pk, response.locality_id = inserted
    response._state.adding = False
    transaction.on_commit(
        lambda: response_submitted.send(
            sender=Response,
            wave_id=wave.pk,
            locality_id=response.locality_id,
            response_id=response.pk,
            audience=Audience.CITIZEN,
        )
    )
    return SubmitResult(response=response, created=True)


_DIRECT_COLUMNS = (
    "wave_id", "questionnaire_version_id", "audience", "language", "answers",
    "submission_id", "payload_hash", "receipt", "is_current", "submitted_at",
)  # fmt: skip


@functools.cache
def _direct_fields() -> list[Field]:
    return [cast(Field, Response._meta.get_field(name)) for name in _DIRECT_COLUMNS]


def _insert_if_new(response: Response, locality_code: str) -> tuple[int, int] | None:
    """Insert ``response`` for the wave's locality with this code, if the wave
    is open at ``submitted_at`` and the submission_id is new; (id, locality id),
    or None when nothing was inserted."""
    params = [
        field.get_db_prep_save(getattr(response, field.attname), connection) for field in _direct_fields()
    ]
    now = params[_DIRECT_COLUMNS.index("submitted_at")]
    table = Response._meta.db_table
    sql = (
        f"INSERT INTO {table} ({', '.join(_DIRECT_COLUMNS)}, locality_id) "  # noqa: S608 - fixed identifiers
        f"SELECT {', '.join(['%s'] * len(params))}, wl.locality_id "
        "FROM surveys_wavelocality wl JOIN surveys_locality l ON l.id = wl.locality_id "
        "JOIN surveys_wave w ON w.id = wl.wave_id "
        "WHERE wl.wave_id = %s AND l.code = %s AND w.status = %s "
        "AND (w.opens_at IS NULL OR w.opens_at <= %s) AND (w.closes_at IS NULL OR w.closes_at > %s) "
        "ON CONFLICT (submission_id) DO NOTHING RETURNING id, locality_id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, response.wave_id, locality_code, WaveStatus.OPEN, now, now])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else None


@transaction.atomic
def _submit_in_transaction(
    wave: Wave,
    submission_id: uuid.UUID,
    audience: str,
    locality_code: str,
    language: str,
    answers: Any,
    invitation_hash: str | None,
    user: UserLike,
    fingerprint: str,
) -> SubmitResult:
    """Every other case (officials, invitations, entry on a respondent's behalf)."""
    caller = user.pk if user is not None and user.is_authenticated else None
    existing = one_or_none(Response.objects.filter(submission_id=submission_id))
    if existing is not None:
        return _replayed(existing, wave, fingerprint, caller=caller)

    if audience not in Audience.values:
        raise InvalidResponse({"audience": [f"Must be one of: {', '.join(Audience.values)}."]})
    _require_open_now(wave)
    locality_id = _locality_id(wave, locality_code)
    # Who may answer comes before what the answers hold: a caller that may not
    # submit here learns that, not the questionnaire's rules.
    # A signed-in caller entering a citizen response does so on a respondent's
    # behalf; only survey managers and API clients may (not officials).
    if (
        audience == Audience.CITIZEN
        and user is not None
        and user.is_authenticated
        and not user_may_enter_citizen_responses(user)
    ):
        raise SubmissionForbidden("Only survey managers and API clients enter citizen responses.")
    respondent = _official_for(user, locality_id) if audience == Audience.OFFICIAL else None
    # (Claimed in this transaction: an invalid response below leaves it unused.)
    claimed = _invitation_claim(invitation_hash, wave, audience, locality_id) if invitation_hash else None
    version_id = wave.version_id_for(audience)
    definition = version_definition(version_id)
    errors = response_errors(definition, answers, language)
    if errors:
        raise InvalidResponse(errors)

    if respondent is not None:
        # Lock this official's profile so two concurrent submissions for the
        # same wave and locality supersede one another in order.
        OfficialProfile.objects.select_for_update().filter(user=respondent).first()
        Response.objects.filter(
            wave=wave, locality_id=locality_id, respondent=respondent, is_current=True
        ).update(is_current=False)

    response = Response(
        wave=wave,
        questionnaire_version_id=version_id,
        audience=audience,
        locality_id=locality_id,
        language=language,
        answers=clean_answers(definition, answers),
        submission_id=submission_id,
        payload_hash=fingerprint,
        receipt=receipt_generate(),
        invitation=claimed,
        respondent=respondent,
        submitted_by=user if isinstance(user, User) and respondent is None else None,
    )
    try:
        with transaction.atomic():
            response.save()
    except IntegrityError:
        # A concurrent request with the same submission_id won the race.
        existing = one_or_none(Response.objects.filter(submission_id=submission_id))
        if existing is None:
            raise
        transaction.set_rollback(True)
        return _replayed(existing, wave, fingerprint, caller=caller)

    transaction.on_commit(
        lambda: response_submitted.send(
            sender=Response,
            wave_id=wave.pk,
            locality_id=locality_id,
            response_id=response.pk,
            audience=audience,
        )
    )
    return SubmitResult(response=response, created=True)


def _locality_id(wave: Wave, locality_code: str) -> int:
    """The id of the wave's locality with this code; UnknownLocality if none."""
    found = (
        WaveLocality.objects.filter(wave=wave, locality__code=locality_code)
        .order_by()
        .values_list("locality_id", flat=True)[:1]
    )
    locality_id = next(iter(found), None)
    if locality_id is None:
        raise _unknown_locality(wave, locality_code)
    return locality_id


def _unknown_locality(wave: Wave, locality_code: str) -> UnknownLocality:
    return UnknownLocality(f"Locality '{locality_code}' is not part of wave '{wave.code}'.")


def _replayed(existing: Response, wave: Wave, fingerprint: str, *, caller: int | None) -> SubmitResult:
    """A retry: the stored response, if this caller sent the same payload.
    ``caller`` is the signed-in user's id (None: anonymous). Another caller
    sending the same submission_id and payload is not retrying: it would be
    handed someone else's receipt for an answer that was never its own."""
    sender = existing.respondent_id or existing.submitted_by_id
    if existing.wave_id != wave.pk or existing.payload_hash != fingerprint or sender != caller:
        raise SubmissionConflict()
    return SubmitResult(response=existing, created=False)


def _hash_of(invitation: Invitation | None) -> str | None:
    return invitation.token_hash if invitation is not None else None


def _invitation_claim(digest: str, wave: Wave, audience: str, locality_id: int) -> Invitation:
    invitation = one_or_none(Invitation.objects.select_for_update().filter(token_hash=digest))
    if invitation is None:
        raise InvitationInvalid()
    if (
        invitation.wave_id != wave.pk
        or invitation.audience != audience
        or invitation.locality_id != locality_id
    ):
        raise SubmissionForbidden("This invitation is for another wave, audience or locality.")
    if invitation.used_at is not None:
        raise InvitationUsed()
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    return invitation


def _official_for(user: UserLike, locality_id: int) -> User:
    if not isinstance(user, User) or not user.is_authenticated:
        raise SubmissionForbidden("Officials must sign in to answer.")
    profile = one_or_none(OfficialProfile.objects.filter(user=user, localities__pk=locality_id))
    if profile is None:
        raise SubmissionForbidden("You are not an official of this locality.")
    return user
