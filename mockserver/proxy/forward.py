"""Forwarding: every request goes to the target as it came, and the target's answer comes back as it was.

What changes on the way, as an HTTP proxy must: ``Host`` names the target, and hop-by-hop headers
(``Connection`` and those it lists, ``Keep-Alive``, ``Transfer-Encoding``, ``TE``, ``Trailer``, ``Upgrade``,
``Proxy-*``) stay on their own hop. The path is the request's own, after the API's server path (``/v4`` for
RootFi) is swapped for the target's: ``/v4/core/invite_links`` on the proxy goes to
``https://api.rootfi.dev/v4/core/invite_links``; a path outside it goes to the target as it is.

Bodies stream both ways chunk by chunk (a 3 MB upload is never held whole to be forwarded); a copy of each is
kept up to ``capture_limit`` to be checked and recorded. The checks run after the answer has been sent
(:class:`~mockserver.proxy.validator.Contract`), except with ``--fail-on-drift``, where the answer is held
until it is checked, so that a drifting one can be replaced by a 502 in the vendor's error format. A target
that cannot be reached is a 502 (504 when it does not answer in time), in the vendor's format too.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, AsyncIterator
from urllib.parse import quote

import httpx
from starlette.types import Receive, Scope, Send

from mockserver.errors import ApiError, Problem, render
from mockserver.proxy.config import ProxyConfig
from mockserver.proxy.drift import DriftLog
from mockserver.proxy.pool import LeanTransport
from mockserver.proxy.validator import Contract, Message, RequestCheck, Violation, decoded_body
from mockserver.recording import Recorder, encode_body, redact_headers, redact_query
from mockserver.vendors import VENDORS

log = logging.getLogger("mockserver.proxy")

if importlib.util.find_spec("sniffio") is None:
    # httpcore 1.0 runs `import sniffio` on every request to learn its event loop, and falls back to asyncio when
    # that fails. anyio 4 no longer installs sniffio, so each request paid a failed import: a search of every
    # sys.path entry, ~0.7 ms of the proxy's ~2.5 ms. Remembering the failure changes no outcome, only its cost.
    sys.modules.setdefault("sniffio", None)  # type: ignore[arg-type]

HOP_BY_HOP = frozenset({b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization",
                        b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade"})


class TargetBrokeOff(Exception):
    """The target's answer ended before its last byte, after the client had its start: the connection is cut."""


class ClientGone(Exception):
    """The client disconnected while its request body was being forwarded."""


class Capture:
    """A copy of a body as it streams through, kept up to a limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self.complete = False
        self._parts: list[bytes] = []
        self._over = False

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self._over:
            return
        if self.size > self.limit:
            self._over = True
            self._parts.clear()
        else:
            self._parts.append(chunk)

    @property
    def body(self) -> bytes | None:
        """The whole body, or None when it was larger than the limit or did not arrive whole."""
        return b"".join(self._parts) if self.complete and not self._over else None


def _hop_headers(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    named = {token.strip().lower() for key, value in headers if key.lower() == b"connection"
             for token in value.split(b",")}
    return HOP_BY_HOP | named


def _end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    hop = _hop_headers(headers)
    return [(key, value) for key, value in headers if key.lower() not in hop]


def _content_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    value = next((value for key, value in headers if key.lower() == b"content-length"), None)
    return int(value) if value is not None and value.strip().isdigit() else None


def _text_headers(headers: list[tuple[bytes, bytes]]) -> tuple[tuple[str, str], ...]:
    return tuple((key.decode("latin-1").lower(), value.decode("latin-1")) for key, value in headers)


@dataclass
class Exchange:
    """One request on its way through the proxy, and what is known of it so far."""

    method: str
    client_path: str
    """As the client sent it, e.g. ``/v4/core/invite_links``."""
    path: str
    """Relative to the API's server URL, e.g. ``/core/invite_links`` (how the spec names it)."""
    query: str
    headers: tuple[tuple[str, str], ...]
    body: Capture
    started: float = field(default_factory=time.perf_counter)

    @property
    def request(self) -> Message:
        return Message(self.headers, self.body.body)

    @property
    def is_preflight(self) -> bool:
        """A browser's CORS preflight: no operation of an API, not the app's own request."""
        return self.method == "OPTIONS" and any(key == "access-control-request-method" for key, _ in self.headers)


class Proxy:
    """The forwarding ASGI app: forwards, then checks on the side, counts drift and records."""

    def __init__(self, config: ProxyConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.config = config
        self.contract = Contract(config.api)
        self.drift = DriftLog(keep=config.keep_last)
        self.recorder = Recorder(config.record) if config.record is not None else None
        self._transport = transport
        self._timeout = httpx.Timeout(config.timeout_s, connect=10.0).as_dict()
        target = httpx.URL(config.target)
        self._target = target
        self._target_path = target.raw_path.split(b"?", 1)[0].rstrip(b"/")
        self._target_host = target.netloc
        self._base = config.base_path
        self._base_raw = self._base.encode()
        self._caller_id = getattr(VENDORS[config.api], "caller_id", None)

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The connections to the target (:class:`~mockserver.proxy.pool.LeanTransport`), made on first use.

        Requests go to the transport itself rather than through an ``httpx.AsyncClient``: a proxy wants none of a
        client's extras (redirects, auth, a cookie jar that would keep every client's cookies), and skipping them
        saves a fair part of the cost of a forward.
        """
        if self._transport is None:
            self._transport = LeanTransport()
        return self._transport

    async def aclose(self) -> None:
        if self._transport is not None:
            await self._transport.aclose()
        if self.recorder is not None:
            self.recorder.close()

    # --- one exchange ---------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - websockets are not part of these APIs
            return
        headers: list[tuple[bytes, bytes]] = list(scope.get("headers", []))
        query: bytes = scope.get("query_string", b"")
        path, raw_path = self._relative(scope)
        exchange = Exchange(method=scope["method"], client_path=scope["path"], path=path,
                            query=query.decode("latin-1"), headers=_text_headers(headers),
                            body=Capture(self.config.capture_limit))
        request = httpx.Request(exchange.method, self._url(raw_path, query), headers=self._forward_headers(headers),
                                content=self._body(headers, receive, exchange.body),
                                extensions={"timeout": self._timeout})
        try:
            upstream = await self.transport.handle_async_request(request)
        except ClientGone:
            return
        except httpx.TimeoutException as exc:
            await self._unreachable(send, exchange, 504, f"the target {self.config.target} did not answer in time "
                                                         f"({type(exc).__name__})")
            return
        except httpx.TransportError as exc:
            reason = str(exc) or type(exc).__name__
            await self._unreachable(send, exchange, 502,
                                    f"the proxy could not reach the target {self.config.target}: {reason}")
            return
        try:
            answered = await self._answer(exchange, upstream, send)
        finally:
            await upstream.aclose()
        if log.isEnabledFor(logging.INFO):
            query = redact_query(self.config.api, exchange.query)  # MPDX takes access_token in the query
            log.info("%s %s%s %d %.1fms", exchange.method, exchange.client_path,
                     f"?{query}" if query else "", answered,
                     (time.perf_counter() - exchange.started) * 1000)

    def _relative(self, scope: Scope) -> tuple[str, bytes]:
        """The request's path after the API's server path, decoded and raw."""
        path: str = scope["path"]
        raw: bytes = scope.get("raw_path") or path.encode()
        raw = raw.split(b"?", 1)[0]
        base = self._base
        if base and (path == base or path.startswith(base + "/")):
            path = path[len(base):]
            # The raw path keeps the client's encoding; when the base itself was percent-encoded it cannot be cut
            # from it, and the decoded rest is sent (encoded again) so that what is forwarded is what is checked.
            raw = raw[len(self._base_raw):] if raw.startswith(self._base_raw) else quote(path).encode()
        return path or "/", raw or b"/"

    def _url(self, raw_path: bytes, query: bytes) -> httpx.URL:
        full = self._target_path + raw_path
        return self._target.copy_with(raw_path=full + (b"?" + query if query else b""))

    def _forward_headers(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        forwarded = [(key, value) for key, value in _end_to_end(headers) if key.lower() != b"host"]
        return [(b"host", self._target_host)] + forwarded

    @staticmethod
    def _body(headers: list[tuple[bytes, bytes]], receive: Receive,
              captured: Capture) -> AsyncIterator[bytes] | bytes | None:
        """The request body for httpx: streamed when there is one (its Content-Length kept), else none."""
        length = next((value for key, value in headers if key.lower() == b"content-length"), None)
        chunked = any(key.lower() == b"transfer-encoding" for key, _ in headers)
        if length is None and not chunked:
            captured.complete = True
            return None
        if length is not None and length.strip() == b"0":
            captured.complete = True
            return b""

        async def chunks() -> AsyncIterator[bytes]:
            more = True
            while more:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGone()
                chunk = message.get("body", b"")
                more = message.get("more_body", False)
                if chunk:
                    captured.add(chunk)
                    yield chunk
            captured.complete = True

        return chunks()

    async def _answer(self, exchange: Exchange, upstream: httpx.Response, send: Send) -> int:
        """Send the target's answer (with ``--fail-on-drift``, a 502 instead of a drifting one), and check it.

        Without ``--fail-on-drift`` the answer streams to the client first and is checked after its last byte.
        """
        status = upstream.status_code
        headers = _end_to_end(list(upstream.headers.raw))
        captured = Capture(self.config.capture_limit)
        chunks = upstream.aiter_raw()
        held: list[bytes] = []
        if self.config.fail_on_drift:
            # Held until checked, as long as it is small enough to be checked at all; a larger one streams on.
            try:
                async for chunk in chunks:
                    captured.add(chunk)
                    held.append(chunk)
                    if captured.size > captured.limit:
                        break
                else:
                    captured.complete = True
            except httpx.TransportError as exc:
                await self._unreachable(send, exchange, 502, f"the target {self.config.target} broke off its "
                                                             f"answer: {str(exc) or type(exc).__name__}")
                return 502
            if captured.complete:
                verdict = self._check(exchange, status, headers, captured)
                drifting = [v for v in verdict[1] if v.side == "response"] if verdict else []
                if drifting:
                    answered = await self._refuse(send, status, drifting)
                else:
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body", "body": b"".join(held)})
                    answered = status
                self._conclude(exchange, status, headers, captured, verdict, answered)
                return answered
        await self._stream(exchange, status, headers, held, chunks, captured, send)
        verdict = self._check(exchange, status, headers, captured)
        self._conclude(exchange, status, headers, captured, verdict, status)
        return status

    async def _stream(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]], held: list[bytes],
                      chunks: AsyncIterator[bytes], captured: Capture, send: Send) -> None:
        """Send the answer as it arrives, after the part already ``held``; checked once its last byte is out."""
        await send({"type": "http.response.start", "status": status, "headers": headers})
        length = _content_length(headers)
        sent = 0
        finished = False

        async def emit(chunk: bytes) -> None:
            nonlocal sent, finished
            if not finished:  # the chunk that completes a Content-Length body is sent as the last one
                sent += len(chunk)
                finished = length is not None and sent >= length
                await send({"type": "http.response.body", "body": chunk, "more_body": not finished})

        for chunk in held:
            await emit(chunk)
        try:
            async for chunk in chunks:
                captured.add(chunk)
                await emit(chunk)
        except httpx.TransportError as exc:
            self.drift.note_target_error()
            log.warning("%s %s: the target %s broke off its answer after it had started: %s", exchange.method,
                        exchange.client_path, self.config.target, str(exc) or type(exc).__name__)
            raise TargetBrokeOff(str(exc)) from exc
        if not finished:
            await send({"type": "http.response.body", "body": b""})
        captured.complete = True

    # --- on the side: check, count, record ---------------------------------------------------------------------

    def _check(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]],
               captured: Capture) -> tuple[RequestCheck, list[Violation]] | None:
        """The exchange judged against the contract; None when not judged (forwarding never depends on it)."""
        if exchange.is_preflight:
            return None
        try:
            check = self.contract.check_request(exchange.method, exchange.path, exchange.query, exchange.request)
            response = Message(_text_headers(headers), captured.body)
            return check, check.violations + self.contract.check_response(check, status, response)
        except Exception:  # a bug in a check must not cost the client its answer
            log.exception("the proxy failed to check %s %s against the contract", exchange.method, exchange.client_path)
            return None

    def _conclude(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]], captured: Capture,
                  verdict: tuple[RequestCheck, list[Violation]] | None, answered: int) -> None:
        check, violations = verdict if verdict is not None else (None, [])
        self.drift.note(method=exchange.method, path=exchange.client_path,
                        operation=check.operation_id if check else None, status=status, violations=violations,
                        body_checked=captured.body is not None and exchange.body.body is not None)
        if self.recorder is None:
            return
        try:
            self.recorder.write(self._recorded(exchange, status, headers, captured, check, violations, answered))
        except Exception:
            log.exception("the proxy failed to record %s %s", exchange.method, exchange.client_path)

    def _recorded(self, exchange: Exchange, status: int, headers: list[tuple[bytes, bytes]], captured: Capture,
                  check: RequestCheck | None, violations: list[Violation], answered: int) -> dict[str, Any]:
        """The exchange as one line of the recording (:mod:`mockserver.recording`), secrets redacted."""
        api = self.config.api
        sent = exchange.request
        response = Message(_text_headers(headers), captured.body)
        caller = None
        if check is not None and check.credential is not None and self._caller_id is not None:
            caller = self._caller_id(check.credential)
        route = check.route if check else None
        return {
            "time": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "api": api,
            "operation": route.operation_id if route else None,
            "method": exchange.method,
            "path": exchange.path,
            "path_parameters": route.path_parameters(exchange.path) if route else {},
            "query": redact_query(api, exchange.query),
            "caller": caller,
            "ms": round((time.perf_counter() - exchange.started) * 1000, 2),
            "request": {"headers": redact_headers(api, sent.headers), **encode_body(sent.body, sent.media_type)},
            "response": {"status": status, "headers": redact_headers(api, response.headers),
                         **encode_body(decoded_body(response), response.media_type)},
            "violations": [{"kind": v.kind, "expected": v.expected, "seen": v.seen} for v in violations],
            "answered": answered,
        }

    # --- the proxy's own answers -------------------------------------------------------------------------------

    async def _refuse(self, send: Send, status: int, drifting: list[Violation]) -> int:
        """The 502 that replaces a drifting answer, in the vendor's error format, naming every violation."""
        count = f"{len(drifting)} violation{'s' if len(drifting) != 1 else ''}"
        problems = [Problem(f"The target's {status} answer breaks the API contract ({count}); "
                            f"mockserver proxy --fail-on-drift replaced it")]
        problems += [Problem(f"{v.kind}: the contract expects {v.expected}; the target sent {v.seen}") for v in drifting]
        error = ApiError(502, problems=problems, title="Bad Gateway",
                         headers={"x-contract-drift": ", ".join(sorted({v.kind for v in drifting}))})
        return await self._send_error(send, error)

    async def _unreachable(self, send: Send, exchange: Exchange, status: int, detail: str) -> None:
        log.warning("%s %s: %s", exchange.method, exchange.client_path, detail)
        self.drift.note_target_error()
        await self._send_error(send, ApiError(status, detail))

    async def _send_error(self, send: Send, error: ApiError) -> int:
        status, body, headers = render(self.config.api, error)
        raw = [(key.lower().encode("latin-1"), value.encode("latin-1")) for key, value in headers.items()]
        raw.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})
        return status
