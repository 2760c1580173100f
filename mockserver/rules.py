"""The vendor rules the specs cannot express, as plain functions of one request and its answer.

Two users share them, so that the contract says one thing everywhere:

* the contract suites (:mod:`contracts.checks` adapts a Schemathesis case and response to an :class:`Exchange`);
* the validating proxy (:mod:`mockserver.proxy`), which checks a real backend's live traffic.

``error_format_problem``: a 4xx/5xx body is the vendor's error document and repeats the HTTP status (MPDX as a
string in every ``errors[]`` item, RootFi in ``error.status``, Torii in ``statusCode`` with the matching reason
phrase). ``documented_value_problem``: an answer carries the values the docs fix: what was sent is echoed back,
a new MPDX invite has a 64-hex code and nobody accepted or cancelled it, an accepted one says when and by whom,
a RootFi update keeps its id and creation time and moves ``rootfi_updated_at``, a Torii sync says
``success: true``, a Torii 429 says when to retry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from typing import Any, Callable, Mapping

HEX64 = re.compile(r"^[0-9a-f]{64}$")
TORII_PHRASES = {413: "Payload Too Large", 429: "Too Many Requests"}
NEVER = "-4712-01-01T00:00:00Z"


class RuleBroken(AssertionError):
    """A documented value does not hold; the message says what the docs expect."""


@dataclass(frozen=True)
class Exchange:
    """One request and its answer, as the rules need them."""

    api: str
    operation_id: str
    status: int
    body: Any = None
    """The answer's JSON document (None when there is none)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The answer's headers; looked up case-insensitively through :meth:`header`."""
    sent: Any = None
    """The request's JSON document when it is an object, else None."""
    path_parameters: Mapping[str, Any] = field(default_factory=dict)
    query: Mapping[str, Any] = field(default_factory=dict)
    """Query parameters, typed as the spec says (``limit`` an int, MPDX's ``filter`` a dict)."""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == name), None)


def _require(condition: Any, message: str) -> None:
    if not condition:
        raise RuleBroken(message)


# --- error format ----------------------------------------------------------------------------------------------


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


# --- documented values -----------------------------------------------------------------------------------------


def has_value_rule(api: str, operation_id: str) -> bool:
    """Whether a success answer of this operation has documented values to check (its body is then read)."""
    return (api, operation_id.split("_", 1)[0]) in _VALUE_RULES


def documented_value_problem(exchange: Exchange) -> str | None:
    """What the docs fix that this answer breaks, or None.

    The rules assume an answer that already follows its schema: check that first, since a document of
    another shape may raise ``KeyError`` or ``TypeError`` here.
    """
    try:
        if exchange.api == "torii" and exchange.status == 429:
            _torii_rate_limited(exchange)
        if exchange.status >= 300:
            return None
        rule = _VALUE_RULES.get((exchange.api, exchange.operation_id.split("_", 1)[0]))
        if rule is not None:
            rule(exchange, exchange.body)
    except RuleBroken as broken:
        return str(broken)
    return None


def _sent_attributes(exchange: Exchange) -> Any:
    sent = exchange.sent if isinstance(exchange.sent, dict) else {}
    data = sent.get("data")
    return data.get("attributes", {}) if isinstance(data, dict) else {}


def _mpdx_create(exchange: Exchange, body: Any) -> None:
    data = body["data"]
    attributes, relationships = data["attributes"], data["relationships"]
    _require(HEX64.match(attributes.get("code") or ""), f"a new invite's code is 64 lowercase hex, got {attributes.get('code')!r}")
    _require(attributes.get("accepted_at") is None, "a new invite is not accepted (accepted_at is null)")
    _require(relationships["accepted_by_user"]["data"] is None, "a new invite has no accepted_by_user")
    _require(relationships["cancelled_by_user"]["data"] is None, "a new invite has no cancelled_by_user")
    _require(relationships["invited_by_user"]["data"] is not None, "invited_by_user is the caller")
    sent = _sent_attributes(exchange)
    if isinstance(sent, dict):
        for name in ("recipient_email", "invite_user_as"):
            if isinstance(sent.get(name), str):
                _require(attributes.get(name) == sent[name],
                         f"{name} is echoed: sent {sent[name]!r}, got {attributes.get(name)!r}")
    if "invite_user_as" not in (sent if isinstance(sent, dict) else {}):
        default = "user" if "account_list" in exchange.operation_id else "admin"
        _require(attributes.get("invite_user_as") == default, f"invite_user_as defaults to {default!r}")
    _require(attributes.get("updated_in_db_at") == attributes.get("updated_at"), "updated_in_db_at equals updated_at")


def _mpdx_accept(exchange: Exchange, body: Any) -> None:
    data = body["data"]
    _require(data["attributes"].get("accepted_at") not in (None, NEVER), "an accepted invite says when")
    _require(data["relationships"]["accepted_by_user"]["data"] is not None, "an accepted invite says by whom")
    _require(data["id"] == exchange.path_parameters.get("id"), "accept answers the invite it was asked about")
    sent = _sent_attributes(exchange)
    if isinstance(sent, dict) and isinstance(sent.get("code"), str):
        _require(data["attributes"]["code"] == sent["code"], "an invite is accepted only with its own code")


def _mpdx_get(exchange: Exchange, body: Any) -> None:
    if exchange.operation_id.startswith("get_"):
        _require(body["data"]["id"] == exchange.path_parameters.get("id"), "get answers the invite it was asked about")


def _mpdx_list(exchange: Exchange, body: Any) -> None:
    meta, data = body["meta"], body["data"]
    pagination = meta["pagination"]
    query = exchange.query or {}
    wanted_filter = (query.get("filter") or {}).get("invite_user_as") if isinstance(query.get("filter"), dict) else None
    if wanted_filter is not None:
        _require(all(item["attributes"]["invite_user_as"] == wanted_filter for item in data), "the filter is applied")
    for name in ("page", "per_page"):
        asked = query.get(name)
        if isinstance(asked, int) and not isinstance(asked, bool):
            _require(pagination[name] == asked, f"meta.pagination.{name} is the {name} asked for ({asked}), "
                                                f"got {pagination[name]}")
    _require(len(data) <= pagination["per_page"], "a page holds at most per_page invites")
    expected_pages = -(-pagination["total_count"] // pagination["per_page"])
    _require(pagination["total_pages"] == expected_pages,
             f"total_pages is ceil(total_count / per_page) = {expected_pages}, got {pagination['total_pages']}")
    for item in data:
        _require(item["relationships"]["accepted_by_user"]["data"] is None, "the list shows active invites only")
        _require(item["relationships"]["cancelled_by_user"]["data"] is None, "the list shows active invites only")


def _rootfi_link(exchange: Exchange, body: Any) -> None:
    data = body["data"]
    sent = exchange.sent if isinstance(exchange.sent, dict) else None
    operation_id = exchange.operation_id
    if operation_id in ("update_invite_link", "get_invite_link"):
        _require(data["invite_link_id"] == exchange.path_parameters.get("invite_link_id"),
                 "the link asked about is answered")
    created, updated = _moment(data["rootfi_created_at"]), _moment(data["rootfi_updated_at"])
    _require(updated >= created, "rootfi_updated_at is never before rootfi_created_at")
    if operation_id == "update_invite_link":
        _require(updated > created,
                 f"an update moves rootfi_updated_at past rootfi_created_at ({data['rootfi_created_at']}), "
                 f"got {data['rootfi_updated_at']}")
    if operation_id == "create_invite_link":
        _require(data["connections"] is None, "a new invite link has no connections yet")
    if sent is not None and operation_id in ("create_invite_link", "update_invite_link"):
        _require(data["integration_categories"] == sent.get("integration_categories"),
                 "integration_categories is echoed")
        if "integrations" in sent:
            _require(data["integrations"] == sent["integrations"],
                     f"integrations is echoed: sent {sent['integrations']!r}, got {data['integrations']!r}")
        if "company_name" in sent:
            name = (data.get("company") or {}).get("name")
            _require(name == sent["company_name"],
                     f"company.name echoes company_name: sent {sent['company_name']!r}, got {name!r}")


def _moment(stamp: Any) -> Any:
    """A timestamp as an instant, so that ``12:00:00Z`` sorts before ``12:00:00.001Z``; else the value itself."""
    try:
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
    except ValueError:
        return stamp


def _rootfi_list(exchange: Exchange, body: Any) -> None:
    limit = (exchange.query or {}).get("limit")
    if isinstance(limit, int):
        _require(len(body["data"]) <= limit, f"a page holds at most limit={limit} links, got {len(body['data'])}")


def _torii_sync(exchange: Exchange, body: Any) -> None:
    _require(body == {"success": True}, f"a started sync answers {{'success': true}}, got {body!r}")


def _torii_rate_limited(exchange: Exchange) -> None:
    retry_after = exchange.header("retry-after")
    _require(retry_after is not None and retry_after.strip().isdigit(),
             f"a 429 says when to retry: a Retry-After header of whole seconds, got {retry_after!r}")


_VALUE_RULES: dict[tuple[str, str], Callable[[Exchange, Any], None]] = {
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
