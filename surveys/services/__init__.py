"""Writes of the surveys app. Views, API, tasks and commands call these."""

from surveys.services.accounts import manager_ensure, official_ensure, role_groups_ensure
from surveys.services.invitations import invitations_issue
from surveys.services.responses import response_submit, wave_accepts_responses
from surveys.services.studies import study_load, study_load_file
from surveys.services.waves import localities_ensure, wave_close, wave_ensure, wave_open, wave_transition

__all__ = [
    "invitations_issue",
    "localities_ensure",
    "manager_ensure",
    "official_ensure",
    "response_submit",
    "role_groups_ensure",
    "study_load",
    "study_load_file",
    "wave_accepts_responses",
    "wave_close",
    "wave_ensure",
    "wave_open",
    "wave_transition",
]
