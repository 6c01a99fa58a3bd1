"""Production settings that also serve the floor views (bench/floor_urls.py).

bench/rotate.py --floor serves a checkout with these settings to measure
what the project's own stack costs before any of its code runs: the same
middleware, sessions, CSRF, languages and template engine as production.
"""

from coprod.settings.production import *  # noqa: F403

ROOT_URLCONF = "floor_urls"
