"""The ``Prefer`` request header and simulated latency, as Prism understands them.

* ``Prefer: code=404`` answers the operation's documented 404 example without running the handler, so
  a frontend can show its error screens; ``example=NAME`` picks a named example (of that status, or of
  whichever response has it). State is not touched.
* ``Prefer: delay=250`` (and ``--latency``) delays the answer.

The documented answers come from the spec, indexed once at start.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from typing import Any

from connexion.middleware.abstract import ROUTING_CONTEXT
from starlette.types import ASGIApp, Receive, Scope, Send

from mockserver.errors import ApiError
from mockserver.specs import iter_operations, resolve

_PREFERENCE = re.compile(r"\s*([A-Za-z]+)\s*=\s*\"?([^\";,]*)\"?\s*")


def preferences(scope: Scope) -> dict[str, str]:
    """The ``Prefer`` header's ``name=value`` preferences (RFC 7240), lower-cased names."""
    found: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        if key == b"prefer":
            for part in re.split(r"[,;]", value.decode("latin-1")):
                match = _PREFERENCE.fullmatch(part)
                if match:
                    found[match.group(1).lower()] = match.group(2).strip()
    return found


@dataclass(frozen=True)
class DocumentedAnswer:
    status: int
    media_type: str | None
    body: Any
    headers: dict[str, str]


class DocumentedAnswers:
    """Every documented response example of one API, by operationId, status and example name."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self._answers: dict[str, dict[int, dict[str, DocumentedAnswer]]] = {}
        for _, _, operation in iter_operations(spec):
            by_status = self._answers.setdefault(operation["operationId"], {})
            for status, response in operation["responses"].items():
                if not status.isdigit():
                    continue
                response = resolve(spec, response)
                headers = {
                    name: str(resolve(spec, header).get("example", resolve(spec, header).get("schema", {}).get("example", "")))
                    for name, header in response.get("headers", {}).items()
                }
                headers = {name: value for name, value in headers.items() if value}
                examples: dict[str, DocumentedAnswer] = {}
                for media_type, content in response.get("content", {}).items():
                    for name, example in (content.get("examples") or {}).items():
                        value = resolve(spec, example)["value"]
                        examples[name] = DocumentedAnswer(int(status), media_type, value, headers)
                    if not examples and "example" in content:
                        examples["example"] = DocumentedAnswer(int(status), media_type, content["example"], headers)
                if not response.get("content"):
                    examples["empty"] = DocumentedAnswer(int(status), None, None, headers)
                by_status[int(status)] = examples

    def pick(self, operation_id: str, code: str | None, example: str | None) -> DocumentedAnswer:
        by_status = self._answers.get(operation_id, {})
        if code is not None:
            if not code.isdigit() or int(code) not in by_status:
                documented = ", ".join(map(str, sorted(by_status)))
                raise ApiError(400, f"Prefer: code={code} is not a documented answer here (documented: {documented})")
            candidates = by_status[int(code)]
        else:
            candidates = {name: answer for answers in by_status.values() for name, answer in answers.items()}
        if example is not None:
            if example not in candidates:
                raise ApiError(400, f"Prefer: example={example} is not a documented example here "
                                    f"(documented: {', '.join(sorted(candidates))})")
            return candidates[example]
        if not candidates:
            raise ApiError(400, f"Prefer: code={code} has no documented example here")
        return next(iter(candidates.values()))


class PreferMiddleware:
    """Answers ``Prefer: code=`` / ``example=`` from the spec. Sits after security and request validation."""

    def __init__(self, app: ASGIApp, answers: dict[str, DocumentedAnswers]) -> None:
        self.app = app
        self.answers = answers
        """By API base path."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        prefs = preferences(scope) if scope["type"] == "http" else {}
        if "code" not in prefs and "example" not in prefs:
            await self.app(scope, receive, send)
            return
        routing = scope.get("extensions", {}).get(ROUTING_CONTEXT, {})
        operation_id = (routing.get("operation_id") or "").rsplit(".", 1)[-1]
        documented = self.answers.get(routing.get("api_base_path", ""))
        if documented is None:
            await self.app(scope, receive, send)
            return
        answer = documented.pick(operation_id, prefs.get("code"), prefs.get("example"))
        headers = [(k.lower().encode(), v.encode()) for k, v in answer.headers.items()]
        body = b""
        if answer.media_type is not None:
            body = json.dumps(answer.body).encode()
            headers.append((b"content-type", answer.media_type.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class LatencyMiddleware:
    """Delays every API answer by ``--latency`` milliseconds, or by ``Prefer: delay=MS`` (capped at a minute)."""

    MAX_DELAY_MS = 60_000

    def __init__(self, app: ASGIApp, latency_ms: int = 0) -> None:
        self.app = app
        self.latency_ms = latency_ms

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            delay = self.latency_ms
            requested = preferences(scope).get("delay", "")
            if requested.isdigit():
                delay = int(requested)
            if delay > 0:
                await asyncio.sleep(min(delay, self.MAX_DELAY_MS) / 1000)
        await self.app(scope, receive, send)
