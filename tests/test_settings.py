"""Configuration from the environment: loud failures in production, safe defaults locally."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "coprod.settings.production",
    "SECRET_KEY": "x7!Qv2#pL9@mZ4$wR8^tY1&uI6*oP3(aS5)dF0_gH-jK+lZ=cXvBnM",
    "ALLOWED_HOSTS": "coprod.example.org",
    "DATABASE_URL": "postgres://coprod@db.example.org:5432/coprod",
    "CELERY_BROKER_URL": "redis://redis.example.org:6379/0",
    "REDIS_URL": "redis://redis.example.org:6379/1",
}
CONFIG_VARS = {
    *PRODUCTION_ENV, "DEBUG", "SECURE_SSL_REDIRECT", "DB_PREPARED_STATEMENTS",
    "NUM_PROXIES", "SECURE_PROXY_SSL_HEADER",
}  # fmt: skip


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in CONFIG_VARS}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"]
)
def test_production_refuses_to_start_without_a_required_variable(missing: str) -> None:
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"The environment variable {missing} is required" in result.stderr


def test_production_refuses_sqlite() -> None:
    result = manage("check", env={**PRODUCTION_ENV, "DATABASE_URL": "sqlite:///tmp/x.sqlite3"})
    assert result.returncode != 0
    assert "DATABASE_URL must point to PostgreSQL" in result.stderr


def test_a_malformed_boolean_is_named() -> None:
    result = manage("check", env={**PRODUCTION_ENV, "DEBUG": "perhaps"})
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


def test_production_settings_pass_the_deploy_checklist() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_checklist_warns_behind_a_proxy_that_the_limits_do_not_count() -> None:
    behind_proxy = {**PRODUCTION_ENV, "SECURE_PROXY_SSL_HEADER": "1"}
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=behind_proxy)
    assert result.returncode != 0 and "coprod.W001" in result.stderr + result.stdout
    counted = manage("check", "--deploy", "--fail-level", "WARNING", env={**behind_proxy, "NUM_PROXIES": "1"})
    assert counted.returncode == 0, counted.stderr


def test_local_defaults_need_no_configuration() -> None:
    script = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
        " s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1], s.DEBUG)"
    )
    result = manage("shell", "-v", "0", "-c", script, env={"DJANGO_SETTINGS_MODULE": "coprod.settings.local"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "True", "LocMemCache", "True"]


def test_the_real_services_are_used_when_their_urls_are_set() -> None:
    script = (
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER,"
        " s.CACHES['default']['BACKEND'].rsplit('.', 1)[-1])"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "coprod.settings.local",
        "DATABASE_URL": "postgres://u@h:5432/d",
        "CELERY_BROKER_URL": "redis://h:6379/0",
        "REDIS_URL": "redis://h:6379/1",
    }
    result = manage("shell", "-v", "0", "-c", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["coprod.db.postgresql", "False", "RedisCache"]


@pytest.mark.parametrize(("value", "prepared"), [(None, True), ("0", False)])
def test_prepared_statements_are_on_unless_turned_off_for_a_pooler(value: str | None, prepared: bool) -> None:
    env = {**PRODUCTION_ENV, **({"DB_PREPARED_STATEMENTS": value} if value is not None else {})}
    result = manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.DATABASES['default']['OPTIONS'])",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert ("'server_side_binding': True, 'prepare_threshold': 5" in result.stdout) is prepared
    assert "'keepalives': 1" in result.stdout


def test_a_reconcile_no_worker_took_is_dropped_before_the_next_is_due() -> None:
    """While the workers are down, beat's reconciles must not pile up in the broker."""
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reconcile-every-minute"]
    assert 0 < entry["options"]["expires"] < entry["schedule"]
