"""One log line and one journal entry per request.

The journal is a bounded ring of the most recent requests (method, path, status, time, session), which
``GET /__admin/requests`` shows: a test can check what its app really sent. A request only appends a tuple
of what it knows; dates are formatted when the journal is read, since most entries never are.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from datetime import datetime, timezone
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.context import session_of

log = logging.getLogger("mockserver.requests")

ADMIN_PREFIX = "/__admin"


class Entry(NamedTuple):
    timestamp: float
    """Seconds since the epoch (``time.time()``) when the request ended."""
    method: str
    path: str
    query: str
    status: int
    ms: float
    session: str

    def as_dict(self) -> dict[str, Any]:
        moment = datetime.fromtimestamp(self.timestamp, timezone.utc)
        return {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "ms": round(self.ms, 2),
            "session": self.session,
        }


class Journal:
    """The most recent requests, oldest first."""

    def __init__(self, size: int = 1000) -> None:
        self._entries: deque[Entry] = deque(maxlen=size)

    def record(self, entry: Entry) -> None:
        self._entries.append(entry)

    def entries(self, session: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        found = [e for e in self._entries if session is None or e.session == session]
        return [e.as_dict() for e in (found[-limit:] if limit else found)]

    def clear(self) -> None:
        self._entries.clear()


class JournalMiddleware:
    def __init__(self, app: ASGIApp, journal: Journal) -> None:
        self.app = app
        self.journal = journal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            path = scope.get("path", "")
            query = scope.get("query_string", b"").decode("latin-1")
            if not path.startswith(ADMIN_PREFIX):
                self.journal.record(
                    Entry(time.time(), scope["method"], path, query, status, elapsed_ms, session_of(scope))
                )
            if log.isEnabledFor(logging.INFO):
                log.info("%s %s%s %d %.1fms", scope["method"], path, f"?{query}" if query else "", status, elapsed_ms)
