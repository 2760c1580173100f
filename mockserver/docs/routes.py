"""Serve the documentation site from the running mock: ``/`` is the index, ``/docs/...`` the rest.

The site is rendered once per set of served APIs and kept in memory; a request only looks a file up.
"""

from __future__ import annotations

import functools
import mimetypes

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from mockserver.config import MockConfig
from mockserver.docs.render import render_site
from mockserver.docs.site import INDEX, Deployment

MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".yaml": "application/yaml; charset=utf-8",
}


@functools.cache
def served_site(deployment: Deployment) -> dict[str, bytes]:
    """The site as the mock serves it. Cached: every app built in one process with the same APIs shares it."""
    return render_site(deployment)


def _media_type(path: str) -> str:
    suffix = path[path.rfind("."):] if "." in path else ""
    return MEDIA_TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"


def site_routes(config: MockConfig) -> list[BaseRoute]:
    """Routes for every file of the site; rendering happens here, when the app is built."""
    files = served_site(Deployment.for_mock(config))

    def answer(path: str, method: str) -> Response:
        body = files.get(path)
        if body is None:
            return PlainTextResponse("No such page in the documentation site", status_code=404)
        return Response(b"" if method == "HEAD" else body, media_type=_media_type(path),
                        headers={"Cache-Control": "no-cache", "Content-Length": str(len(body))})

    async def index(request: Request) -> Response:
        return answer(INDEX, request.method)

    async def page(request: Request) -> Response:
        return answer("docs/" + request.path_params["path"], request.method)

    return [
        Route("/", index, methods=["GET", "HEAD"], name="docs-index"),
        Route("/" + INDEX, index, methods=["GET", "HEAD"]),
        Route("/docs/{path:path}", page, methods=["GET", "HEAD"], name="docs-page"),
    ]
