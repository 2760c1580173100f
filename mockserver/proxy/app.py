"""The proxy as an ASGI app: ``/__admin`` for its own report, everything else forwarded to the target."""

from __future__ import annotations

import contextlib
from typing import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from mockserver.errors import ApiError, render
from mockserver.journal import ADMIN_PREFIX
from mockserver.proxy.config import ProxyConfig
from mockserver.proxy.forward import Proxy


def _admin_error(request: Request, exc: Exception) -> Response:
    status = getattr(exc, "status_code", 500)
    detail = "No such endpoint on the proxy (it has /__admin/drift and /__admin/health)" if status == 404 else \
        str(getattr(exc, "detail", "")) or None
    status, body, headers = render("admin", ApiError(status, detail))
    return Response(body, status_code=status, headers=headers)


def create_proxy_app(config: ProxyConfig, *, transport: httpx.AsyncBaseTransport | None = None) -> Starlette:
    """The validating proxy. ``transport`` replaces the network (tests give ``httpx.ASGITransport(target_app)``)."""
    proxy = Proxy(config, transport=transport)

    async def drift(request: Request) -> Response:
        return JSONResponse(proxy.drift.report())

    async def reset_drift(request: Request) -> Response:
        proxy.drift.reset()
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "api": config.api, "target": config.target,
                             "fail_on_drift": config.fail_on_drift,
                             "recording": str(config.record) if config.record else None})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await proxy.aclose()

    app = Starlette(
        routes=[
            Mount(ADMIN_PREFIX, routes=[
                Route("/drift", drift, methods=["GET"]),
                Route("/drift", reset_drift, methods=["DELETE"]),
                Route("/health", health, methods=["GET"]),
            ]),
            Mount("", app=proxy),
        ],
        exception_handlers={HTTPException: _admin_error},
        lifespan=lifespan,
    )
    app.state.proxy = proxy
    return app
