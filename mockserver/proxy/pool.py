"""Keep-alive connections to the target, reused last in, first out: a cost per request that does not grow with load.

httpcore's own pool (behind ``httpx.AsyncHTTPTransport``) matches every waiting request against every connection,
and probes each idle connection's socket, each time a request arrives or an answer is closed: at 32 concurrent
requests that was ~3 ms of CPU per request, and the proxy managed a tenth of the mock's throughput. A proxy needs
much less: take the most recently used idle connection (checked once), or open a new one; put it back when its
answer has been read. Connections are httpcore's own (TLS, HTTP/1.1, timeouts); httpx still maps the errors.
"""

from __future__ import annotations

import ssl
from typing import Any, AsyncIterator

import httpcore
import httpx


class KeepAlivePool:
    """The ``httpcore`` pool interface (``handle_async_request``, ``aclose``) over a stack of idle connections."""

    def __init__(self, *, ssl_context: ssl.SSLContext | None = None, max_idle: int = 128,
                 keepalive_expiry: float = 30.0) -> None:
        self._ssl_context = ssl_context
        self._max_idle = max_idle
        self._keepalive_expiry = keepalive_expiry
        self._idle: dict[tuple[bytes, bytes, int], list[httpcore.AsyncHTTPConnection]] = {}
        self._closed = False

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        origin = request.url.origin
        key = (origin.scheme, origin.host, origin.port)
        connection = await self._idle_connection(key)
        if connection is None:
            connection = httpcore.AsyncHTTPConnection(origin=origin, ssl_context=self._ssl_context,
                                                      keepalive_expiry=self._keepalive_expiry)
        try:
            response = await connection.handle_async_request(request)
        except BaseException:
            await connection.aclose()
            raise
        response.stream = _Returning(response.stream, lambda: self._release(key, connection))
        return response

    async def _idle_connection(self, key: tuple[bytes, bytes, int]) -> httpcore.AsyncHTTPConnection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.is_idle() and not connection.has_expired():
                return connection
            await connection.aclose()  # the target closed it, or it sat unused too long
        return None

    async def _release(self, key: tuple[bytes, bytes, int], connection: httpcore.AsyncHTTPConnection) -> None:
        idle = self._idle.setdefault(key, [])
        if not self._closed and connection.is_idle() and len(idle) < self._max_idle:
            idle.append(connection)
        else:
            await connection.aclose()

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            while idle:
                await idle.pop().aclose()

    async def __aenter__(self) -> KeepAlivePool:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


class _Returning:
    """An answer's body stream that gives its connection back to the pool once closed."""

    def __init__(self, stream: Any, release: Any) -> None:
        self._stream = stream
        self._release = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for part in self._stream:
            yield part

    async def aclose(self) -> None:
        try:
            close = getattr(self._stream, "aclose", None)
            if close is not None:
                await close()
        finally:
            await self._release()


class LeanTransport(httpx.AsyncHTTPTransport):
    """httpx's transport (request and answer mapping, error mapping) over :class:`KeepAlivePool`."""

    def __init__(self, *, max_idle: int = 128, keepalive_expiry: float = 30.0) -> None:
        super().__init__(trust_env=False)  # never through an HTTP(S)_PROXY of the environment
        if not hasattr(self, "_pool"):  # pragma: no cover - a newer httpx: fall back to its own pool
            return
        self._pool = KeepAlivePool(ssl_context=httpx.create_ssl_context(trust_env=False), max_idle=max_idle,
                                   keepalive_expiry=keepalive_expiry)
