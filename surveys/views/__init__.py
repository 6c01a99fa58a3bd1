"""HTML pages of the surveys app: the landing page, the citizens' and the
officials' questionnaire journeys."""

from surveys.views.common import home, locked_out

__all__ = ["home", "locked_out"]
