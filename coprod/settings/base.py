"""Settings shared by every environment.

`local` (the default of manage.py) and `production` build on this module.
Everything that differs between machines is read from the environment; see
README.md, "Configuration", for the full list.
"""

from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

from coprod.settings.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

DEBUG = env_bool("DEBUG", default=False)
SECRET_KEY = env_str("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Whether seed_demo may create demo accounts with published passwords.
DEMO_DATA_ALLOWED = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "surveys",
    "analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before the session is read: it drops a cookie holding a NUL character.
    "coprod.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so it sees the authenticated user: locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

# The admin's notices ("… was changed successfully") live in the signed-in
# user's session. Only the admin sends any, and the default (a signed cookie,
# falling back to the session) builds a signer on every request of every page.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "coprod.urls"
CSRF_FAILURE_VIEW = "coprod.errors.csrf_failure"
WSGI_APPLICATION = "coprod.wsgi.application"
ASGI_APPLICATION = "coprod.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# DATABASE_URL, e.g. postgres://user:pass@host:5432/coprod; unset: a SQLite file.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Django's PostgreSQL backend with a health check that needs no round trip (see the module).
POSTGRESQL_ENGINE = "coprod.db.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
    # TCP keepalives (libpq): a server that vanished without closing the
    # connection shows up on the socket within about a minute. A request
    # waits at most DB_CONNECT_TIMEOUT seconds for a new connection, and 30 s
    # for the server to acknowledge what it sent (tcp_user_timeout), rather
    # than the operating system's minutes, before it fails with a 503.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
            "tcp_user_timeout": 30_000,
        }
    )
    if env_bool("DB_PREPARED_STATEMENTS", True):
        # Parameters sent apart from the statement, and a statement run five
        # times on a connection prepared there (parsed and planned once):
        # less work per request for PostgreSQL and for psycopg. Turn off
        # behind a pooler in transaction mode without prepared-statement
        # support (PgBouncer before 1.21, or max_prepared_statements = 0).
        DATABASES["default"]["OPTIONS"].update({"server_side_binding": True, "prepare_threshold": 5})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default serves a few people at once; WAL lets readers and
    # the one writer proceed together, and the busy timeout waits out a lock
    # instead of failing with "database is locked".
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (throttling, sessions' helpers) ---------------------------------------
# REDIS_URL, e.g. redis://127.0.0.1:6379/1; unset: per-process local memory.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "coprod",
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
    # Sessions read from Redis, written through to the database (never lost).
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery --------------------------------------------------------------------
# CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0; unset: tasks run eagerly
# in the web process (the embedded default of `make run`).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
# A request must never hang on a broker that is down: connecting and
# publishing give up after a few seconds (the database, not the broker, is
# the source of truth; see docs/operations.md).
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
    "max_retries": 2,
}
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}
# At-least-once processing of idempotent tasks (see docs/operations.md):
# acknowledge after the task ran, and give the task back to the queue if the
# worker process dies; fetch one task at a time so a slow one holds no others.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660)
# Redis re-delivers an unacknowledged task after the visibility timeout: it
# must exceed the hard time limit, or a long task would run twice at once.
CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = CELERY_TASK_TIME_LIMIT * 2
CELERY_BROKER_CONNECTION_MAX_RETRIES = 10
# Indices and exports run on their own queues, so a long export never delays figures.
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "analytics.recompute_locality": {"queue": "indices"},
    "analytics.reconcile": {"queue": "indices"},
    "analytics.rebuild": {"queue": "indices"},
    "analytics.rebuild_locality": {"queue": "indices"},
    "analytics.wave_qvalues": {"queue": "indices"},
    "analytics.export*": {"queue": "exports"},
}
# The beat schedule, in one place.
CELERY_BEAT_SCHEDULE = {
    # A reconcile no worker took within its minute is dropped, not queued up:
    # after an outage of the workers one run catches up on everything.
    "reconcile-every-minute": {"task": "analytics.reconcile", "schedule": 60.0, "options": {"expires": 55}},
    "rebuild-nightly": {"task": "analytics.rebuild", "schedule": crontab(hour=3, minute=15)},
    "expire-drafts-daily": {"task": "surveys.expire_drafts", "schedule": crontab(hour=4, minute=0)},
}
# Unsent answers in progress are deleted after this many days untouched.
DRAFT_RETENTION_DAYS = env_int("DRAFT_RETENTION_DAYS", 30)
# Coalescing of recomputes (analytics.pending): wait this long before a
# recompute so a burst of responses lands in one; the pending mark expires
# after ANALYTICS_PENDING_TTL in case its task is lost.
ANALYTICS_COALESCE_SECONDS = float(env_str("ANALYTICS_COALESCE_SECONDS", "0.5"))
ANALYTICS_PENDING_TTL = env_int("ANALYTICS_PENDING_TTL", 60)
ANALYTICS_BROKER_BACKOFF_SECONDS = env_int("ANALYTICS_BROKER_BACKOFF_SECONDS", 10)
# How long a process may reuse a wave it read, on the citizens' pages and the
# submission fast path (the submission insert re-checks that the wave is open).
WAVE_CACHE_SECONDS = float(env_str("WAVE_CACHE_SECONDS", "2"))
# Weighted gaps: post-stratify when every age band x gender cell of a locality
# has at least this many respondents, else rake to the margins when every age
# band and gender has; else the weighted rows are suppressed (methodology.md).
ANALYTICS_WEIGHTING_MIN_CELL = env_int("ANALYTICS_WEIGHTING_MIN_CELL", 5)

# --- Auth ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # django-axes first: refuses logins locked out after repeated failures.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "surveys:login"
LOGIN_REDIRECT_URL = "surveys:after_login"
LOGOUT_REDIRECT_URL = "surveys:home"

# Login throttling (django-axes): after AXES_FAILURE_LIMIT failures for one
# username from one address, further attempts are refused for the cool-off.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "surveys.views.locked_out"
# The client's address as the rate limits read it (behind NUM_PROXIES proxies):
# behind a proxy, REMOTE_ADDR is the proxy's, and one stranger's failures would
# lock the username out for everybody.
AXES_CLIENT_IP_CALLABLE = "surveys.ratelimit.login_client_address"

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("de", _("German")),
    ("da", _("Danish")),
    ("cs", _("Czech")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Forms ---------------------------------------------------------------------
# The largest form body read (Django's default is 2.5 MB; a larger one is a 400).
# A questionnaire page, the largest form, is a few kilobytes: 1 MiB still holds
# 50 text answers of 2,000 characters, each percent-encoded from three-byte
# UTF-8. No form uploads files (studies are loaded by `manage.py load_study`);
# the API has its own limit below.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# --- API -----------------------------------------------------------------------
# Largest JSON body the API accepts; larger ones get 413 payload_too_large.
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 256 * 1024)
# Rates: "<number>/<second|minute|hour|day>". Anonymous submissions are limited
# per client address and, across all clients, per wave; signed-in survey
# managers and API clients (telephone and paper entry) are not held to them.
THROTTLE_RATES = {
    "submit_anon": env_str("THROTTLE_SUBMIT_ANON", "30/minute"),
    "submit_wave": env_str("THROTTLE_SUBMIT_WAVE", "6000/minute"),
    "token": env_str("THROTTLE_TOKEN", "10/minute"),
    # Web forms: new answer sessions and wrong resume codes per client address.
    "web_start": env_str("THROTTLE_WEB_START", "60/hour"),
    "resume_fail": env_str("THROTTLE_RESUME_FAIL", "20/hour"),
    "anon": env_str("THROTTLE_ANON", "600/minute"),
    "user": env_str("THROTTLE_USER", "100000/hour"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PARSER_CLASSES": ["surveys.api.parsers.LimitedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "surveys.api.negotiation.CommonCaseContentNegotiation",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "EXCEPTION_HANDLER": "surveys.api.errors.exception_handler",
    # Behind N reverse proxies, the client address is the Nth from the right
    # of X-Forwarded-For; unset or 0, the socket address. (Never None: DRF
    # would then take the whole header, which any client can write.)
    "NUM_PROXIES": env_int("NUM_PROXIES", 0),
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Coprod API",
    "DESCRIPTION": (
        "Survey waves, questionnaires and idempotent response submission. "
        'Errors share one shape: {"code": "...", "message": "...", "errors": {...}}. '
        "See docs/api.md."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
}

# --- Security defaults that hold everywhere -------------------------------------
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
LOGGING["loggers"]["axes"] = {"level": "WARNING"}  # type: ignore[index]
LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}  # type: ignore[index]
