"""Vendor rules as Schemathesis checks: what each vendor documents that its OpenAPI schema cannot say.

They run on every response of every phase, next to Schemathesis's own checks:

* ``vendor_error_format``: a 4xx/5xx body is the vendor's error document and repeats the HTTP status
  (MPDX as a string in every ``errors[]`` item, RootFi in ``error.status``, Torii in ``statusCode`` with
  the matching reason phrase).
* ``documented_values``: a success answer carries the values the docs fix: what was sent is echoed back,
  a new MPDX invite has a 64-hex code and nobody accepted or cancelled it, an accepted one says when and
  by whom, a RootFi update keeps its id and creation time, a Torii sync says ``success: true``.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any

import schemathesis

from mockserver.specs import APIS

HEX64 = re.compile(r"^[0-9a-f]{64}$")
API_BY_SERVER = {api.real_server_url: name for name, api in APIS.items()}
TORII_PHRASES = {413: "Payload Too Large", 429: "Too Many Requests"}


def api_of(case) -> str | None:
    servers = case.operation.schema.raw_schema.get("servers") or [{}]
    return API_BY_SERVER.get(servers[0].get("url"))


def _json(response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        raise AssertionError(f"the body is not JSON: {response.content[:200]!r}") from None


def _sent_body(case) -> Any:
    body = case.body
    return body if isinstance(body, dict) else None


def error_format_problem(api: str, status: int, body: Any) -> str | None:
    """Why ``body`` is not ``api``'s error document for ``status``, or None when it is."""
    if api == "mpdx":
        errors = body.get("errors") if isinstance(body, dict) else None
        if not isinstance(errors, list) or not errors:
            return f"a JSON:API error document with a non-empty 'errors' array, got {body!r:.200}"
        wrong = [e.get("status") if isinstance(e, dict) else e for e in errors
                 if not isinstance(e, dict) or e.get("status") != str(status)]
        if wrong:
            return f"every errors[].status to be the string {str(status)!r}, got {wrong!r}"
    elif api == "rootfi":
        error = body.get("error") if isinstance(body, dict) else None
        if not isinstance(error, dict):
            return f'a RootFi error {{"error": {{...}}}}, got {body!r:.200}'
        if error.get("status") != status:
            return f"error.status to be {status}, got {error.get('status')!r}"
    elif api == "torii":
        if not isinstance(body, dict):
            return f"a Torii error object, got {body!r:.200}"
        if body.get("statusCode") != status:
            return f"statusCode to be {status}, got {body.get('statusCode')!r}"
        phrase = TORII_PHRASES.get(status, HTTPStatus(status).phrase)
        if body.get("error") != phrase:
            return f"error to be {phrase!r}, got {body.get('error')!r}"
        if not isinstance(body.get("message"), str) or not body["message"]:
            return "a message naming the problem"
    return None


@schemathesis.check
def vendor_error_format(ctx, response, case) -> None:
    """An error answer is the vendor's error document and names the same status as the HTTP status line."""
    api, status = api_of(case), response.status_code
    if status < 400 or api is None:
        return
    problem = error_format_problem(api, status, _json(response))
    assert problem is None, f"the vendor's error format expects {problem}"


@schemathesis.check
def documented_values(ctx, response, case) -> None:
    """A success answer carries the values the documentation fixes for it."""
    api, status = api_of(case), response.status_code
    if status >= 300 or api is None:
        return
    operation_id = case.operation.definition.raw.get("operationId", "")
    check = _VALUE_RULES.get((api, operation_id.split("_", 1)[0]))
    if check is not None:
        check(case, _json(response) if response.content else None, operation_id)


def _mpdx_create(case, body, operation_id) -> None:
    data = body["data"]
    attributes, relationships = data["attributes"], data["relationships"]
    assert HEX64.match(attributes.get("code") or ""), f"a new invite's code is 64 lowercase hex, got {attributes.get('code')!r}"
    assert attributes.get("accepted_at") is None, "a new invite is not accepted (accepted_at is null)"
    assert relationships["accepted_by_user"]["data"] is None, "a new invite has no accepted_by_user"
    assert relationships["cancelled_by_user"]["data"] is None, "a new invite has no cancelled_by_user"
    assert relationships["invited_by_user"]["data"] is not None, "invited_by_user is the caller"
    sent = (_sent_body(case) or {}).get("data", {}).get("attributes", {})
    if isinstance(sent, dict):
        for name in ("recipient_email", "invite_user_as"):
            if isinstance(sent.get(name), str):
                assert attributes.get(name) == sent[name], f"{name} is echoed: sent {sent[name]!r}, got {attributes.get(name)!r}"
    if "invite_user_as" not in (sent if isinstance(sent, dict) else {}):
        default = "user" if "account_list" in operation_id else "admin"
        assert attributes.get("invite_user_as") == default, f"invite_user_as defaults to {default!r}"
    assert attributes.get("updated_in_db_at") == attributes.get("updated_at"), "updated_in_db_at equals updated_at"


def _mpdx_accept(case, body, operation_id) -> None:
    data = body["data"]
    assert data["attributes"].get("accepted_at") not in (None, "-4712-01-01T00:00:00Z"), "an accepted invite says when"
    assert data["relationships"]["accepted_by_user"]["data"] is not None, "an accepted invite says by whom"
    assert data["id"] == case.path_parameters.get("id"), "accept answers the invite it was asked about"
    sent = (_sent_body(case) or {}).get("data", {}).get("attributes", {})
    if isinstance(sent, dict) and isinstance(sent.get("code"), str):
        assert data["attributes"]["code"] == sent["code"], "an invite is accepted only with its own code"


def _mpdx_get(case, body, operation_id) -> None:
    if operation_id.startswith("get_"):
        assert body["data"]["id"] == case.path_parameters.get("id"), "get answers the invite it was asked about"


def _mpdx_list(case, body, operation_id) -> None:
    meta, data = body["meta"], body["data"]
    pagination = meta["pagination"]
    query = case.query or {}
    wanted_filter = (query.get("filter") or {}).get("invite_user_as") if isinstance(query.get("filter"), dict) else None
    if wanted_filter is not None:
        assert all(item["attributes"]["invite_user_as"] == wanted_filter for item in data), "the filter is applied"
    assert len(data) <= pagination["per_page"], "a page holds at most per_page invites"
    expected_pages = -(-pagination["total_count"] // pagination["per_page"])
    assert pagination["total_pages"] == expected_pages, (
        f"total_pages is ceil(total_count / per_page) = {expected_pages}, got {pagination['total_pages']}"
    )
    for item in data:
        assert item["relationships"]["accepted_by_user"]["data"] is None, "the list shows active invites only"
        assert item["relationships"]["cancelled_by_user"]["data"] is None, "the list shows active invites only"


def _rootfi_link(case, body, operation_id) -> None:
    data = body["data"]
    sent = _sent_body(case)
    if operation_id in ("update_invite_link", "get_invite_link"):
        assert data["invite_link_id"] == case.path_parameters.get("invite_link_id"), "the link asked about is answered"
    assert data["rootfi_updated_at"] >= data["rootfi_created_at"], "rootfi_updated_at is never before rootfi_created_at"
    if operation_id == "create_invite_link":
        assert data["connections"] is None, "a new invite link has no connections yet"
    if sent is not None and operation_id in ("create_invite_link", "update_invite_link"):
        assert data["integration_categories"] == sent.get("integration_categories"), "integration_categories is echoed"
        if "integrations" in sent:
            assert data["integrations"] == sent["integrations"], "integrations is echoed"
        if "company_name" in sent:
            name = (data.get("company") or {}).get("name")
            assert name == sent["company_name"], f"company.name echoes company_name: sent {sent['company_name']!r}, got {name!r}"


def _rootfi_list(case, body, operation_id) -> None:
    limit = (case.query or {}).get("limit")
    if isinstance(limit, int):
        assert len(body["data"]) <= limit, "a page holds at most limit links"


def _torii_sync(case, body, operation_id) -> None:
    assert body == {"success": True}, f"a started sync answers {{'success': true}}, got {body!r}"


_VALUE_RULES = {
    ("mpdx", "create"): _mpdx_create,
    ("mpdx", "accept"): _mpdx_accept,
    ("mpdx", "get"): _mpdx_get,
    ("mpdx", "list"): _mpdx_list,
    ("rootfi", "create"): _rootfi_link,
    ("rootfi", "update"): _rootfi_link,
    ("rootfi", "get"): _rootfi_link,
    ("rootfi", "list"): _rootfi_list,
    ("torii", "sync"): _torii_sync,
}
