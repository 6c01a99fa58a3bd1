"""What the benchmarks share: Django set-up, a fresh open wave, gunicorn on
production settings over plain HTTP on loopback."""

from __future__ import annotations

import http.client
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coprod.settings.local")


def django_setup() -> None:
    import django

    django.setup()


def prepare(localities: int) -> tuple[str, list[str]]:
    """A fresh open wave of the built-in study; returns its code and locality codes."""
    from django.core.management import call_command

    from surveys.selectors import study_get
    from surveys.services.waves import localities_ensure, wave_ensure, wave_open

    call_command("migrate", verbosity=0)
    call_command("load_study", builtin=True, verbosity=0)
    study = study_get("coproduction")
    assert study is not None
    codes = [f"bench-{i:03d}" for i in range(localities)]
    found = localities_ensure(codes=codes).localities
    code = f"bench-{int(time.time())}"
    wave_open(wave=wave_ensure(code=code, study=study, localities=found).wave)
    return code, codes


def require_services() -> None:
    """Exit with a message unless PostgreSQL, Redis and the broker are configured."""
    missing = [v for v in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL") if not os.environ.get(v)]
    if missing or not os.environ["DATABASE_URL"].startswith("postgres"):
        raise SystemExit(f"Set {', '.join(missing) or 'DATABASE_URL to PostgreSQL'} (see README).")


class Server:
    """gunicorn on production settings, plain HTTP on loopback."""

    def __init__(
        self,
        port: int,
        workers: int,
        threads: int,
        root: Path = ROOT,
        settings: str = "coprod.settings.production",
    ):
        """``root``: the checkout whose code to serve (this one by default);
        ``settings``: a settings module importable from it or from bench/."""
        self.port = port
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings,
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DEBUG": "0",
            "LOG_LEVEL": "WARNING",
            "THROTTLE_SUBMIT_ANON": "10000000/minute",
            "THROTTLE_SUBMIT_WAVE": "10000000/minute",
            "THROTTLE_ANON": "10000000/minute",
            "THROTTLE_WEB_START": "10000000/minute",
        }
        if not settings.startswith("coprod."):  # one of bench/'s own
            env["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(ROOT / "bench"), os.environ.get("PYTHONPATH")])
            )
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=root, env=env, check=True
        )
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        self.process = subprocess.Popen(
            [
                gunicorn,
                "coprod.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--worker-class",
                "gthread",
                "--log-level",
                "warning",
                "--access-logfile",
                "/dev/null",
            ],
            cwd=root,
            env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/health/")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise SystemExit("gunicorn did not become healthy within 30 s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def cpu_by_program() -> dict[str, float]:
    """CPU seconds (user + system) used so far by every running process, summed
    per program name (gunicorn, postgres, redis-server, wrk, python, ...)."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        totals[name] = totals.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals


def cpu_delta(before: dict[str, float], after: dict[str, float], top: int = 5) -> str:
    """The programs that used the most CPU between two snapshots, as text."""
    used = {name: after.get(name, 0.0) - before.get(name, 0.0) for name in after}
    busiest = sorted(((s, n) for n, s in used.items() if s > 0.05), reverse=True)[:top]
    return ", ".join(f"{name} {seconds:.1f} s" for seconds, name in busiest)


# The programs that serve a request: their CPU per request is steadier from
# run to run than requests/s on a VM whose CPU speed varies.
SERVER_PROGRAMS = ("gunicorn", "postgres", "redis-server")


def server_cpu_ms(before: dict[str, float], after: dict[str, float], requests: int) -> float:
    """Milliseconds of CPU gunicorn, PostgreSQL and Redis used per request between two snapshots."""
    used = sum(after.get(name, 0.0) - before.get(name, 0.0) for name in SERVER_PROGRAMS)
    return used * 1000 / max(requests, 1)
