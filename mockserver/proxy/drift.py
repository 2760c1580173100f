"""The drift log: every violation the proxy saw, counted by kind and by operation, the last ones kept.

Each violation is one log line (logger ``mockserver.drift``, level WARNING) naming the operation, what the
contract says and what was seen::

    drift: POST /v4/core/invite_links (create_invite_link) -> 201 | response.status | contract: one of the
    documented statuses 200, 400, 401, 413, 415 | seen: 201

``GET /__admin/drift`` shows :meth:`DriftLog.report`; ``DELETE /__admin/drift`` starts again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from datetime import datetime, timezone
from typing import Any, Iterable

from mockserver.proxy.validator import Violation

log = logging.getLogger("mockserver.drift")


class DriftLog:
    """Counts and the most recent violations. Safe to share between threads."""

    def __init__(self, keep: int = 100) -> None:
        self._lock = threading.Lock()
        self._keep = keep
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.exchanges = 0
            self.drifting_exchanges = 0
            self.not_checked = 0
            self.target_errors = 0
            self.by_kind: Counter[str] = Counter()
            self.by_operation: Counter[str] = Counter()
            self.by_side: Counter[str] = Counter()
            self.last: deque[dict[str, Any]] = deque(maxlen=self._keep)

    def note(self, *, method: str, path: str, operation: str | None, status: int,
             violations: Iterable[Violation], body_checked: bool = True) -> list[dict[str, Any]]:
        """Count one exchange and its violations; log one line per violation. The entries, as the report shows them."""
        moment = time.time()
        label = operation or f"{method} {path}"
        entries = []
        for violation in violations:
            entry = {
                "time": datetime.fromtimestamp(moment, timezone.utc).isoformat(timespec="milliseconds")
                .replace("+00:00", "Z"),
                "operation": label,
                "method": method,
                "path": path,
                "status": status,
                "kind": violation.kind,
                "expected": violation.expected,
                "seen": violation.seen,
            }
            entries.append(entry)
            log.warning("%s", line(entry))
        with self._lock:
            self.exchanges += 1
            if not body_checked:
                self.not_checked += 1
            if entries:
                self.drifting_exchanges += 1
            for entry in entries:
                self.by_kind[entry["kind"]] += 1
                self.by_operation[label] += 1
                self.by_side[entry["kind"].split(".", 1)[0]] += 1
                self.last.append(entry)
        return entries

    def note_target_error(self) -> None:
        with self._lock:
            self.exchanges += 1
            self.target_errors += 1

    def report(self) -> dict[str, Any]:
        """What ``GET /__admin/drift`` answers."""
        with self._lock:
            return {
                "total": sum(self.by_kind.values()),
                "exchanges": self.exchanges,
                "drifting_exchanges": self.drifting_exchanges,
                "by_side": dict(self.by_side),
                "by_kind": dict(self.by_kind.most_common()),
                "by_operation": dict(self.by_operation.most_common()),
                "bodies_not_checked": self.not_checked,
                "target_errors": self.target_errors,
                "last": list(self.last),
            }


def line(entry: dict[str, Any]) -> str:
    """One violation as one readable line."""
    where = f"{entry['method']} {entry['path']}"
    operation = entry["operation"]
    named = f"{where} ({operation})" if operation != where else where
    return (f"drift: {named} -> {entry['status']} | {entry['kind']} | contract: {entry['expected']} | "
            f"seen: {entry['seen']}")
