"""Header fix-ups at the edge of the API app, where the vendors and Connexion disagree.

* Requests: Connexion 3.3 crashes on JSON media-type parameters other than ``charset`` (JSON:API 1.1's
  ``ext="https://..."`` makes ``is_json_mimetype`` split on every "/"), so a JSON type keeps only
  ``charset``. Other types (multipart needs its ``boundary``) pass untouched.
* Answers: the vendors send ``; charset=utf-8`` with their JSON (MPDX documents
  ``application/vnd.api+json; charset=utf-8``), which Connexion refuses to emit itself because it matches
  response media types exactly. A 204 carries no content type at all.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

JSON_TYPES = (b"application/json", b"application/vnd.api+json")


def _only_charset(value: bytes) -> bytes:
    media, *params = value.split(b";")
    if b"json" not in media.lower():
        return value
    kept = [p.strip() for p in params if p.strip().lower().startswith(b"charset=")]
    return b"; ".join([media.strip(), *kept])


class RequestContentTypeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = scope.get("headers", [])
            if any(key == b"content-type" and b";" in value for key, value in headers):
                scope = dict(scope)
                scope["headers"] = [
                    (key, _only_charset(value) if key == b"content-type" else value) for key, value in headers
                ]
        await self.app(scope, receive, send)


class ResponseContentTypeMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_fixed(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = [
                    *(
                        (key, value + b"; charset=utf-8" if value in JSON_TYPES else value)
                        for key, value in message.get("headers", [])
                        if not (key == b"content-type" and message["status"] == 204)
                    )
                ]
            await send(message)

        await self.app(scope, receive, send_fixed)
