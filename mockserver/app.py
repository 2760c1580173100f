"""Build the mock: one Connexion app serving the chosen specs, inside a Starlette app with the admin API.

How a request travels: CORS → journal/log line → request context (runtime, session) → (with ``--db``) the
wait for its writes to be on disk → ``/__admin`` or the Connexion app, where the body size limit is
enforced (:mod:`mockserver.limits`) and Connexion routes, checks
credentials and validates the request against the spec (rejections are rendered in the vendor's error
format by :func:`_vendor_error_handler`), ``Prefer`` answers are served from the spec's examples, and
otherwise the vendor module's handler runs. The Connexion app is assembled in :mod:`mockserver.connexion_ext`,
which keeps per-request work that never changes out of the request path.
"""

from __future__ import annotations

import contextlib
import copy
import re
import logging
from typing import AsyncIterator

from connexion.exceptions import ProblemException
from connexion.lifecycle import ConnexionRequest, ConnexionResponse
from connexion.middleware import ConnexionMiddleware, MiddlewarePosition
from connexion.options import SwaggerUIOptions
from connexion.resolver import RelativeResolver
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mockserver.admin import SNAPSHOT_LIMIT, admin_routes
from mockserver.auth import SECURITY_MAP
from mockserver.config import MockConfig
from mockserver.connexion_ext import api_app
from mockserver.context import RequestContextMiddleware, Runtime
from mockserver.docs import docs_routes
from mockserver.errors import ApiError, render
from mockserver.headers import RequestContentTypeMiddleware, ResponseContentTypeMiddleware
from mockserver.journal import ADMIN_PREFIX, Journal, JournalMiddleware
from mockserver.limits import BodySizeLimitMiddleware
from mockserver.recording import recorded_seeder
from mockserver.prefer import DocumentedAnswers, LatencyMiddleware, PreferMiddleware
from mockserver.specs import APIS, HTTP_METHODS
from mockserver.store import GroupCommit, Store
from mockserver.validation import VALIDATORS
from mockserver.vendors import VENDORS

log = logging.getLogger("mockserver")

UPLOAD_PATHS = ("/files/upload",)
"""Paths whose bodies may be files (Torii's upload) and get the larger body limit."""

EXPOSED_HEADERS = [
    "Location",
    "Retry-After",
    "X-Rate-Limit-Limit",
    "X-Rate-Limit-Remaining",
    "X-Rate-Limit-Reset",
]


class VendorErrors:
    """Decides whose error format an exception is rendered in, from the request's path."""

    def __init__(self, base_paths: dict[str, str]) -> None:
        # Longest first, so that a mount never shadows a longer one; "" (an API alone at the root) is last.
        self._mounts = sorted(base_paths.items(), key=lambda item: len(item[1]), reverse=True)
        self._paths = {
            name: [(_template_pattern(base + path), item) for path, item in APIS[name].spec["paths"].items()]
            for name, base in base_paths.items()
        }

    def vendor_for(self, path: str) -> str:
        for name, base in self._mounts:
            if not base or path == base or path.startswith(base + "/"):
                return name
        return "admin"

    def allowed_methods(self, vendor: str, path: str) -> list[str]:
        """The methods the spec documents for ``path`` (what a 405's ``Allow`` must list)."""
        for pattern, item in self._paths.get(vendor, []):
            if pattern.match(path):
                return [method.upper() for method in HTTP_METHODS if method in item]
        return []

    def render(self, path: str, error: ApiError) -> tuple[int, bytes, dict[str, str]]:
        """The error as the API owning ``path`` words it: status, body, headers (content type included)."""
        vendor = self.vendor_for(path)
        if error.status == 405:
            error.headers["Allow"] = ", ".join(self.allowed_methods(vendor, path))
        return render(vendor, error)

    def connexion_response(self, request: ConnexionRequest, exc: Exception) -> ConnexionResponse:
        error = _as_api_error(exc)
        if error.status >= 500:
            log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        status, body, headers = self.render(request.url.path, error)
        media_type = headers.pop("content-type")
        return ConnexionResponse(status_code=status, mimetype=media_type, content_type=media_type,
                                 body=body, headers=headers)

    def starlette_response(self, request: Request, exc: Exception) -> Response:
        """For requests no API route even reached (e.g. a path Starlette's router cannot match)."""
        status, body, headers = self.render(request.url.path, _as_api_error(exc))
        return Response(body, status_code=status, headers=headers)


def _template_pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")


def _as_api_error(exc: Exception) -> ApiError:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ProblemException):
        return ApiError(exc.status, exc.detail or exc.title, title=exc.title, headers=exc.headers or {})
    if isinstance(exc, HTTPException):
        detail = exc.detail if exc.status_code != 404 else "No such endpoint in this API"
        return ApiError(exc.status_code, detail, headers=dict(exc.headers or {}))
    return ApiError(500, "The mock failed to handle this request; its log has the details")


class DurableAnswersMiddleware:
    """Holds each answer back until every write made before it is on disk (``--db``'s crash guarantee).

    The store appends a write to its journal at once and fsyncs in groups (:class:`~mockserver.store.GroupCommit`),
    so a burst of writes shares one fsync instead of queueing behind one fsync each.
    """

    def __init__(self, app: ASGIApp, commit: GroupCommit) -> None:
        self.app = app
        self.commit = commit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_when_durable(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self.commit.wait()
            await send(message)

        await self.app(scope, receive, send_when_durable)


def build_api_app(runtime: Runtime, errors: VendorErrors) -> ConnexionMiddleware:
    """The Connexion app serving every chosen spec at its base path (``connexion.AsyncApp``, decorating once)."""
    config = runtime.config
    base_paths = {name: APIS[name].base_path(alone=config.alone) for name in config.apis}
    app = api_app(__name__, validate_responses=config.validate_responses)
    for name, base_path in base_paths.items():
        app.add_api(
            # The parsed spec, not its path: Connexion would parse the YAML again (slowly) for each app.
            copy.deepcopy(APIS[name].spec),
            base_path=base_path,
            name=name,
            resolver=RelativeResolver(f"mockserver.vendors.{name}"),
            validator_map=VALIDATORS,
            security_map=SECURITY_MAP,
            validate_responses=config.validate_responses,
            pythonic_params=True,
            swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
        )

    for exception_class in (ApiError, ProblemException, HTTPException, Exception):
        app.add_error_handler(exception_class, errors.connexion_response)
    answers = {base: DocumentedAnswers(APIS[name].spec) for name, base in base_paths.items()}
    app.add_middleware(PreferMiddleware, position=MiddlewarePosition.BEFORE_CONTEXT, answers=answers)
    app.add_middleware(LatencyMiddleware, position=MiddlewarePosition.BEFORE_ROUTING,
                       latency_ms=config.latency_ms)
    app.add_middleware(RequestContentTypeMiddleware, position=MiddlewarePosition.BEFORE_ROUTING)
    app.add_middleware(BodySizeLimitMiddleware, position=MiddlewarePosition.BEFORE_ROUTING,
                       upload_paths=UPLOAD_PATHS)
    app.add_middleware(ResponseContentTypeMiddleware, position=MiddlewarePosition.BEFORE_EXCEPTION)
    return app


def create_app(config: MockConfig | None = None) -> Starlette:
    """The whole mock as an ASGI app: give it to uvicorn, or to httpx's ASGITransport in tests."""
    config = config or MockConfig()
    # A recording given with --seed-from replaces the documented examples for the API it records.
    seeders = ([recorded_seeder(name, config.seed_from) or VENDORS[name].seed for name in config.apis]
               if config.seed else [])
    runtime = Runtime(config=config, store=Store(config.db_path, seeders=seeders, group_commit=True))
    journal = Journal()
    errors = VendorErrors({name: APIS[name].base_path(alone=config.alone) for name in config.apis})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        runtime.store.close()

    app = Starlette(
        routes=[
            Mount(ADMIN_PREFIX, app=BodySizeLimitMiddleware(Router(admin_routes(runtime, journal)),
                                                             limit=SNAPSHOT_LIMIT)),
            *docs_routes(config),
            Mount("", app=build_api_app(runtime, errors)),
        ],
        exception_handlers={HTTPException: errors.starlette_response, ApiError: errors.starlette_response},
        middleware=[
            Middleware(
                CORSMiddleware,
                allow_origin_regex=".*",
                allow_credentials=True,
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=EXPOSED_HEADERS,
                max_age=600,
            ),
            Middleware(JournalMiddleware, journal=journal),
            Middleware(RequestContextMiddleware, runtime=runtime),
            *([Middleware(DurableAnswersMiddleware, commit=runtime.store.commit)] if runtime.store.commit else []),
        ],
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.journal = journal
    return app


def describe(config: MockConfig, base_url: str) -> list[str]:
    """Where each API, its docs UI, the documentation site and the admin API are, for the startup banner."""
    lines = []
    for name in config.apis:
        api = APIS[name]
        base = base_url + api.base_path(alone=config.alone)
        lines.append(f"{api.title:<7} {base}  (real: {api.real_server_url}; docs: {base}/ui/)")
    lines.append(f"docs    {base_url}/  (the API documentation site)")
    lines.append(f"admin   {base_url}{ADMIN_PREFIX}  (health, reset, requests, state)")
    return lines


__all__ = ["create_app", "build_api_app", "describe"]
