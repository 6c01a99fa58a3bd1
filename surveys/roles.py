"""The names of the role groups (see docs/operations.md, "Roles")."""

SURVEY_MANAGERS = "Survey managers"
ANALYSTS = "Analysts"
API_CLIENTS = "API clients"
