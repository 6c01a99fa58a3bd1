"""Development and test settings: the embedded default of `make run`.

Safe defaults so that a fresh clone runs with no configuration at all; every
value can still be overridden from the environment.
"""

from coprod.settings.base import *  # noqa: F403
from coprod.settings.env import env_bool, env_list, env_str

DEBUG = env_bool("DEBUG", default=True)
# Only for local use; production.py refuses to start without a real one.
SECRET_KEY = env_str("SECRET_KEY", "local-development-only-not-secret")  # type: ignore[assignment]
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
# seed_demo may create demo accounts with published passwords here.
DEMO_DATA_ALLOWED = True
# Serve static files straight from the apps, without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
