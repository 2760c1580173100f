"""``/__admin``: the mock's own API for tests and tools: health, reset, the request journal, snapshots.

Everything acts on the caller's session (the ``X-Mock-Session`` header, ``default`` without it), so a test
job resets or exports only its own state. With ``--admin-token``, everything but the health check (which
load balancers and start scripts poll without secrets) needs that token: a shared mock's data can then be
read and reset only by who runs it, while the APIs stay open to every client.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.context import Runtime, check_session_name, session_of
from mockserver.errors import ApiError, render
from mockserver.journal import Journal
from mockserver.limits import MB


def _error(error: ApiError) -> Response:
    status, body, headers = render("admin", error)
    return Response(body, status_code=status, headers=headers)


def _snapshot_problem(snapshot: Any) -> str | None:
    """Why a document is not a snapshot this mock can load, or None."""
    if not isinstance(snapshot, dict) or not isinstance(snapshot.get("tables"), dict):
        return 'a snapshot is an object with "tables": {table: {id: record}}, as GET /__admin/state returns'
    for table, records in snapshot["tables"].items():
        if not isinstance(records, dict) or not all(isinstance(r, dict) for r in records.values()):
            return f'table "{table}" must map record ids to objects'
        if "/" in table:
            return f'table name "{table}" must not contain "/"'
    counters = snapshot.get("counters", {})
    if not isinstance(counters, dict) or not all(isinstance(v, int) for v in counters.values()):
        return '"counters" must map sequence names to integers'
    return None


SNAPSHOT_LIMIT = 256 * MB
"""The largest body the admin API reads (a ``PUT /__admin/state`` of 100,000 invites is about 50 MB)."""


def _presented_token(request: Request) -> str:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credential.strip():
        return credential.strip()
    return request.headers.get("x-admin-token", "").strip()


def _answering_errors(endpoint, admin_token: str | None = None):
    async def endpoint_with_errors(request: Request) -> Response:
        try:
            if admin_token is not None and not hmac.compare_digest(
                _presented_token(request).encode(), admin_token.encode()
            ):
                raise ApiError(401, "The admin API needs the mock's admin token "
                               "(Authorization: Bearer <token> or X-Admin-Token: <token>)",
                               headers={"WWW-Authenticate": 'Bearer realm="mockserver admin"'})
            check_session_name(session_of(request.scope))
            return await endpoint(request)
        except ApiError as error:
            return _error(error)

    return endpoint_with_errors


def admin_routes(runtime: Runtime, journal: Journal) -> list[Route]:
    store = runtime.store

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "apis": list(runtime.config.apis), "sessions": store.session_names()})

    async def reset(request: Request) -> Response:
        if request.query_params.get("all") in ("1", "true"):
            store.reset_all()
            return JSONResponse({"reset": "all"})
        name = session_of(request.scope)
        store.reset(name)
        return JSONResponse({"reset": name})

    async def requests(request: Request) -> Response:
        limit = request.query_params.get("limit", "")
        entries = journal.entries(
            session=request.query_params.get("session"), limit=int(limit) if limit.isdigit() else None
        )
        return JSONResponse({"requests": entries})

    async def clear_requests(request: Request) -> Response:
        journal.clear()
        return Response(status_code=204)

    async def get_state(request: Request) -> Response:
        return JSONResponse(store.export(session_of(request.scope)))

    async def put_state(request: Request) -> Response:
        try:
            snapshot = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
            raise ApiError(400, f"the snapshot is not JSON: {exc}") from None
        problem = _snapshot_problem(snapshot)
        if problem:
            raise ApiError(400, problem)
        name = session_of(request.scope)
        store.restore(name, snapshot)
        return JSONResponse(store.export(name))

    token = runtime.config.admin_token
    return [
        Route("/health", _answering_errors(health), methods=["GET"]),
        Route("/reset", _answering_errors(reset, token), methods=["POST"]),
        Route("/requests", _answering_errors(requests, token), methods=["GET"]),
        Route("/requests", _answering_errors(clear_requests, token), methods=["DELETE"]),
        Route("/state", _answering_errors(get_state, token), methods=["GET"]),
        Route("/state", _answering_errors(put_state, token), methods=["PUT"]),
    ]
