"""Benchmark: API submissions through Django's WSGI handler, in process.

Posts COUNT complete citizen responses (after 30 to warm up) to the newest
bench wave (create one with bench/submit.py first) by calling the WSGI
application directly: no HTTP, no test client, no profiler. Made to be counted
by callgrind, whose instruction counts do not move with the VM's speed; the
difference between two counts, divided by the difference in COUNT, is the
instructions one submission takes:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/submit_inprocess.py 10
    valgrind --tool=callgrind --callgrind-out-file=/dev/null .venv/bin/python bench/submit_inprocess.py 110

The path depends on what Redis holds: the first submission to a locality
sets the pending mark and publishes a Celery task, later ones find the mark.
Empty the Redis database before each run (redis-cli -n N flushdb) so both
runs take the same path. Production settings, as bench/profile_pages.py
describes, with ALLOWED_HOSTS=testserver.
"""

from __future__ import annotations

import io
import sys
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import django_setup


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    django_setup()
    from django.core.handlers.wsgi import WSGIHandler
    from submit import bodies

    from surveys.models import Wave
    from surveys.selectors import wave_localities

    wave = Wave.objects.filter(code__startswith="bench-").order_by("-created_at").first()
    if wave is None:
        raise SystemExit("No bench wave: run bench/submit.py once first.")
    templates = bodies(wave.code, [loc.code for loc in wave_localities(wave)], 300)
    handler = WSGIHandler()
    path = f"/api/v1/waves/{wave.code}/responses/"
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    for n in range(30 + count):
        body = templates[n % len(templates)].replace("SUBMISSION_ID", str(uuid.uuid4())).encode()
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": path, "SCRIPT_NAME": "", "SERVER_NAME": "testserver",
            "SERVER_PORT": "80", "HTTP_HOST": "testserver", "REMOTE_ADDR": "10.0.0.1", "HTTP_ACCEPT": "*/*",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        }  # fmt: skip
        handler(environ, start_response).close()
    refused = [s for s in statuses if not s.startswith("201")]
    if refused:
        raise SystemExit(f"{len(refused)} submissions were not created, e.g. {refused[0]}")
    print(f"{len(statuses)} submissions created")


if __name__ == "__main__":
    main()
