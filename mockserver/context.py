"""What a handler needs to know about the request it serves: the running mock and the caller's session.

Connexion calls handlers as plain functions, so the running mock reaches them through context variables
that :class:`RequestContextMiddleware` sets for each request. Several mocks can run in one process (the
tests start many); each request sees its own.
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.config import MockConfig
from mockserver.errors import ApiError
from mockserver.store import Session, Store

SESSION_HEADER = "x-mock-session"
DEFAULT_SESSION = "default"
_SESSION_NAME = re.compile(r"^[A-Za-z0-9._~-]{1,64}$")


@dataclass
class Runtime:
    """One running mock: its options, its state and its in-memory bookkeeping."""

    config: MockConfig
    store: Store
    scratch: dict[str, Any] = field(default_factory=dict)
    """Per-vendor state that is not part of a snapshot (rate-limit windows), keyed by vendor name."""


_runtime: ContextVar[Runtime] = ContextVar("mockserver_runtime")
_session_name: ContextVar[str] = ContextVar("mockserver_session", default=DEFAULT_SESSION)


def runtime() -> Runtime:
    return _runtime.get()


def session_name() -> str:
    return _session_name.get()


def check_session_name(name: str) -> str:
    """``name`` if it can name a session; otherwise the caller's 400."""
    if not _SESSION_NAME.match(name):
        raise ApiError(400, f"X-Mock-Session must be 1 to 64 letters, digits or . _ ~ - (got {name[:80]!r})")
    return name


def session() -> Session:
    """The caller's session, seeded on first use."""
    return _runtime.get().store.session(check_session_name(_session_name.get()))


_SESSION_HEADER_BYTES = SESSION_HEADER.encode()


def session_of(scope: Scope) -> str:
    for key, value in scope.get("headers", ()):
        if key == _SESSION_HEADER_BYTES:
            return value.decode("latin-1").strip() or DEFAULT_SESSION
    return DEFAULT_SESSION


class RequestContextMiddleware:
    """Makes the runtime and the caller's session name visible to handlers for the request's duration."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        runtime_token = _runtime.set(self.runtime)
        session_token = _session_name.set(session_of(scope))
        try:
            await self.app(scope, receive, send)
        finally:
            _session_name.reset(session_token)
            _runtime.reset(runtime_token)
