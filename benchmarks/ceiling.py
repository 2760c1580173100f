"""The ceiling: a bare Starlette app on uvicorn answering the benchmark's requests with equivalent payloads.

It does what any Python server must do for these requests and nothing more: parse the JSON body, keep the
records in a dict, and serialise the same JSON:API documents (and RootFi link) the mock sends. No spec,
no validation, no middleware. It runs under uvicorn with the mock's own settings (httptools, uvloop, no
access log), so the gap between the two is the cost of being a spec-driven, validating, stateful mock.

    python benchmarks/ceiling.py --port 8001
"""

from __future__ import annotations

import argparse
import copy
import json
import secrets
import uuid
from datetime import datetime, timezone

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSON_API = "application/vnd.api+json; charset=utf-8"


def _resource(record: dict) -> dict:
    return {
        "id": record["id"],
        "type": "account_list_invites",
        "attributes": {
            "accepted_at": record["accepted_at"],
            "code": record["code"],
            "created_at": record["created_at"],
            "invite_user_as": record["invite_user_as"],
            "recipient_email": record["recipient_email"],
            "updated_at": record["updated_at"],
            "updated_in_db_at": record["updated_at"],
        },
        "relationships": {
            name: {"data": {"id": record[name], "type": "users"} if record[name] else None}
            for name in ("accepted_by_user", "cancelled_by_user", "invited_by_user")
        },
    }


def _stamp() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


INVITES: dict[str, dict] = {}
BY_PARENT: dict[str, dict[str, dict]] = {}
LINKS: dict[str, dict] = {}


def _store(record: dict) -> None:
    INVITES[record["id"]] = record
    BY_PARENT.setdefault(record["parent_id"], {})[record["id"]] = record


def preload(invites: list[dict], link: dict) -> None:
    for invite in invites:
        _store(invite)
    LINKS[link["invite_link_id"]] = copy.deepcopy(link)


def _json(document: object, status: int = 200, media_type: str = JSON_API) -> Response:
    return Response(json.dumps(document), status_code=status, media_type=None, headers={"content-type": media_type})


async def list_invites(request: Request) -> Response:
    parent = request.path_params["parent"]
    page = int(request.query_params.get("page", 1))
    per_page = int(request.query_params.get("per_page", 25))
    records = sorted(BY_PARENT.get(parent, {}).values(), key=lambda r: r["created_at"])
    start = (page - 1) * per_page
    return _json({
        "data": [_resource(r) for r in records[start:start + per_page]],
        "meta": {"pagination": {"page": page, "per_page": per_page, "total_count": len(records),
                                "total_pages": -(-len(records) // per_page)}, "sort": None, "filter": {}},
    })


async def get_invite(request: Request) -> Response:
    record = INVITES.get(request.path_params["id"])
    if record is None or record["parent_id"] != request.path_params["parent"]:
        return _json({"errors": [{"status": "404", "title": "Not Found"}]}, 404)
    return _json({"data": _resource(record)})


async def create_invite(request: Request) -> Response:
    attributes = json.loads(await request.body())["data"]["attributes"]
    now = _stamp()
    record = {
        "id": str(uuid.uuid4()), "parent_id": request.path_params["parent"], "accepted_at": None,
        "code": secrets.token_hex(32), "created_at": now, "updated_at": now,
        "invite_user_as": attributes.get("invite_user_as") or "user",
        "recipient_email": attributes["recipient_email"],
        "accepted_by_user": None, "cancelled_by_user": None, "invited_by_user": str(uuid.uuid4()),
    }
    _store(record)
    return _json({"data": _resource(record)}, 201)


async def update_link(request: Request) -> Response:
    body = json.loads(await request.body())
    link = LINKS.get(request.path_params["link"])
    if link is None:
        return _json({"error": {"status": 404}}, 404, "application/json")
    link["integration_categories"] = body["integration_categories"]
    link["integrations"] = body.get("integrations", link["integrations"])
    link["rootfi_updated_at"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return _json({"data": link}, 200, "application/json")


app = Starlette(routes=[
    Route("/mpdx/api/v2/account_lists/{parent}/invites", list_invites, methods=["GET"]),
    Route("/mpdx/api/v2/account_lists/{parent}/invites", create_invite, methods=["POST"]),
    Route("/mpdx/api/v2/account_lists/{parent}/invites/{id}", get_invite, methods=["GET"]),
    Route("/rootfi/v4/core/invite_links/{link}", update_link, methods=["PUT"]),
])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--preload", help="a JSON file: {\"invites\": [...], \"link\": {...}}")
    args = parser.parse_args()
    if args.preload:
        with open(args.preload, encoding="utf-8") as fh:
            data = json.load(fh)
        preload(data["invites"], data["link"])
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
