"""factory_boy factories for the survey domain (tests build what they need)."""

from __future__ import annotations

import uuid

import factory

from surveys.models import Audience, Invitation, Locality, Response
from surveys.services.responses import receipt_generate, token_hash


class LocalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Locality

    code = factory.Sequence(lambda n: f"loc-{n}")
    name = factory.LazyAttribute(lambda o: o.code.title())


class InvitationFactory(factory.django.DjangoModelFactory):
    """An invitation; pass wave and locality. The raw token is ``token``."""

    class Meta:
        model = Invitation
        exclude = ("token",)

    token = factory.Sequence(lambda n: f"token-{n}")
    token_hash = factory.LazyAttribute(lambda o: token_hash(o.token))
    audience = Audience.CITIZEN


class ResponseFactory(factory.django.DjangoModelFactory):
    """A raw response row, bypassing validation: only for testing constraints.
    Everything else submits through surveys.services.response_submit."""

    class Meta:
        model = Response

    audience = Audience.CITIZEN
    questionnaire_version = factory.LazyAttribute(lambda o: o.wave.citizen_version)
    language = "en"
    answers = factory.LazyFunction(dict)
    submission_id = factory.LazyFunction(uuid.uuid4)
    payload_hash = "0" * 64
    receipt = factory.LazyFunction(receipt_generate)
