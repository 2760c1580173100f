"""Request body size limits, enforced before a body is read whole.

Torii documents a 3 MB limit for uploaded files; every other operation takes a small JSON document, so 1 MB is
generous (the largest documented example is under 4 KB). A body announced larger (``Content-Length``) is
refused before any of it is read; a body without a length (chunked) is counted as it streams and refused as
soon as it passes the limit. Either way the answer is a 413 in the vendor's format: the error is raised inside
Connexion's exception handling, which renders it like any other.

Connexion 3.3 takes a request without ``Content-Length`` for one without a body ("RequestBody is required"),
so a chunked body, once read within its limit, is handed on with the ``Content-Length`` it turned out to have.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.errors import ApiError

MB = 1024 * 1024
DEFAULT_LIMIT = 1 * MB
UPLOAD_LIMIT = 3 * MB + 64 * 1024
"""Torii's 3 MB file plus room for the multipart envelope; the upload handler checks the file's own size."""


def _too_large(limit: int) -> ApiError:
    return ApiError(413, f"The request body is larger than this operation's limit of {limit // 1024} KB",
                    title="Payload Too Large")


class BodySizeLimitMiddleware:
    """Refuses request bodies over the limit of their path (``upload_paths`` end with an upload route)."""

    def __init__(self, app: ASGIApp, upload_paths: tuple[str, ...] = (), limit: int = DEFAULT_LIMIT) -> None:
        self.app = app
        self.upload_paths = upload_paths
        self.limit = limit

    def limit_for(self, path: str) -> int:
        return UPLOAD_LIMIT if self.upload_paths and path.endswith(self.upload_paths) else self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is None:
            if b"transfer-encoding" in headers:
                scope, receive = await _with_length(scope, receive, limit)
        # The server (h11/httptools) has already refused a length that is not a number.
        elif length.isdigit() and int(length) > limit:
            raise _too_large(limit)
        received = 0

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _too_large(limit)
            return message

        await self.app(scope, counted_receive, send)


async def _with_length(scope: Scope, receive: Receive, limit: int) -> tuple[Scope, Receive]:
    """Read a chunked body (refusing it once past ``limit``) and replay it as one message with its length."""
    chunks: list[bytes] = []
    size = 0
    more_body = True
    while more_body:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the app will see the disconnect itself
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > limit:
            raise _too_large(limit)
        more_body = message.get("more_body", False)
    body = b"".join(chunks)
    scope = dict(scope)
    scope["headers"] = [(key, value) for key, value in scope["headers"] if key != b"transfer-encoding"]
    scope["headers"].append((b"content-length", str(len(body)).encode()))
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return scope, replay
