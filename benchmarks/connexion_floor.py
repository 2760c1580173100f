"""Connexion's own floor: an AsyncApp answering the MPDX get-one path with a fixed invite, nothing else.

One trivial ``async def`` handler, no security, no validation of note (two string path parameters), no
middleware of ours, the same uvicorn settings as the mock. Whatever this costs per request, the mock, built
on the same Connexion pipeline, cannot cost less; the benchmark measures it next to the mock and the ceiling.

    python benchmarks/connexion_floor.py --port 8002
"""

from __future__ import annotations

import argparse

import uvicorn
from connexion import AsyncApp

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app = AsyncApp(__name__)
    app.add_api(SPEC, base_path="/mpdx")
    uvicorn.run(app, host="127.0.0.1", port=args.port, access_log=False, log_level="warning")


if __name__ == "__main__":
    main()
