"""Production settings: every secret and address comes from the environment.

A missing required variable stops the process at start with a message that
names it (ImproperlyConfigured), rather than running with a silent default.
`python manage.py check --deploy` is clean with these settings.
"""

from coprod.settings.base import *  # noqa: F403
from coprod.settings.base import DATABASES, POSTGRESQL_ENGINE
from coprod.settings.env import env_bool, env_int, env_list, env_required

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_required("SECRET_KEY")
env_required("ALLOWED_HOSTS")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")

# The embedded defaults (SQLite, eager tasks, local-memory cache) are for a
# laptop; production names its real services explicitly.
env_required("DATABASE_URL")
env_required("CELERY_BROKER_URL")
env_required("REDIS_URL")
if DATABASES["default"]["ENGINE"] != POSTGRESQL_ENGINE:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("DATABASE_URL must point to PostgreSQL in production.")

# HTTPS everywhere. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1
# so Django trusts X-Forwarded-Proto from that proxy (and only that proxy).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
if env_bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# Preload consent in the header; submitting the domain to browsers' preload
# lists stays the operator's decision. Turning it off also silences W021.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=True)
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_COOKIE_HTTPONLY = True

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
