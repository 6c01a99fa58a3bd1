"""Issuing single-use invitations."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from django.db import transaction

from surveys.errors import UnknownLocality
from surveys.models import Audience, Invitation, Locality, Wave
from surveys.services.responses import token_hash


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    token: str  # shown once; only its hash is stored


@transaction.atomic
def invitations_issue(
    *, wave: Wave, audience: str, locality: Locality, count: int = 1, emails: list[str] | None = None
) -> list[IssuedInvitation]:
    """Create ``count`` invitations (or one per e-mail address) and return their
    tokens. Raises UnknownLocality when the locality is not in the wave."""
    if audience not in Audience.values:
        raise ValueError(f"unknown audience {audience!r}")
    if not wave.wave_localities.filter(locality=locality).exists():
        raise UnknownLocality(f"Locality '{locality.code}' is not part of wave '{wave.code}'.")
    addresses = emails if emails is not None else [""] * count
    issued = []
    for email in addresses:
        token = secrets.token_urlsafe(24)
        invitation = Invitation.objects.create(
            wave=wave, audience=audience, locality=locality, token_hash=token_hash(token), email=email
        )
        issued.append(IssuedInvitation(invitation=invitation, token=token))
    return issued
