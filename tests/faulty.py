"""Deliberately faulty implementations of the three APIs: the contract suites must catch every one.

Each fault is the faithful mock (``create_app``) with one drift from the documentation, the way a real
backend drifts: a wrong status, a renamed field, an ignored parameter, a write that does not stick. Most are
a :class:`Drift` middleware around the mock, whose handler sees each request and may change it before it
reaches the mock, answer in the mock's place, or change the mock's answer; a write that does not stick is the
caller's session put back as it was before the write (the store's own snapshot, as ``/__admin/state`` uses).
A few faults are a configuration of the mock itself (no token check, no rate limit, syncs that end at once).
Nothing of the mock is copied or patched, so each fault is one drift and the mock keeps every other rule.

The mock serves the one API at the root, as the real host does: RootFi under ``/v4``, MPDX at ``/``, Torii
under ``/v1.0``.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from contracts.target import DEFAULT_CREDENTIALS
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.specs import APIS

TAGS = ("examples", "edge", "generated", "stateful", "rules")
"""The contract's tags (``mockserver contract --exclude TAG``)."""

TOKENS = frozenset(value.removeprefix("Bearer ") for headers in DEFAULT_CREDENTIALS.values()
                   for value in headers.values())
"""The credentials the contract sends by default; the faithful mock accepts only these (as the embedded one)."""


# --- requests and answers as values --------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def is_(self, method: str, pattern: str) -> bool:
        return self.method == method and re.fullmatch(pattern, self.path) is not None

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name.lower()), None)

    def with_header(self, name: str, value: str) -> Request:
        kept = tuple((key, v) for key, v in self.headers if key != name.lower())
        return replace(self, headers=kept + ((name.lower(), value),))

    def without_param(self, name: str) -> Request:
        """The request without query parameter ``name`` (a server that does not read it)."""
        pairs = [(key, value) for key, value in parse_qsl(self.query, keep_blank_values=True) if key != name]
        return replace(self, query=urlencode(pairs))

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    def read(self, path: str | None = None) -> Request:
        """A GET of ``path`` (this request's own by default) with the same credentials and session."""
        headers = tuple((key, value) for key, value in self.headers if key not in ("content-length", "content-type"))
        return replace(self, method="GET", path=path or self.path, query="", headers=headers, body=b"")

    def with_json(self, document: Any) -> Request:
        body = json.dumps(document).encode()
        return replace(self, body=body).with_header("content-length", str(len(body)))

    @property
    def session(self) -> str:
        return (self.header("x-mock-session") or "").strip() or "default"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key == name.lower()), None)

    def with_header(self, name: str, value: str | None) -> Answer:
        kept = tuple((key, v) for key, v in self.headers if key != name.lower())
        return replace(self, headers=kept + (((name.lower(), value),) if value is not None else ()))

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return None

    def with_json(self, document: Any) -> Answer:
        return replace(self, body=json.dumps(document).encode())

    def with_body(self, body: bytes, content_type: str | None) -> Answer:
        return replace(self, body=body).with_header("content-type", content_type)


class Mock:
    """What a fault's handler may use: the mock behind it, by request, and its state."""

    def __init__(self, app: Starlette, scope: Scope) -> None:
        self.app = app
        self._scope = scope
        self.memory: dict[Any, Any] = {}
        """Whatever the fault remembers between requests (e.g. the invites it already accepted)."""

    @property
    def store(self):
        return self.app.state.runtime.store

    async def forward(self, request: Request) -> Answer:
        """Send ``request`` to the mock, in process, and collect its whole answer."""
        scope = {**self._scope, "method": request.method, "path": request.path,
                 "raw_path": request.path.encode(), "query_string": request.query.encode("latin-1"),
                 "headers": [(key.encode("latin-1"), value.encode("latin-1")) for key, value in request.headers]}
        done = asyncio.Event()
        sent_body = False
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def receive() -> Message:
            nonlocal sent_body
            if not sent_body:
                sent_body = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        try:
            await self.app(scope, receive, send)
        finally:
            done.set()
        headers = tuple((key.decode("latin-1").lower(), value.decode("latin-1"))
                        for key, value in start.get("headers", []))
        return Answer(start["status"], headers, b"".join(chunks))


Handler = Callable[[Request, Mock], Awaitable[Answer]]


class Drift:
    """ASGI middleware: every HTTP request goes through ``handler(request, mock)`` instead of straight to the mock."""

    def __init__(self, app: Starlette, handler: Handler) -> None:
        self.app = app
        self.handler = handler
        self.mock: Mock | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.mock is None:
            self.mock = Mock(self.app, scope)
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        request = Request(
            method=scope["method"], path=scope["path"], query=scope.get("query_string", b"").decode("latin-1"),
            headers=tuple((key.decode("latin-1").lower(), value.decode("latin-1")) for key, value in scope["headers"]),
            body=body,
        )
        answer = await self.handler(request, self.mock)
        headers = [(key.encode("latin-1"), value.encode("latin-1")) for key, value in answer.headers
                   if key != "content-length"]
        headers.append((b"content-length", str(len(answer.body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": answer.body})


# --- the faults ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fault:
    name: str
    api: str
    drift: str
    """One line: how this implementation departs from the documented contract."""
    handler: Handler | None = None
    """The drift as middleware; None when the drift is the mock's own ``config``."""
    config: dict[str, Any] = field(default_factory=dict)
    """:class:`MockConfig` fields that differ from the faithful mock's."""
    tags: tuple[str, ...] = TAGS
    """The contract tags whose checks this drift breaks; the others are excluded to keep the run short."""
    max_examples: int = 1

    @property
    def exclude(self) -> tuple[str, ...]:
        return tuple(tag for tag in TAGS if tag not in self.tags)

    def app(self) -> ASGIApp:
        mock = faithful_app(self.api, **self.config)
        return Drift(mock, self.handler) if self.handler is not None else mock

    @property
    def base_path(self) -> str:
        return APIS[self.api].base_path(alone=True)


def faithful_app(api: str, **config: Any) -> Starlette:
    """The mock as the contract expects it: one API at its root, accepting only the contract's credentials."""
    options: dict[str, Any] = {"apis": (api,), "tokens": TOKENS, **config}
    return create_app(MockConfig(**options))


FAULTS: list[Fault] = []


def fault(name: str, api: str, drift: str, **options: Any) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        FAULTS.append(Fault(name=name, api=api, drift=drift, handler=handler, **options))
        return handler

    return register


def configured(name: str, api: str, drift: str, **options: Any) -> None:
    FAULTS.append(Fault(name=name, api=api, drift=drift, **options))


def _resources(document: Any) -> list[dict[str, Any]]:
    """The records of a ``{"data": ...}`` document: one object or a list of them."""
    data = document.get("data") if isinstance(document, dict) else None
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list):
        return [item for item in data if isinstance(item, dict)]
    return []


def _is_json(answer: Answer) -> bool:
    return "json" in (answer.header("content-type") or "")


# --- RootFi ------------------------------------------------------------------------------------------------------

LINKS = r"/v4/core/invite_links"
LINK = r"/v4/core/invite_links/[^/]+"


@fault("rootfi_create_answers_201", "rootfi", "create answers 201 Created instead of the documented 200",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("POST", LINKS) and answer.status == 200:
        answer = replace(answer, status=201)
    return answer


@fault("rootfi_list_without_next", "rootfi", "the list answer has no `next` key (the cursor is omitted)",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("GET", LINKS) and answer.status == 200:
        document = answer.json()
        document.pop("next", None)
        answer = answer.with_json(document)
    return answer


@fault("rootfi_id_as_string", "rootfi", "rootfi_id is a string (\"12\") instead of an integer",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if answer.status == 200 and _is_json(answer):
        document = answer.json()
        for link in _resources(document):
            link["rootfi_id"] = str(link["rootfi_id"])
        answer = answer.with_json(document)
    return answer


@fault("rootfi_update_not_persisted", "rootfi",
       "an update answers with the new values but is never saved: a GET shows the old ones",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    if not request.is_("PUT", LINK):
        return await mock.forward(request)
    before = mock.store.export(request.session)
    answer = await mock.forward(request)
    mock.store.restore(request.session, before)
    return answer


@fault("rootfi_updated_at_never_advances", "rootfi",
       "rootfi_updated_at is set on create only: it always equals rootfi_created_at",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if answer.status == 200 and _is_json(answer):
        document = answer.json()
        for link in _resources(document):
            link["rootfi_updated_at"] = link["rootfi_created_at"]
        answer = answer.with_json(document)
    return answer


@fault("rootfi_api_key_optional", "rootfi", "a request without an api_key header is served as if it had one",
       tags=("edge",))
async def _(request: Request, mock: Mock) -> Answer:
    if request.header("api_key") is None:
        request = request.with_header("api_key", DEFAULT_CREDENTIALS["rootfi"]["api_key"])
    return await mock.forward(request)


@fault("rootfi_404_plain_text", "rootfi", "a 404 is the text/plain body `Not Found`, not RootFi's JSON error",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if answer.status == 404:
        answer = answer.with_body(b"Not Found", "text/plain; charset=utf-8")
    return answer


@fault("rootfi_invalid_body_is_500", "rootfi",
       "an invalid create or update body crashes the server: 500 instead of the documented 400",
       tags=("generated",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.method in ("POST", "PUT") and answer.status == 400:
        answer = answer.with_json({"error": {"status": 500, "code": "INTERNAL_SERVER_ERROR",
                                             "message": "Cannot read properties of undefined"}})
        answer = replace(answer, status=500)
    return answer


@fault("rootfi_limit_ignored", "rootfi", "the list ignores `limit`: every page holds up to 20 links",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    if request.is_("GET", LINKS):
        request = request.without_param("limit")
    return await mock.forward(request)


@fault("rootfi_cursor_ignored", "rootfi", "the list ignores the `next` cursor: every page is the first page",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    if request.is_("GET", LINKS):
        request = request.without_param("next")
    return await mock.forward(request)


@fault("rootfi_update_ignores_integrations", "rootfi",
       "an update silently keeps the old `integrations` instead of the ones sent",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    body = request.json()
    if request.is_("PUT", LINK) and isinstance(body, dict) and "integrations" in body:
        request = request.with_json({key: value for key, value in body.items() if key != "integrations"})
    return await mock.forward(request)


# --- MPDX ------------------------------------------------------------------------------------------------------

INVITES = r"/api/v2/(account_lists|organizations)/[^/]+/invites"
INVITE = INVITES + r"/[^/]+"
ACCEPT = INVITE + r"/accept"


def _mpdx_error(status: int, title: str, detail: str) -> Answer:
    body = {"errors": [{"status": str(status), "title": title, "detail": detail}]}
    return Answer(status, (("content-type", "application/vnd.api+json; charset=utf-8"),), json.dumps(body).encode())


@fault("mpdx_create_answers_200", "mpdx", "create answers 200 OK instead of the documented 201 Created",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("POST", INVITES) and answer.status == 201:
        answer = replace(answer, status=200)
    return answer


@fault("mpdx_delete_answers_200_with_body", "mpdx",
       "cancelling answers 200 with the cancelled invite instead of 204 No Content",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("DELETE", INVITE) and answer.status == 204:
        answer = await mock.forward(request.read())
    return answer


@fault("mpdx_recipient_email_renamed", "mpdx", "the attribute `recipient_email` is answered as `email`",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if answer.status < 300 and answer.body:
        document = answer.json()
        for invite in _resources(document):
            invite["attributes"]["email"] = invite["attributes"].pop("recipient_email")
        answer = answer.with_json(document)
    return answer


@fault("mpdx_error_status_integer", "mpdx", "errors[].status is an integer (404) instead of a string (\"404\")",
       tags=("edge",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    document = answer.json()
    if answer.status >= 400 and isinstance(document, dict):
        for error in document.get("errors", []):
            error["status"] = int(error["status"])
        answer = answer.with_json(document)
    return answer


@fault("mpdx_plain_json_content_type", "mpdx",
       "answers are labelled application/json instead of application/vnd.api+json",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if "application/vnd.api+json" in (answer.header("content-type") or ""):
        answer = answer.with_header("content-type", "application/json; charset=utf-8")
    return answer


@fault("mpdx_filter_ignored", "mpdx", "the list ignores filter[invite_user_as]: every active invite is listed",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    if request.is_("GET", INVITES):
        request = request.without_param("filter[invite_user_as]")
    return await mock.forward(request)


@fault("mpdx_total_pages_off_by_one", "mpdx",
       "total_pages is total_count // per_page + 1: one page too many when the count divides evenly (or is 0)",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("GET", INVITES) and answer.status == 200:
        document = answer.json()
        pagination = document["meta"]["pagination"]
        pagination["total_pages"] = pagination["total_count"] // pagination["per_page"] + 1
        answer = answer.with_json(document)
    return answer


@fault("mpdx_per_page_ignored", "mpdx", "the list ignores per_page: every page holds up to 25 invites",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    if request.is_("GET", INVITES):
        request = request.without_param("per_page")
    return await mock.forward(request)


@fault("mpdx_any_code_accepted", "mpdx", "accept does not check the code: any code accepts the invite",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    body = request.json()
    if request.is_("PUT", ACCEPT) and isinstance(body, dict):
        found = await mock.forward(request.read(request.path.removesuffix("/accept")))
        attributes = (body.get("data") or {}).get("attributes") if isinstance(body.get("data"), dict) else None
        if found.status == 200 and isinstance(attributes, dict) and attributes.get("code"):
            attributes["code"] = found.json()["data"]["attributes"]["code"]
            request = request.with_json(body)
    return await mock.forward(request)


@fault("mpdx_reaccept_gone", "mpdx",
       "the same user accepting an invite again gets 410 instead of the documented 200",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    accepted = mock.memory.setdefault("accepted", set())
    key = (request.session, request.path)
    if request.is_("PUT", ACCEPT) and key in accepted:
        return _mpdx_error(410, "Gone", "This invite has already been accepted")
    answer = await mock.forward(request)
    if request.is_("PUT", ACCEPT) and answer.status == 200:
        accepted.add(key)
    return answer


@fault("mpdx_cancelled_still_listed", "mpdx",
       "a cancelled invite is still listed (and counted) with its parent's invites",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    cancelled = mock.memory.setdefault("cancelled", {})
    answer = await mock.forward(request)
    if request.is_("DELETE", INVITE) and answer.status == 204:
        found = await mock.forward(request.read())
        parent = (request.session, request.path.rsplit("/", 1)[0])
        cancelled.setdefault(parent, {})[found.json()["data"]["id"]] = found.json()["data"]
    elif request.is_("GET", INVITES) and answer.status == 200:
        ghosts = list(cancelled.get((request.session, request.path), {}).values())
        if ghosts:
            document = answer.json()
            document["data"] += ghosts
            pagination = document["meta"]["pagination"]
            pagination["total_count"] += len(ghosts)
            pagination["total_pages"] = -(-pagination["total_count"] // pagination["per_page"])
            answer = answer.with_json(document)
    return answer


@fault("mpdx_cancel_not_effective", "mpdx",
       "cancelling answers 204 but nothing changes: the invite stays active, listed and acceptable",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    if not request.is_("DELETE", INVITE):
        return await mock.forward(request)
    before = mock.store.export(request.session)
    answer = await mock.forward(request)
    mock.store.restore(request.session, before)
    return answer


configured("mpdx_any_token_accepted", "mpdx", "any bearer token is accepted, not only valid credentials",
           config={"tokens": frozenset()},
       tags=("generated",))


# --- Torii -----------------------------------------------------------------------------------------------------

SYNC = r"/v1\.0/services/sync/custom"
UPLOAD = r"/v1\.0/files/upload"
FILE = r"/v1\.0/files/[^/]+"


@fault("torii_upload_id_string", "torii", "the upload answers the file id as a string ({\"id\": \"1001\"})",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("POST", UPLOAD) and answer.status == 200:
        answer = answer.with_json({"id": str(answer.json()["id"])})
    return answer


@fault("torii_errors_flat", "torii",
       "errors are {\"error\": \"message\"} instead of Torii's {statusCode, error, message}",
       tags=("generated",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    document = answer.json()
    if answer.status >= 400 and isinstance(document, dict):
        answer = answer.with_json({"error": document.get("message")})
    return answer


configured("torii_second_sync_accepted", "torii",
           "a second sync while one runs is accepted (syncs finish at once): no 409", config={"sync_seconds": 0},
       tags=("rules",))

configured("torii_rate_limit_off", "torii", "there is no rate limit: request 201 in a minute still succeeds, no 429",
           config={"rate_limit": None},
       tags=("rules",))


@fault("torii_invalid_file_synced", "torii",
       "a sync does not check the data file: a file that is not valid JSON or breaks the schema is accepted",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("PUT", SYNC) and answer.status == 400 and answer.json()["message"].startswith("File "):
        answer = answer.with_json({"success": True})
        answer = replace(answer, status=200)
    return answer


@fault("torii_file_name_renamed", "torii", "the file details answer `name` instead of `fileName`",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("GET", FILE) and answer.status == 200:
        document = answer.json()
        document["file"]["name"] = document["file"].pop("fileName")
        answer = answer.with_json(document)
    return answer


@fault("torii_sync_answers_202_empty", "torii",
       "a started sync answers 202 Accepted with no body instead of 200 {\"success\": true}",
       tags=("examples",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("PUT", SYNC) and answer.status == 200:
        answer = replace(answer.with_body(b"", None), status=202)
    return answer


@fault("torii_bad_token_403", "torii", "missing or invalid credentials get 403 Forbidden instead of 401",
       tags=("edge",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if answer.status == 401:
        document = {**answer.json(), "statusCode": 403, "error": "Forbidden"}
        answer = replace(answer.with_json(document), status=403)
    return answer


@fault("torii_429_without_retry_after", "torii", "the 429 has no Retry-After header",
       tags=("rules",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    return answer.with_header("retry-after", None) if answer.status == 429 else answer


@fault("torii_invalid_upload_is_500", "torii",
       "an invalid upload form (no file, unknown type) crashes the server: 500 instead of 400",
       tags=("edge",))
async def _(request: Request, mock: Mock) -> Answer:
    answer = await mock.forward(request)
    if request.is_("POST", UPLOAD) and answer.status == 400:
        document = {"statusCode": 500, "error": "Internal Server Error", "message": "An internal server error occurred"}
        answer = replace(answer.with_json(document), status=500)
    return answer


@fault("torii_upload_not_kept", "torii",
       "an upload answers its new id but the file is not kept: reading or syncing it gets 404",
       tags=("stateful",))
async def _(request: Request, mock: Mock) -> Answer:
    if not request.is_("POST", UPLOAD):
        return await mock.forward(request)
    before = mock.store.export(request.session)
    answer = await mock.forward(request)
    mock.store.restore(request.session, before)
    return answer


FAULTS_BY_NAME = {fault.name: fault for fault in FAULTS}
assert len(FAULTS_BY_NAME) == len(FAULTS), "fault names are unique"
