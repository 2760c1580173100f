"""Recordings of live traffic (``mockserver proxy --record PATH``) and the mock state they imply (``serve --seed-from``).

A recording is JSON lines, one exchange per line, in the order the answers came::

    {"time": "2026-01-02T10:00:00.123Z", "api": "rootfi", "operation": "update_invite_link", "method": "PUT",
     "path": "/core/invite_links/1", "path_parameters": {"invite_link_id": "1"}, "query": "",
     "caller": null, "ms": 4.2,
     "request": {"headers": [["api_key", "[REDACTED]"], ...], "body_encoding": "json", "body": {...}},
     "response": {"status": 200, "headers": [...], "body_encoding": "json", "body": {...}},
     "violations": [], "answered": 200}

* Paths are relative to the API's server URL (as in the spec). Bodies are kept whole up to the proxy's capture
  limit (``body_encoding``: ``json``, ``text``, ``base64``, ``none`` for no body, ``omitted`` when larger), and
  answers without their content coding (gzip...).
* Secrets are redacted: the ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and ``Set-Cookie`` headers,
  every credential the API's security schemes name (RootFi's ``api_key`` header, MPDX's ``access_token``
  query parameter) and common API-key headers and query parameters. A token's scheme word stays
  (``Bearer [REDACTED]``). Instead of a credential, ``caller`` holds the id the mock derives from it (MPDX's
  user id, Torii's ``uploadedBy``), so that seeding can say who made a record without the secret.
* ``violations`` are the contract violations the proxy saw on that exchange; ``answered`` is the status the
  client got (502 when ``--fail-on-drift`` replaced a drifting answer).

Seeding: :func:`recorded_states` replays the successful, non-drifting exchanges through each vendor module's
``records_from_exchange``, which knows how that API's answers map to stored records; the result is each
resource's last recorded representation (created, read and updated ones present, deleted ones absent or, for
MPDX's soft cancel, cancelled). With ``--seed-from``, every new session of an API found in the recording starts
with those records instead of the documented examples (:func:`recorded_seeder`, which the mock uses in place of the vendor's ``seed``).
"""

from __future__ import annotations

import base64
import copy
import email.parser
import email.policy
import functools
import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence
from urllib.parse import unquote_plus

from mockserver.specs import APIS, resolved_spec

log = logging.getLogger("mockserver.recording")

REDACTED = "[REDACTED]"
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "api-key",
                            "api_key", "x-auth-token", "x-access-token"})
SECRET_QUERY = frozenset({"access_token", "api_key", "apikey", "token", "key", "client_secret"})


class RecordingError(Exception):
    """The recording cannot be used; the message names the file and why."""


# --- writing ---------------------------------------------------------------------------------------------------


@functools.cache
def _secret_names(api: str) -> tuple[frozenset[str], frozenset[str]]:
    """Header and query parameter names that carry credentials in this API (its security schemes) and generally."""
    headers, query = set(SECRET_HEADERS), set(SECRET_QUERY)
    for scheme in resolved_spec(api).get("components", {}).get("securitySchemes", {}).values():
        if scheme.get("type") == "apiKey":
            (query if scheme.get("in") == "query" else headers).add(scheme["name"].lower())
    return frozenset(headers), frozenset(query)


def redact_headers(api: str, headers: Iterable[tuple[str, str]]) -> list[list[str]]:
    secret_headers, _ = _secret_names(api)
    redacted = []
    for name, value in headers:
        lowered = name.lower()
        if lowered in ("authorization", "proxy-authorization"):
            scheme, sep, _ = value.strip().partition(" ")
            value = f"{scheme} {REDACTED}" if sep else REDACTED
        elif lowered == "cookie":
            value = "; ".join(f"{part.split('=', 1)[0].strip()}={REDACTED}" for part in value.split(";") if part.strip())
        elif lowered in secret_headers:
            value = REDACTED
        redacted.append([lowered, value])
    return redacted


def redact_query(api: str, query: str) -> str:
    _, secret_query = _secret_names(api)
    parts = []
    for part in query.split("&") if query else []:
        name, sep, _ = part.partition("=")
        parts.append(f"{name}={REDACTED}" if sep and unquote_plus(name).lower() in secret_query else part)
    return "&".join(parts)


def encode_body(body: bytes | None, media_type: str) -> dict[str, Any]:
    """A body as a recording keeps it: JSON as JSON, text as text, anything else as base64."""
    if body is None:
        return {"body_encoding": "omitted"}
    if not body:
        return {"body_encoding": "none"}
    if "json" in media_type:
        try:
            return {"body_encoding": "json", "body": json.loads(body)}
        except (ValueError, UnicodeDecodeError, RecursionError):
            pass
    try:
        return {"body_encoding": "text", "body": body.decode("utf-8")}
    except UnicodeDecodeError:
        return {"body_encoding": "base64", "body": base64.b64encode(body).decode("ascii")}


class Recorder:
    """Appends exchanges to a recording, one flushed line each (a crash loses at most the line being written)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = open(self.path, "w", encoding="utf-8")
        self._lock = threading.Lock()
        self.written = 0

    def write(self, exchange: dict[str, Any]) -> None:
        line = json.dumps(exchange, separators=(",", ":"), ensure_ascii=False) + "\n"
        with self._lock:
            if self._file.closed:
                return
            self._file.write(line)
            self._file.flush()
            self.written += 1

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                self._file.close()


# --- reading ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedExchange:
    """One recorded exchange, as the vendor modules read it to derive records."""

    api: str
    operation: str | None
    method: str
    path: str
    path_parameters: dict[str, str]
    query: str
    time: str
    """When the answer came, ISO 8601 UTC with milliseconds (``2026-01-02T10:00:00.123Z``)."""
    caller: Any
    """The id the mock derives from the request's credential (None without one, or for RootFi)."""
    status: int
    request: dict[str, Any] = field(repr=False)
    response: dict[str, Any] = field(repr=False)
    violations: tuple[dict[str, Any], ...] = ()

    @property
    def drifted(self) -> bool:
        """True when the backend's answer broke the contract (its records are then not trusted)."""
        return any(str(v.get("kind", "")).startswith("response.") for v in self.violations)

    @property
    def request_json(self) -> Any:
        return self.request.get("body") if self.request.get("body_encoding") == "json" else None

    @property
    def response_json(self) -> Any:
        return self.response.get("body") if self.response.get("body_encoding") == "json" else None

    def request_header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.request.get("headers", []) if key == name), None)

    def request_bytes(self) -> bytes | None:
        encoding, body = self.request.get("body_encoding"), self.request.get("body")
        if encoding == "none":
            return b""
        if encoding == "text":
            return body.encode("utf-8")
        if encoding == "base64":
            return base64.b64decode(body)
        if encoding == "json":
            return json.dumps(body).encode()
        return None

    def form(self) -> dict[str, Any] | None:
        """The parts of a recorded ``multipart/form-data`` request by name (``.filename``, ``.content``)."""
        body = self.request_bytes()
        content_type = self.request_header("content-type") or ""
        if body is None or not content_type.lower().startswith("multipart/form-data"):
            return None
        return form_parts(content_type, body)


def read_recording(path: Path) -> list[RecordedExchange]:
    """Every exchange of a recording; a torn last line (a proxy stopped mid-write) is skipped with a warning."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise RecordingError(f"cannot read the recording {path}: {exc.strerror or exc}") from exc
    lines = raw.split(b"\n")
    exchanges = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            exchanges.append(_exchange(entry))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if number == len(lines) and not raw.endswith(b"\n"):
                log.warning("ignored a torn last line in the recording %s", path)
                continue
            raise RecordingError(f"the recording {path} is not a mockserver recording at line {number} ({exc})") from exc
    return exchanges


def _exchange(entry: dict[str, Any]) -> RecordedExchange:
    if entry["api"] not in APIS:
        raise ValueError(f"unknown API {entry['api']!r}")
    return RecordedExchange(
        api=entry["api"], operation=entry.get("operation"), method=str(entry["method"]), path=str(entry["path"]),
        path_parameters=dict(entry.get("path_parameters") or {}), query=str(entry.get("query") or ""),
        time=str(entry["time"]), caller=entry.get("caller"), status=int(entry["response"]["status"]),
        request=dict(entry.get("request") or {}), response=dict(entry["response"]),
        violations=tuple(entry.get("violations") or ()),
    )


@dataclass(frozen=True)
class FormPart:
    filename: str | None
    content: bytes

    @property
    def text(self) -> str | None:
        try:
            return self.content.decode("utf-8")
        except UnicodeDecodeError:
            return None


def form_parts(content_type: str, body: bytes) -> dict[str, FormPart] | None:
    """The parts of a ``multipart/form-data`` body by field name, or None when it cannot be read."""
    if "boundary=" not in content_type:
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        return None
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        parts[name] = FormPart(part.get_filename(), part.get_payload(decode=True) or b"")
    return parts


# --- the state a recording implies -------------------------------------------------------------------------------


class SeedState:
    """Records and sequence counters of one API, as a recording leaves them. Vendor modules fill it."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, dict[str, Any]]] = {}
        self.counters: dict[str, int] = {}

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        record = self.tables.get(table, {}).get(str(key))
        return dict(record) if record is not None else None

    def put(self, table: str, key: str, record: dict[str, Any]) -> None:
        self.tables.setdefault(table, {})[str(key)] = record

    def remove(self, table: str, key: str) -> None:
        self.tables.get(table, {}).pop(str(key), None)

    def count(self, sequence: str, value: int) -> None:
        """Sequence ``sequence`` has handed out ``value``: the mock's next number is above it."""
        self.counters[sequence] = max(self.counters.get(sequence, 0), int(value))

    def next_number(self, sequence: str) -> int:
        self.counters[sequence] = self.counters.get(sequence, 0) + 1
        return self.counters[sequence]

    @property
    def record_count(self) -> int:
        return sum(len(records) for records in self.tables.values())


def states_from(exchanges: Iterable[RecordedExchange]) -> dict[str, SeedState]:
    """The state each API's exchanges leave: every success answer the contract accepted, in order."""
    from mockserver.vendors import VENDORS

    states: dict[str, SeedState] = {}
    skipped = 0
    for exchange in exchanges:
        state = states.setdefault(exchange.api, SeedState())
        derive = getattr(VENDORS[exchange.api], "records_from_exchange", None)
        if derive is None or exchange.operation is None or not 200 <= exchange.status < 300:
            continue
        if exchange.drifted:
            skipped += 1
            continue
        derive(exchange, state)
    if skipped:
        log.warning("left out %d recorded answers that broke the contract", skipped)
    return states


def recorded_states(paths: Sequence[Path]) -> dict[str, SeedState]:
    """The state the recordings at ``paths`` leave, read once per file version."""
    stamps = []
    for path in paths:
        try:
            stat = Path(path).stat()
        except OSError as exc:
            raise RecordingError(f"cannot read the recording {path}: {exc.strerror or exc}") from exc
        stamps.append((str(path), stat.st_mtime_ns, stat.st_size))
    return _recorded_states(tuple(stamps))


@functools.lru_cache(maxsize=8)
def _recorded_states(stamps: tuple[tuple[str, int, int], ...]) -> dict[str, SeedState]:
    exchanges: list[RecordedExchange] = []
    for path, _, _ in stamps:
        exchanges.extend(read_recording(Path(path)))
    return states_from(exchanges)


def recorded_seeder(api: str, paths: Sequence[Path]) -> Callable[[Any], None] | None:
    """A seeder that fills each new session of ``api`` with what the recordings leave; None if none is of ``api``.

    The recordings are read once, when the mock is built (raises :class:`RecordingError` for an unreadable one).
    """
    if not paths:
        return None
    state = recorded_states(paths).get(api)
    if state is None:
        return None

    def seed(session: Any) -> None:
        for table, records in state.tables.items():
            session.table(table).replace_all(copy.deepcopy(records))
        for sequence, value in state.counters.items():
            session.next_number(sequence, start=value)

    return seed


def describe(paths: Sequence[Path]) -> list[str]:
    """One line per API of what the recordings hold, for the startup banner (raises :class:`RecordingError`)."""
    lines = []
    for api, state in recorded_states(paths).items():
        tables = ", ".join(f"{len(records)} {table}" for table, records in state.tables.items()) or "no records"
        lines.append(f"{APIS[api].title}: {tables}")
    return lines
