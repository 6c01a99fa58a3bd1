"""Django's PostgreSQL backend, with a cheaper connection health check.

With CONN_HEALTH_CHECKS on, Django checks a persistent connection at the start
of every request by sending ``SELECT 1``: one more round trip to the server on
every page and every API call. A connection the server has closed (a restart,
an idle timeout, an administrator's pg_terminate_backend) is readable at once:
the server's goodbye or end-of-file is waiting in the socket. So this check
asks the operating system (``poll``, which has no limit on descriptor
numbers) whether anything is waiting, and only when something is, or the
question cannot be answered, falls back to Django's ``SELECT 1``, which tells
a dead connection from a harmless notice.

What it cannot see is a peer that vanished without a word (a host that lost
power, a middlebox that forgot the connection): nothing arrives until the
next write. Django's ``SELECT 1`` would find that out by writing; here the
request's first query fails instead, and Django discards the connection at
the end of that request. TCP keepalives (set in the settings) and
``DB_CONN_MAX_AGE`` keep that window short: an idle connection is probed
after 30 s and is not reused after 60 s.
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
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN | select.POLLPRI)
            waiting = poller.poll(0)
        except (OSError, ValueError):
            waiting = [(-1, 0)]  # cannot tell: ask the server
        if not waiting:
            return True
        return super().is_usable()
