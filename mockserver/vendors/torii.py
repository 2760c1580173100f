"""Torii custom integrations: upload a data file, read it back, sync it into an app account.

Connexion has already checked everything the spec can say before a handler runs: the bearer token, the
upload form (``file`` and a known ``type``), the sync body (two positive integers), the path id. What is
left here are the rules the spec can only describe in words:

* an upload keeps the file in the caller's session, up to 3 MB (413 beyond);
* a sync needs a file of this session, of type ``customIntegrationData``, that parses as JSON and follows the
  spec's ``CustomIntegrationData`` schema; the 400 says what is wrong and where;
* a valid sync "runs" for ``--sync-seconds``, and another sync by the same caller meanwhile gets 409;
* every caller (token, per session) may make ``--rate-limit`` requests a minute; every answer says how many
  are left, and the one over the limit gets 429 with ``Retry-After``.

Any positive ``idAppAccount`` names an existing app account: Torii's API cannot create them, so a mock that
knew only some would make the documented requests fail for no reason a frontend could fix.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import math
import time
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable

from starlette.datastructures import UploadFile

from mockserver.context import runtime, session
from mockserver.errors import ApiError, schema_problems
from mockserver.recording import RecordedExchange, SeedState
from mockserver.specs import APIS, response_example
from mockserver.store import Session
from mockserver.validation import compiled

FILES = "torii.files"
SYNCS = "torii.syncs"
FIRST_FILE_ID = 1000
"""The id the upload endpoint is documented to return; the seeded sample file has it, later uploads follow."""
MAX_FILE_BYTES = 3 * 1024 * 1024
DATA_FILE_TYPE = "customIntegrationData"
RATE_WINDOW_SECONDS = 60

Answer = tuple[dict[str, Any], int, dict[str, str]]


# --- the caller ----------------------------------------------------------------------------------------------


def caller_id(token: str) -> int:
    """A stable positive user id for an API key (the file's ``uploadedBy``), the same on every call.

    Torii's keys are opaque, so the id is derived from the key itself; 31 bits keep it a safe integer in
    every client language.
    """
    digest = hashlib.sha256(token.encode()).digest()
    return int.from_bytes(digest[:4], "big") % 0x7FFFFFFF + 1


def _now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- rate limit ----------------------------------------------------------------------------------------------


def _rate_windows() -> dict[tuple[str, str], dict[str, float]]:
    """Open one-minute windows by (session, token). In memory, not in a snapshot or `--db`: a restart forgets them."""
    return runtime().scratch.setdefault("torii", {}).setdefault("rate_windows", {})


def _take_request(token: str) -> dict[str, str]:
    """Count one request against the caller's window; its ``X-Rate-Limit-*`` headers, or a 429.

    A fixed window opens with the caller's first request and lasts a minute. A refused request is not
    counted, so a client that waits for ``Retry-After`` gets the full allowance again.
    """
    limit = runtime().config.rate_limit
    if limit is None:
        return {}
    now = time.time()
    windows = _rate_windows()
    key = (session().name, token)
    window = windows.get(key)
    if window is None or now >= window["start"] + RATE_WINDOW_SECONDS:
        _forget_closed_windows(windows, now)
        window = windows[key] = {"start": now, "count": 0}
    ends = window["start"] + RATE_WINDOW_SECONDS
    if window["count"] >= limit:
        headers = _rate_headers(limit, 0, ends)
        headers["Retry-After"] = str(max(1, math.ceil(ends - now)))
        raise ApiError(429, f"Rate limit of {limit} requests per minute exceeded", headers=headers)
    window["count"] += 1
    return _rate_headers(limit, limit - int(window["count"]), ends)


def _rate_headers(limit: int, remaining: int, ends: float) -> dict[str, str]:
    return {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(remaining),
        "X-Rate-Limit-Reset": str(math.ceil(ends)),
    }


def _forget_closed_windows(windows: dict[tuple[str, str], dict[str, float]], now: float) -> None:
    """Drop windows that have ended, so many short-lived sessions or tokens do not pile up."""
    for key in [key for key, window in windows.items() if now >= window["start"] + RATE_WINDOW_SECONDS]:
        del windows[key]


def _metered(handler: Callable[..., Awaitable[tuple[dict[str, Any], int]]]) -> Callable[..., Awaitable[Answer]]:
    """Apply the rate limit to a handler and put the ``X-Rate-Limit-*`` headers on all its answers, errors too.

    Connexion reads the parameters it passes from the wrapped handler's signature, so the wrapper takes any.
    """

    @functools.wraps(handler)
    async def metered(*args: Any, user: str, **kwargs: Any) -> Answer:
        headers = _take_request(user)
        try:
            body, status = await handler(*args, user=user, **kwargs)
        except ApiError as error:
            error.headers = {**headers, **error.headers}
            raise
        return body, status, headers

    return metered


# --- files ---------------------------------------------------------------------------------------------------


def _find_file(file_id: int) -> dict[str, Any]:
    record = session().table(FILES).get(str(file_id))
    if record is None:
        raise ApiError(404, f"File {file_id} not found")
    return record


def _file_details(record: dict[str, Any]) -> dict[str, Any]:
    """What ``GET /files/{id}`` shows of a stored file: everything but its content."""
    return {key: record[key] for key in ("id", "type", "fileName", "creationTime", "uploadedBy")}


def _store_file(store: Session, file_id: int, *, file_type: str, file_name: str, content: bytes,
                uploaded_by: int, creation_time: str) -> None:
    """Keep a file in a session."""
    store.table(FILES).put(str(file_id), _file_record(file_id, file_type=file_type, file_name=file_name,
                                                      content=content, uploaded_by=uploaded_by,
                                                      creation_time=creation_time))


def _file_record(file_id: int, *, file_type: str, file_name: str, content: bytes, uploaded_by: int,
                 creation_time: str) -> dict[str, Any]:
    """A stored file. The content is base64 text, so any bytes survive the JSON database."""
    return {
        "id": file_id,
        "type": file_type,
        "fileName": file_name,
        "creationTime": creation_time,
        "uploadedBy": uploaded_by,
        "content": base64.b64encode(content).decode("ascii"),
    }


# --- the data file -------------------------------------------------------------------------------------------


@functools.cache
def _data_file_schema() -> dict[str, Any]:
    """The spec's ``CustomIntegrationData`` with the components its ``$ref``s point into.

    Cached so that :func:`~mockserver.validation.compiled` (keyed by the schema object) compiles it once.
    """
    return {
        "$ref": "#/components/schemas/CustomIntegrationData",
        "components": APIS["torii"].spec["components"],
    }


def _parse_data_file(record: dict[str, Any]) -> Any:
    """The file's JSON document, or a 400 carrying the parse error with its line and column."""
    file_id = record["id"]
    raw = base64.b64decode(record["content"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ApiError(400, f"File {file_id} is not valid JSON: it is not UTF-8 text "
                            f"({exc.reason}: byte 0x{raw[exc.start]:02x} at line {line} column {column})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ApiError(400, f"File {file_id} is not valid JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, f"File {file_id} is not valid JSON: it is nested too deeply") from None


def _check_data_file(record: dict[str, Any]) -> None:
    """400 unless the file is a ``customIntegrationData`` JSON document that follows the spec's schema."""
    file_id = record["id"]
    if record["type"] != DATA_FILE_TYPE:
        raise ApiError(400, f"File {file_id} is of type {record['type']}, expected {DATA_FILE_TYPE}")
    document = _parse_data_file(record)
    errors = list(compiled(_data_file_schema()).iter_errors(document))
    if errors:
        where = "; ".join(problem.detail for problem in schema_problems(errors))
        raise ApiError(400, f"File {file_id} does not follow the custom integration file schema: {where}")


# --- syncs ---------------------------------------------------------------------------------------------------


def _start_sync(user: str, file_id: int, app_account_id: int) -> None:
    """Record a sync that runs for ``--sync-seconds``; 409 while the caller's previous one still runs.

    The running sync lives in the session's store (a wall-clock end time), so it is part of a snapshot and
    of a ``--db`` file like any other state.
    """
    store = session()
    syncs = store.table(SYNCS)
    key = str(caller_id(user))
    now = time.time()
    with store.store.lock:
        running = syncs.get(key)
        if running is not None and now < running["until"]:
            raise ApiError(409, f"A sync is already running for app account {running['idAppAccount']}")
        syncs.put(key, {
            "caller": caller_id(user),
            "idFile": file_id,
            "idAppAccount": app_account_id,
            "startedAt": _now_iso(),
            "until": now + runtime().config.sync_seconds,
        })


# --- handlers (named as the spec's operationIds) -------------------------------------------------------------


@_metered
async def upload_file(body: dict[str, Any], user: str, file: UploadFile | None = None) -> tuple[dict, int]:
    """Store the uploaded file; its content is only checked when a sync uses it, as Torii documents.

    ``file`` is None when the form's ``file`` field came as plain text rather than a file part.
    """
    if file is None:
        raise ApiError(400, "'file' must be sent as a file part (with a filename)")
    content = await file.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        # Torii (hapi) names 413 "Payload Too Large"; Python's phrase differs between versions.
        raise ApiError(413, "The file is larger than the 3 MB limit", title="Payload Too Large")
    store = session()
    file_id = store.next_number(FILES, start=FIRST_FILE_ID)
    _store_file(store, file_id, file_type=body["type"], file_name=file.filename or "", content=content,
                uploaded_by=caller_id(user), creation_time=_now_iso())
    return {"id": file_id}, 200


@_metered
async def get_file(id_: int, user: str) -> tuple[dict, int]:
    """What was recorded about a file of this session; the content stays private, as on Torii."""
    return {"file": _file_details(_find_file(id_))}, 200


@_metered
async def sync_custom_integration(body: dict[str, Any], user: str) -> tuple[dict, int]:
    """Check the file, then start the sync.

    A file that fails the checks never starts a sync, so it gets its 400 even while another sync runs.
    """
    record = _find_file(body["idFile"])
    _check_data_file(record)
    _start_sync(user, record["id"], body["idAppAccount"])
    return {"success": True}, 200


# --- seed data -----------------------------------------------------------------------------------------------


def _documented_file_details() -> dict[str, Any]:
    """The ``GET /files/{id}`` example: file 1000 as the upload example stored it."""
    return response_example("torii", "get_file", 200, "custom_integration_data_file")["file"]


def seed(store: Session) -> None:
    """File 1000: the spec's corrected sample data file, as ``GET /files/1000`` documents it.

    The documented sync request (``{"idFile": 1000, "idAppAccount": 1}``) then works on a fresh mock;
    uploads get the ids after it.
    """
    details = _documented_file_details()
    document = APIS["torii"].spec["components"]["examples"]["CustomIntegrationDataFile"]["value"]
    file_id = store.next_number(FILES, start=details["id"])
    _store_file(store, file_id, file_type=DATA_FILE_TYPE, file_name=details["fileName"],
                content=json.dumps(document, indent=2).encode(), uploaded_by=details["uploadedBy"],
                creation_time=details["creationTime"])


# --- state from a recording (`mockserver serve --seed-from`) ---------------------------------------------------


def records_from_exchange(exchange: RecordedExchange, state: SeedState) -> None:
    """The files a recorded success answer shows, as last seen; later uploads get the ids after them.

    An upload's answer only names the new id: the type, file name and content come from the recorded form, the
    creation time from the moment of the answer, ``uploadedBy`` from the recorded caller. A file only ever read
    (``GET /files/{id}``) has its details but not its content, which Torii never shows: the mock keeps it empty.
    A sync leaves no record (a running sync is over by the time a seeded mock starts).
    """
    body = exchange.response_json
    if not isinstance(body, dict):
        return
    if exchange.operation == "upload_file" and isinstance(body.get("id"), int):
        form = exchange.form()
        upload, kind = (form or {}).get("file"), (form or {}).get("type")
        if upload is None or kind is None or kind.text is None:
            return  # the form was too large to record, or unreadable: nothing is known of the file
        file_id = body["id"]
        state.put(FILES, str(file_id), _file_record(
            file_id, file_type=kind.text, file_name=upload.filename or "", content=upload.content,
            uploaded_by=exchange.caller if isinstance(exchange.caller, int) else 0,
            creation_time=exchange.time[:19] + "Z"))
        state.count(FILES, file_id)
    elif exchange.operation == "get_file" and isinstance(body.get("file"), dict):
        details = body["file"]
        if not isinstance(details.get("id"), int):
            return
        previous = state.get(FILES, str(details["id"]))
        content = previous["content"] if previous is not None else ""
        state.put(FILES, str(details["id"]), {**{key: details.get(key) for key in
                                                 ("id", "type", "fileName", "creationTime", "uploadedBy")},
                                              "content": content})
        state.count(FILES, details["id"])
