"""Connexion's own floor: an AsyncApp answering the benchmark's paths with fixed documents, nothing else.

Trivial ``async def`` handlers, no security, no middleware of ours, the same uvicorn settings as the mock:

* the MPDX get-one path (two string path parameters, nothing else to validate);
* the MPDX create and the RootFi update, whose bodies Connexion validates against the very request schemas of
  ``openapi/`` (as the mock must), answering a fixed document.

Whatever this costs per request, the mock, built on the same Connexion pipeline, cannot cost less; the
benchmark measures it next to the mock and the ceiling.

    python benchmarks/connexion_floor.py --port 8002
"""

from __future__ import annotations

import argparse

import uvicorn
from connexion import AsyncApp

from mockserver.specs import load_spec

INVITE = {
    "id": "53af07af-76b9-470b-b1d4-9be69aac6ba1",
    "type": "account_list_invites",
    "attributes": {
        "accepted_at": None, "code": "0" * 64, "created_at": "2022-01-12T17:18:20Z", "invite_user_as": "user",
        "recipient_email": "user@example.com", "updated_at": "2022-01-12T17:18:20Z",
        "updated_in_db_at": "2022-01-12T17:18:20Z",
    },
    "relationships": {
        "accepted_by_user": {"data": None}, "cancelled_by_user": {"data": None},
        "invited_by_user": {"data": {"id": "7ac9d6aa-4f6d-4b9c-a99c-768668a84fe1", "type": "users"}},
    },
}

LINK = {"data": {"rootfi_id": 1, "invite_link_id": "1", "integration_categories": ["ACCOUNTING"]}}

SPEC = {
    "openapi": "3.0.3",
    "info": {"title": "Connexion floor", "version": "1"},
    "paths": {
        "/api/v2/account_lists/{account_list_id}/invites/{id}": {
            "get": {
                "operationId": "connexion_floor.get_invite",
                "parameters": [
                    {"name": "account_list_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "the invite",
                                      "content": {"application/vnd.api+json": {"schema": {"type": "object"}}}}},
            }
        }
    },
}


async def get_invite(account_list_id: str, id: str):  # noqa: A002 - the spec's name
    return {"data": {**INVITE, "id": id}}, 200


async def create_invite(**_):
    return {"data": INVITE}, 201


async def update_link(**_):
    return LINK, 200


def validating_spec(api: str, path: str, method: str, handler: str, status: int) -> dict:
    """One operation of our spec: its parameters and request body as written, a trivial handler and answer."""
    spec = load_spec(api)
    item = spec["paths"][path]
    operation = item[method]
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Connexion floor ({api})", "version": "1"},
        "paths": {path: {"parameters": item.get("parameters", []), method: {
            "operationId": f"connexion_floor.{handler}",
            "parameters": operation.get("parameters", []),
            "requestBody": operation["requestBody"],
            "responses": {str(status): {"description": "fixed", "content": {"application/json": {}}}},
        }}},
        "components": spec.get("components", {}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = AsyncApp(__name__)
    app.add_api(SPEC, base_path="/mpdx", name="mpdx-get")
    app.add_api(validating_spec("mpdx", "/api/v2/account_lists/{account_list_id}/invites", "post",
                                "create_invite", 201), base_path="/mpdx", name="mpdx-create")
    app.add_api(validating_spec("rootfi", "/core/invite_links/{invite_link_id}", "put", "update_link", 200),
                base_path="/rootfi/v4", name="rootfi")
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
