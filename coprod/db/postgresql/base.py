"""Django's PostgreSQL backend, with a cheaper connection health check.

With CONN_HEALTH_CHECKS on, Django checks a persistent connection at the start
of every request by sending ``SELECT 1``: one more round trip to the server on
every page and every API call, which on a busy web server costs as much as a
real query. A connection the server has closed (a restart, an idle timeout, an
administrator's pg_terminate_backend) is readable at once: the server's
goodbye or end-of-file is waiting in the socket. So the check asks the
operating system whether anything is waiting; only when something is does it
fall back to Django's ``SELECT 1``, which tells a dead connection from a
harmless notice. A connection with nothing waiting is used as it is, as it
would be without health checks, and a failure that leaves no trace in the
socket (a silent network partition) is caught exactly as Django's own check
would catch it: by the query failing and the connection being discarded at
the end of that request.
"""

from __future__ import annotations

import select

from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            waiting, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError):
            return False
        if not waiting:
            return True
        return super().is_usable()
