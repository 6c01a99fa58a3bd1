"""Answers in progress on the web forms: start, save page by page, resume, submit."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.utils import timezone

from surveys.db import update_one
from surveys.definition.answers import clean_answers, is_unanswered, storable
from surveys.errors import (
    InvitationInvalid,
    InvitationUsed,
    SubmissionForbidden,
    UnknownLocality,
    WaveNotOpen,
)
from surveys.models import Audience, Draft, Invitation, OfficialProfile, Response, Wave
from surveys.selectors import version_definition, wave_localities_recent
from surveys.services.responses import (
    SubmitResult,
    receipt_generate,
    response_submit,
    token_hash,
    wave_accepts_responses,
)


def resume_code_normalise(code: str) -> str:
    """Codes are read back by people: ignore case, spaces and dashes; O means 0, I and L mean 1."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum())
    cleaned = cleaned.translate(str.maketrans("OIL", "011"))
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}" if len(cleaned) == 12 else cleaned


def invitation_for_token(token: str) -> Invitation:
    """The unused invitation behind a token. Raises InvitationInvalid, InvitationUsed, WaveNotOpen."""
    invitation = (
        Invitation.objects.select_related("wave", "locality").filter(token_hash=token_hash(token)).first()
    )
    if invitation is None:
        raise InvitationInvalid()
    if invitation.used_at is not None:
        raise InvitationUsed()
    if not wave_accepts_responses(invitation.wave):
        raise WaveNotOpen(wave=invitation.wave)
    return invitation


def draft_start(
    *,
    wave: Wave,
    audience: str,
    locality_code: str,
    language: str,
    invitation: Invitation | None = None,
    user: User | None = None,
    answers: dict[str, Any] | None = None,
) -> Draft:
    """Begin answering. Officials must be bound to the locality; their earlier
    answer (if any) may be passed as ``answers`` to edit it. One INSERT: the
    wave's localities come from the process's recent copy (a draft is not a
    response; submitting re-checks the locality in the database).
    Raises WaveNotOpen, UnknownLocality, SubmissionForbidden."""
    if not wave_accepts_responses(wave):
        raise WaveNotOpen(wave=wave)
    locality = wave_localities_recent(wave).get(locality_code)
    if locality is None:
        raise UnknownLocality(f"Locality '{locality_code}' is not part of wave '{wave.code}'.")
    if audience == Audience.OFFICIAL and (
        user is None or not OfficialProfile.objects.filter(user=user, localities=locality).exists()
    ):
        raise SubmissionForbidden("You are not an official of this locality.")
    return Draft.objects.create(
        wave=wave,
        audience=audience,
        locality=locality,
        language=language,
        invitation=invitation,
        respondent=user if audience == Audience.OFFICIAL else None,
        answers=answers or {},
    )


def draft_save(*, draft: Draft, answers: dict[str, Any], language: str) -> Draft:
    """Merge one page's answers into ``draft``, which must not have been sent
    (see draft_save_page)."""
    saved = draft_save_page(
        wave=draft.wave, audience=draft.audience, answers=answers, language=language, id=draft.pk
    )
    if saved is None:
        raise Draft.DoesNotExist(f"No unsent draft {draft.pk}.")
    draft.answers, draft.language, draft.updated_at = saved.answers, saved.language, saved.updated_at
    return draft


def draft_save_page(
    *, wave: Wave, audience: str, answers: dict[str, Any], language: str, **draft: Any
) -> Draft | None:
    """Merge one page's answers into the unsent draft of this wave and
    audience with this ``id`` or ``submission_id``; the draft as stored after,
    or None when there is no such draft (none, or already sent).

    An empty answer clears the item. Saved unvalidated: what the respondent
    typed is never thrown away, except a value the database cannot hold (a
    NUL character: see ``storable``), which changes nothing; the validator
    names it. The merge happens against what is stored at that moment, so
    two tabs saving different pages both keep their answers. On PostgreSQL
    it is one statement, and the page needs no read before it."""
    kept = {code: value for code, value in answers.items() if storable(value)}
    given = {code: value for code, value in kept.items() if not is_unanswered(value)}
    cleared = [code for code in kept if code not in given]
    now = timezone.now()
    if connection.vendor == "postgresql":
        # PostgreSQL merges into the current row under its own row lock (an
        # UPDATE re-reads a row another transaction just changed).
        saved = update_one(
            Draft,
            "answers = (answers || %s::jsonb) - %s::text[], language = %s, updated_at = %s",
            [json.dumps(given), cleared, language, now],
            **draft,
            wave_id=wave.pk,
            audience=audience,
            response_id=None,
        )
    else:
        saved = _draft_merge_locked(
            given, cleared, language, now, **draft, wave_id=wave.pk, audience=audience
        )
    if saved is not None:
        saved.wave = wave
    return saved


@transaction.atomic
def _draft_merge_locked(
    given: dict[str, Any], cleared: list[str], language: str, now: datetime, **match: Any
) -> Draft | None:
    """The unsent draft matching ``match``, merged under its row lock (where
    the database has one); None when there is no such draft."""
    current = Draft.objects.select_for_update().filter(**match, response__isnull=True).first()
    if current is None:
        return None
    merged = {code: value for code, value in current.answers.items() if code not in cleared}
    merged.update(given)
    Draft.objects.filter(pk=current.pk).update(answers=merged, language=language, updated_at=now)
    current.answers, current.language, current.updated_at = merged, language, now
    return current


@transaction.atomic
def draft_resume_code_issue(*, draft: Draft) -> str:
    """A new resume code for the draft (replacing any earlier one); shown once."""
    while True:
        code = receipt_generate()  # same shape as a receipt: 60 random bits, easy to copy
        digest = token_hash(code)
        if not Draft.objects.filter(resume_code_hash=digest).exists():
            break
    draft.resume_code_hash = digest
    draft.save(update_fields=["resume_code_hash", "updated_at"])
    return code


def draft_for_resume_code(*, wave: Wave, code: str) -> Draft | None:
    digest = token_hash(resume_code_normalise(code))
    return Draft.objects.filter(wave=wave, resume_code_hash=digest, response__isnull=True).first()


@dataclass(frozen=True)
class DraftSubmitted:
    draft: Draft
    response: Response
    created: bool


@transaction.atomic
def draft_submit(*, draft: Draft, user: User | None = None) -> DraftSubmitted:
    """Submit the draft through response_submit, with the draft's fixed
    submission_id, so a second click stores nothing new. Answers to items
    the respondent's own later answers made irrelevant are dropped.
    Raises what response_submit raises."""
    # Only the draft row is locked; its locality comes with it (the code as stored now).
    locked = Draft.objects.select_for_update(of=("self",)).select_related("locality").get(pk=draft.pk)
    if locked.wave_id == draft.wave_id:
        locked.wave = draft.wave  # already read by the caller; response_submit re-checks it is open
    definition = version_definition(locked.wave.version_id_for(locked.audience))
    result: SubmitResult = response_submit(
        wave=locked.wave,
        submission_id=locked.submission_id,
        audience=locked.audience,
        locality_code=locked.locality.code,
        language=locked.language,
        answers=clean_answers(definition, locked.answers),
        invitation=locked.invitation,
        user=user if locked.audience == Audience.OFFICIAL else None,
    )
    if locked.response_id != result.response.pk:
        locked.response, locked.resume_code_hash, locked.updated_at = result.response, None, timezone.now()
        # One UPDATE, without a model save's signals and field-by-field pass.
        Draft.objects.filter(pk=locked.pk).update(
            response=result.response, resume_code_hash=None, updated_at=locked.updated_at
        )
    return DraftSubmitted(draft=locked, response=result.response, created=result.created)


def drafts_expire(*, older_than_days: int | None = None) -> int:
    """Delete unsent drafts not touched for ``older_than_days`` (default:
    settings.DRAFT_RETENTION_DAYS); how many were deleted. Safe to run any time."""
    days = older_than_days if older_than_days is not None else settings.DRAFT_RETENTION_DAYS
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Draft.objects.filter(response__isnull=True, updated_at__lt=cutoff).delete()
    return deleted
