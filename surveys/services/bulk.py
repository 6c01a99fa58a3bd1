"""Loading many responses at once (paper questionnaires keyed in elsewhere,
migrations, benchmarks): every response validated exactly as a submission is,
then stored in one transaction with PostgreSQL COPY.

Official rows must be first answers: an official who already has a current
answer for that wave and locality makes the whole load fail (use the
submission service to supersede an answer)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from surveys.definition.answers import clean_answers
from surveys.errors import InvalidResponse, WaveNotOpen
from surveys.models import Audience, OfficialProfile, Response, Wave, WaveLocality
from surveys.selectors import version_definition
from surveys.services.responses import (
    payload_hash,
    receipt_generate,
    response_errors,
    wave_accepts_responses,
)
from surveys.signals import response_submitted


@dataclass(frozen=True)
class BulkRow:
    locality_code: str
    language: str
    answers: dict[str, Any]
    submission_id: uuid.UUID | None = None
    audience: str = Audience.CITIZEN
    respondent_id: int | None = None  # the official, for official rows


@dataclass
class BulkResult:
    loaded: int = 0
    localities: set[int] = field(default_factory=set)


COLUMNS = (
    "wave_id", "questionnaire_version_id", "audience", "locality_id", "language", "answers",
    "submission_id", "payload_hash", "receipt", "is_current", "submitted_at", "respondent_id",
)  # fmt: skip


def responses_bulk_load(*, wave: Wave, rows: Iterable[BulkRow], batch: int = 5000) -> BulkResult:
    """Validate and store responses; all or nothing.

    Raises WaveNotOpen, or InvalidResponse naming the first invalid row
    (``row <n>.answers.<item>``). Analytics is told once per locality after
    commit, not once per response.
    """
    if not wave_accepts_responses(wave):
        raise WaveNotOpen()
    versions = {audience: wave.version_id_for(audience) for audience in Audience.values}
    definitions = {audience: version_definition(versions[audience]) for audience in Audience.values}
    localities = dict(WaveLocality.objects.filter(wave=wave).values_list("locality__code", "locality_id"))
    bindings = set(
        OfficialProfile.objects.filter(localities__in=localities.values()).values_list(
            "user_id", "localities"
        )
    )
    result = BulkResult()
    now = timezone.now()

    def records() -> Iterator[tuple[Any, ...]]:
        for number, row in enumerate(rows, start=1):
            if row.audience not in definitions:
                raise InvalidResponse(
                    {f"row {number}.audience": [f"Must be one of: {', '.join(Audience.values)}."]}
                )
            definition = definitions[row.audience]
            errors = response_errors(definition, row.answers, row.language)
            locality_id = localities.get(row.locality_code)
            if locality_id is None:
                errors["locality"] = [f"'{row.locality_code}' is not part of wave '{wave.code}'."]
            official = row.audience == Audience.OFFICIAL
            if official and (row.respondent_id, locality_id) not in bindings:
                errors["respondent"] = ["Not an official of this locality."]
            if errors:
                raise InvalidResponse({f"row {number}.{key}": value for key, value in errors.items()})
            answers = clean_answers(definition, row.answers)
            fingerprint = payload_hash(
                audience=row.audience,
                locality_code=row.locality_code,
                language=row.language,
                answers=answers,
                invitation_hash=None,
            )
            result.loaded += 1
            result.localities.add(locality_id)  # type: ignore[arg-type]  # None is an error above
            yield (
                *(wave.pk, versions[row.audience], row.audience, locality_id, row.language),
                *(json.dumps(answers, separators=(",", ":")), row.submission_id or uuid.uuid4()),
                *(fingerprint, receipt_generate(), True, now, row.respondent_id if official else None),
            )

    with transaction.atomic():
        if connection.vendor == "postgresql":
            table = Response._meta.db_table
            sql = f"COPY {table} ({', '.join(COLUMNS)}) FROM STDIN"
            with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
                for record in records():
                    copy.write_row(record)
        else:
            pending: list[Response] = []
            for record in records():
                values = dict(zip(COLUMNS, record, strict=True))
                values["answers"] = json.loads(values["answers"])
                pending.append(Response(**values))
                if len(pending) >= batch:
                    Response.objects.bulk_create(pending)
                    pending = []
            Response.objects.bulk_create(pending)
        for locality_id in result.localities:
            transaction.on_commit(partial(_announce, wave.pk, locality_id))
    return result


def _announce(wave_id: int, locality_id: int) -> None:
    response_submitted.send(
        sender=Response, wave_id=wave_id, locality_id=locality_id, response_id=None, audience=None
    )
