"""Accounts and roles: survey managers, analysts and officials."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission, User
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from surveys.models import Locality, OfficialProfile, ServiceArea
from surveys.roles import ANALYSTS, API_CLIENTS, SURVEY_MANAGERS

# Survey managers administer every surveys model through the admin; analysts
# may read them. Kept here, in one place, rather than in migrations, because
# permissions only exist after migrate has run.
_MANAGER_APPS = ("surveys", "analytics")


def role_groups_ensure() -> dict[str, Group]:
    """Create the role groups and give them their permissions (idempotent)."""
    managers, _ = Group.objects.get_or_create(name=SURVEY_MANAGERS)
    analysts, _ = Group.objects.get_or_create(name=ANALYSTS)
    api_clients, _ = Group.objects.get_or_create(name=API_CLIENTS)
    app_perms = Permission.objects.filter(content_type__app_label__in=_MANAGER_APPS)
    managers.permissions.add(*app_perms)
    analysts.permissions.add(*app_perms.filter(codename__startswith="view_"))
    return {SURVEY_MANAGERS: managers, ANALYSTS: analysts, API_CLIENTS: api_clients}


@dataclass
class AccountEnsured:
    user: User
    created: bool
    localities_added: list[str] = field(default_factory=list)
    service_areas_added: list[str] = field(default_factory=list)


def _user_ensure(username: str, password: str | None, **defaults: object) -> tuple[User, bool]:
    User = get_user_model()
    if password is not None:
        validate_password(password, User(username=username))
    user, created = User.objects.get_or_create(username=username, defaults=defaults)
    if password is not None:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user, created


@transaction.atomic
def manager_ensure(*, username: str, password: str | None) -> AccountEnsured:
    """A survey manager: staff access to the admin, in the Survey managers group.
    Re-running resets the password when one is given. Raises ValidationError
    for a weak password."""
    user, created = _user_ensure(username, password, is_staff=True)
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.groups.add(role_groups_ensure()[SURVEY_MANAGERS])
    return AccountEnsured(user=user, created=created)


@transaction.atomic
def official_ensure(
    *,
    username: str,
    password: str | None,
    localities: Sequence[Locality],
    service_areas: Sequence[ServiceArea] = (),
) -> AccountEnsured:
    """An official bound to localities (and optionally service areas). Bindings
    are added, never removed, so re-running is safe. Raises ValidationError
    for a weak password."""
    user, created = _user_ensure(username, password)
    profile, _ = OfficialProfile.objects.get_or_create(user=user)
    result = AccountEnsured(user=user, created=created)
    have = set(profile.localities.values_list("pk", flat=True))
    for locality in localities:
        if locality.pk not in have:
            profile.localities.add(locality)
            result.localities_added.append(locality.code)
    have_areas = set(profile.service_areas.values_list("pk", flat=True))
    for area in service_areas:
        if area.pk not in have_areas:
            profile.service_areas.add(area)
            result.service_areas_added.append(area.code)
    return result


@transaction.atomic
def api_client_ensure(*, username: str) -> tuple[User, str]:
    """An account for software that enters citizen responses on respondents'
    behalf (telephone, paper). It has no password (token only) and no admin
    access. Returns the user and its API token, created if missing."""
    from rest_framework.authtoken.models import Token

    user, created = _user_ensure(username, None)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(role_groups_ensure()[API_CLIENTS])
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key
