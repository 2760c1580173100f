"""MPDX invites: the explicit contract scenarios, for account-list and organization invites alike.

* ``examples``: each documented request is sent (on an invite this test created, where it needs one) and the
  answer must carry the documented status, content type, schema and the values the docs fix.
* ``edge``: invalid documents, types, enums, parameters, media types and credentials get the documented
  4xx in MPDX's JSON:API error format; valid variants are accepted.
* ``stateful``: the invite life cycle: read back, listed, filtered, paginated and sorted, accepted only with
  its code, gone from the list once accepted or cancelled, scoped to its parent.

Every scenario works in a parent of its own (a fresh random UUID), so it sees only the invites it made.
"""

from __future__ import annotations

import copy
import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest

from contracts.client import ContractClient
from contracts.target import DEFAULT_CREDENTIALS
from mockserver.specs import (APIS, find_operation, find_route, request_example, request_example_names, resolve,
                             response_example)

API = "mpdx"
SPEC = APIS[API].spec
JSONAPI = "application/vnd.api+json"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
NEVER = "-4712-01-01T00:00:00Z"
"""What MPDX shows as ``accepted_at`` of some never-accepted records (documented examples)."""
ATTRIBUTES_FROM_CLIENT = ("recipient_email", "invite_user_as", "created_at", "updated_at")
"""What a create request can set, so that a test's own invite looks like a documented one."""


@dataclass(frozen=True)
class Kind:
    """One kind of invite: account-list invites or organization invites."""

    name: str
    """``account_list`` or ``organization``, as in the operationIds."""
    parent_param: str
    resource_type: str
    role_schema: str

    def op(self, verb: str) -> str:
        return f"list_{self.name}_invites" if verb == "list" else f"{verb}_{self.name}_invite"

    @property
    def roles(self) -> list[str]:
        return SPEC["components"]["schemas"][self.role_schema]["enum"]

    @property
    def default_role(self) -> str:
        create = resolve(SPEC, _operation(self.op("create"))["requestBody"])
        schema = resolve(SPEC, create["content"][JSONAPI]["schema"])
        attributes = schema["properties"]["data"]["properties"]["attributes"]["allOf"][1]
        return attributes["properties"]["invite_user_as"]["default"]

    @property
    def other(self) -> Kind:
        return ORGANIZATION if self is ACCOUNT_LIST else ACCOUNT_LIST


ACCOUNT_LIST = Kind("account_list", "account_list_id", "account_list_invites", "AccountListInviteRole")
ORGANIZATION = Kind("organization", "organization_id", "organization_invites", "OrganizationInviteRole")
KINDS = pytest.mark.parametrize("kind", [ACCOUNT_LIST, ORGANIZATION], ids=lambda kind: kind.name)
VERBS = ("list", "create", "get", "delete", "accept")
WITH_BODY = ("create", "accept")
WITH_INVITE = ("get", "delete", "accept")


# --- the spec --------------------------------------------------------------------------------------------------


def _operation(operation_id: str) -> dict[str, Any]:
    return find_operation(SPEC, operation_id)


def _documented_params(operation_id: str) -> dict[str, Any]:
    """The documented path parameter values of an operation (the ids of the vendor's example request)."""
    return {p["name"]: p["examples"]["documented"]["value"] for p in _operation(operation_id).get("parameters", [])
            if "examples" in p and "documented" in p["examples"]}


# --- requests --------------------------------------------------------------------------------------------------


def call(client: ContractClient, kind: Kind, verb: str, *, parent: str, invite: str | None = None,
         body: Any = None, content: bytes | None = None, params: dict[str, Any] | None = None,
         headers: dict[str, str | None] | None = None) -> httpx.Response:
    """One request to ``kind``'s ``verb`` operation; a body goes as a JSON:API document unless told otherwise.

    ``headers`` change the client's own for this request; a ``None`` value leaves that header out.
    """
    method, template, _ = find_route(SPEC, kind.op(verb))
    path = template.format(**{kind.parent_param: parent, "id": invite})
    changes = dict(headers or {})
    if body is not None:
        content = json.dumps(body).encode()
    if content is not None:
        changes.setdefault("Content-Type", JSONAPI)
    return client.send(method, path, content=content, params=params, headers=changes)


def create_document(kind: Kind, **attributes: Any) -> dict[str, Any]:
    attributes.setdefault("recipient_email", f"invitee-{uuid.uuid4().hex[:8]}@example.com")
    return {"data": {"type": kind.resource_type, "attributes": attributes}}


def accept_document(kind: Kind, code: Any = ..., **extra: Any) -> dict[str, Any]:
    attributes = {} if code is ... else {"code": code}
    return {"data": {"type": kind.resource_type, "attributes": {**attributes, **extra}}}


def create(client: ContractClient, kind: Kind, parent: str, **attributes: Any) -> dict[str, Any]:
    """A new invite under ``parent``: its resource object, after checking the answer is a documented 201."""
    response = call(client, kind, "create", parent=parent, body=create_document(kind, **attributes))
    return client.expect(response, kind.op("create"), 201)["data"]


def fetch(client: ContractClient, kind: Kind, parent: str, invite: str) -> tuple[dict[str, Any], httpx.Response]:
    response = call(client, kind, "get", parent=parent, invite=invite)
    return client.expect(response, kind.op("get"), 200)["data"], response


def listing(client: ContractClient, kind: Kind, parent: str, **params: Any) -> tuple[dict[str, Any], httpx.Response]:
    response = call(client, kind, "list", parent=parent, params=params or None)
    body = client.expect(response, kind.op("list"), 200)
    pagination = body["meta"]["pagination"]
    client.require(pagination["total_pages"] == math.ceil(pagination["total_count"] / pagination["per_page"]),
                   response, kind.op("list"), "meta.pagination.total_pages = ceil(total_count / per_page)")
    client.require(all(item["type"] == kind.resource_type for item in body["data"]), response, kind.op("list"),
                   f"every listed invite to be of type {kind.resource_type!r}")
    return body, response


def accept(client: ContractClient, kind: Kind, parent: str, invite: str, code: Any) -> httpx.Response:
    return call(client, kind, "accept", parent=parent, invite=invite, body=accept_document(kind, code))


def ids(body: dict[str, Any]) -> list[str]:
    return [item["id"] for item in body["data"]]


def new_parent() -> str:
    return str(uuid.uuid4())


def is_uuid(value: Any) -> bool:
    try:
        return str(uuid.UUID(str(value))) == value
    except ValueError:
        return False


def moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def day(n: int, hour: int = 12) -> str:
    """A client timestamp in MPDX's own form (``2022-01-03 12:00:00 UTC``)."""
    return f"2022-01-{n:02d} {hour:02d}:00:00 UTC"


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["errors"]


def names_place(body: dict[str, Any], *, pointer: str | None = None, parameter: str | None = None) -> bool:
    """Whether an error of the document points at ``pointer`` (a body place) or ``parameter`` (a query one)."""
    for error in errors_of(body):
        source = error.get("source") or {}
        if pointer is not None and source.get("pointer") == pointer:
            return True
        if parameter is not None and (source.get("parameter") == parameter or parameter in error.get("detail", "")):
            return True
    return False


def details(body: dict[str, Any]) -> str:
    return " | ".join(error.get("detail", "") for error in errors_of(body))


def user_of(resource: dict[str, Any], relationship: str) -> dict[str, Any] | None:
    return resource["relationships"][relationship]["data"]


def second_user(client: ContractClient) -> dict[str, str]:
    """Another user's credential: ``--second-header``, or one the embedded mock is known to accept."""
    if client.target.second_headers:
        return dict(client.target.second_headers)
    if not client.target.embedded:
        pytest.skip("needs a second user's credential: give it with --second-header 'Authorization: Bearer ...'")
    own = client.http.headers.get("authorization", "").removeprefix("Bearer ").strip()
    tokens = sorted({value.removeprefix("Bearer ").strip() for headers in DEFAULT_CREDENTIALS.values()
                     for value in headers.values()} - {own})
    if not tokens:
        pytest.skip("no second credential is accepted by this target")
    return {"Authorization": f"Bearer {tokens[0]}"}


# --- 1. examples: the documented requests -----------------------------------------------------------------------


def _create_examples() -> list[Any]:
    return [pytest.param(kind, name, id=f"{kind.name}-{name}") for kind in (ACCOUNT_LIST, ORGANIZATION)
            for name in request_example_names(API, kind.op("create"))]


@pytest.mark.examples
@pytest.mark.parametrize("kind, example", _create_examples())
def test_documented_create_answers_the_new_invite(client, kind, example):
    """POST the documented document: 201 with the attributes echoed, a fresh 64-hex code and nobody yet."""
    operation_id = kind.op("create")
    document = request_example(API, operation_id, example)
    parent = _documented_params(operation_id)[kind.parent_param]
    response = call(client, kind, "create", parent=parent, body=document)
    data = client.expect(response, operation_id, 201)["data"]
    attributes, sent = data["attributes"], document["data"]["attributes"]

    client.require(data["type"] == kind.resource_type, response, operation_id, f"type {kind.resource_type!r}")
    client.require(is_uuid(data["id"]), response, operation_id, "a UUID id")
    client.require(bool(HEX64.match(attributes["code"] or "")), response, operation_id,
                   "a new invite's code to be 64 lowercase hexadecimal characters")
    for name in ("recipient_email", "invite_user_as"):
        client.require(attributes[name] == sent.get(name, kind.default_role if name == "invite_user_as" else None),
                       response, operation_id, f"attributes.{name} echoed as sent ({sent.get(name)!r})")
    client.require(attributes["accepted_at"] is None, response, operation_id, "accepted_at null on a new invite")
    client.require(user_of(data, "accepted_by_user") is None and user_of(data, "cancelled_by_user") is None,
                   response, operation_id, "accepted_by_user and cancelled_by_user null on a new invite")
    inviter = user_of(data, "invited_by_user")
    client.require(inviter is not None and inviter["type"] == "users" and is_uuid(inviter["id"]), response,
                   operation_id, "invited_by_user to be the caller, a users resource with a UUID id")
    client.require(attributes["updated_in_db_at"] == attributes["updated_at"], response, operation_id,
                   "updated_in_db_at equal to updated_at")
    if example == "documented":
        documented = response_example(API, operation_id, 201)["data"]
        for name in ("created_at", "updated_at", "updated_in_db_at", "accepted_at"):
            client.require(attributes[name] == documented["attributes"][name], response, operation_id,
                           f"attributes.{name} = {documented['attributes'][name]!r} as documented "
                           f"(the client's updated_in_db_at {sent.get('updated_in_db_at')!r} in ISO 8601 UTC)")


@pytest.mark.examples
@KINDS
def test_documented_list_shows_the_active_invites(client, kind):
    """GET the documented list: 200, one page with the documented defaults (page 1, 25 per page, no sort)."""
    operation_id = kind.op("list")
    parent = _documented_params(operation_id)[kind.parent_param]
    documented = response_example(API, operation_id, 200)
    shown = documented["data"][0]["attributes"]
    mine = create(client, kind, parent, **{name: shown[name] for name in ATTRIBUTES_FROM_CLIENT})

    body, response = listing(client, kind, parent)
    meta, expected = body["meta"], documented["meta"]
    for name in ("page", "per_page"):
        client.require(meta["pagination"][name] == expected["pagination"][name], response, operation_id,
                       f"meta.pagination.{name} = {expected['pagination'][name]} by default, as documented")
    client.require(meta["sort"] == expected["sort"] and meta["filter"] == expected["filter"], response,
                   operation_id, f"meta.sort = {expected['sort']!r} and meta.filter = {expected['filter']!r} "
                                 "when none was sent, as documented")
    client.require(len(body["data"]) == min(meta["pagination"]["total_count"], meta["pagination"]["per_page"]),
                   response, operation_id, "the first page to hold min(total_count, per_page) invites")
    client.require(mine in body["data"], response, operation_id,
                   f"the invite created just before ({mine['id']}) in the list, exactly as created")


@pytest.mark.examples
@KINDS
def test_documented_get_answers_the_invite(client, kind):
    """GET the documented invite path (with an invite made like the documented one): 200 with that invite."""
    operation_id = kind.op("get")
    parent = _documented_params(operation_id)[kind.parent_param]
    documented = response_example(API, operation_id, 200)["data"]
    mine = create(client, kind, parent, **{name: documented["attributes"][name] for name in ATTRIBUTES_FROM_CLIENT})

    data, response = fetch(client, kind, parent, mine["id"])
    client.require(data == mine, response, operation_id, "the invite exactly as it was created")
    attributes = data["attributes"]
    for name in ("created_at", "invite_user_as", "recipient_email", "updated_at", "updated_in_db_at"):
        client.require(attributes[name] == documented["attributes"][name], response, operation_id,
                       f"attributes.{name} = {documented['attributes'][name]!r} as documented")
    client.require(attributes["accepted_at"] in (None, NEVER), response, operation_id,
                   f"accepted_at null (or {NEVER!r}) on an invite nobody accepted")
    client.require(user_of(data, "accepted_by_user") is None and user_of(data, "cancelled_by_user") is None,
                   response, operation_id, "accepted_by_user and cancelled_by_user null, as documented")


@pytest.mark.examples
@KINDS
def test_documented_delete_answers_no_content(client, kind):
    """DELETE the documented invite path (on an invite of this test): 204 with an empty body."""
    operation_id = kind.op("delete")
    parent = _documented_params(operation_id)[kind.parent_param]
    mine = create(client, kind, parent)
    response = call(client, kind, "delete", parent=parent, invite=mine["id"])
    client.expect(response, operation_id, 204)
    client.require("content-type" not in response.headers or not response.content, response, operation_id,
                   "204 No Content without a body")


@pytest.mark.examples
@KINDS
def test_documented_accept_answers_the_accepted_invite(client, kind):
    """PUT the documented accept document (with the invite's own code): 200, accepted now by the caller."""
    operation_id = kind.op("accept")
    parent = _documented_params(operation_id)[kind.parent_param]
    documented = response_example(API, operation_id, 200)["data"]
    mine = create(client, kind, parent, **{name: documented["attributes"][name] for name in ATTRIBUTES_FROM_CLIENT})
    document = copy.deepcopy(request_example(API, operation_id))
    document["data"]["attributes"]["code"] = mine["attributes"]["code"]

    response = call(client, kind, "accept", parent=parent, invite=mine["id"], body=document)
    data = client.expect(response, operation_id, 200)["data"]
    attributes = data["attributes"]
    client.require(data["id"] == mine["id"] and data["type"] == kind.resource_type, response, operation_id,
                   "the accepted invite itself")
    client.require(attributes["code"] == mine["attributes"]["code"], response, operation_id, "the invite's code")
    for name in ("created_at", "invite_user_as", "recipient_email"):
        client.require(attributes[name] == documented["attributes"][name], response, operation_id,
                       f"attributes.{name} = {documented['attributes'][name]!r} as documented")
    client.require(attributes["accepted_at"] not in (None, NEVER), response, operation_id,
                   "accepted_at set to when the invite was accepted")
    client.require(moment(attributes["accepted_at"]) >= moment(attributes["created_at"]), response, operation_id,
                   "accepted_at not before created_at")
    client.require(attributes["updated_in_db_at"] == attributes["updated_at"], response, operation_id,
                   "updated_in_db_at equal to updated_at")
    client.require(user_of(data, "accepted_by_user") == user_of(mine, "invited_by_user"), response, operation_id,
                   "accepted_by_user to be the caller (the same user that created the invite)")
    client.require(user_of(data, "cancelled_by_user") is None, response, operation_id, "cancelled_by_user null")


# --- 2. edge cases ----------------------------------------------------------------------------------------------


def _invalid_attributes(kind: Kind) -> dict[str, tuple[dict[str, Any], str]]:
    """Create documents with one broken attribute, and the pointer the error must name."""
    wrong_role = next(role for role in kind.other.roles if role not in kind.roles)
    return {
        "missing-email": ({"invite_user_as": kind.roles[0]}, "/data/attributes/recipient_email"),
        "email-not-a-string": ({"recipient_email": 42}, "/data/attributes/recipient_email"),
        "email-empty": ({"recipient_email": ""}, "/data/attributes/recipient_email"),
        "role-outside-enum": ({"recipient_email": "x@example.com", "invite_user_as": wrong_role},
                              "/data/attributes/invite_user_as"),
        "role-not-a-string": ({"recipient_email": "x@example.com", "invite_user_as": ["user"]},
                              "/data/attributes/invite_user_as"),
        "timestamp-malformed": ({"recipient_email": "x@example.com", "created_at": "yesterday"},
                                "/data/attributes/created_at"),
    }


@pytest.mark.edge
@pytest.mark.parametrize("kind, case", [pytest.param(kind, case, id=f"{kind.name}-{case}")
                                        for kind in (ACCOUNT_LIST, ORGANIZATION) for case in _invalid_attributes(kind)])
def test_create_with_an_invalid_attribute_is_a_bad_request(client, kind, case):
    attributes, pointer = _invalid_attributes(kind)[case]
    document = {"data": {"type": kind.resource_type, "attributes": attributes}}
    response = call(client, kind, "create", parent=new_parent(), body=document)
    body = client.expect_error(response, kind.op("create"), 400)
    client.require(names_place(body, pointer=pointer), response, kind.op("create"),
                   f"an error whose source.pointer is {pointer!r}")


def _with_body() -> list[Any]:
    return [pytest.param(kind, verb, id=f"{kind.name}-{verb}") for kind in (ACCOUNT_LIST, ORGANIZATION)
            for verb in WITH_BODY]


def _target_of(client: ContractClient, kind: Kind, verb: str) -> dict[str, str | None]:
    """Where a request with a body goes: a fresh parent, and for an accept an active invite in it."""
    parent = new_parent()
    invite = create(client, kind, parent)["id"] if verb == "accept" else None
    return {"parent": parent, "invite": invite}


def _valid_body(client: ContractClient, kind: Kind, verb: str, where: dict[str, Any]) -> dict[str, Any]:
    if verb == "create":
        return create_document(kind)
    data, _ = fetch(client, kind, where["parent"], where["invite"])
    return accept_document(kind, data["attributes"]["code"])


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _with_body())
@pytest.mark.parametrize("content", [b'{"data": {"type": ', b"not json", b"\xff\xfe{}"],
                         ids=["truncated", "text", "not-utf8"])
def test_malformed_json_is_a_bad_request(client, kind, verb, content):
    where = _target_of(client, kind, verb)
    response = call(client, kind, verb, content=content, **where)
    client.expect_error(response, kind.op(verb), 400)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _with_body())
@pytest.mark.parametrize("document", [None, [], {}, {"data": None}, {"data": "x"}],
                         ids=["empty", "array", "no-data", "null-data", "string-data"])
def test_a_document_without_data_is_a_bad_request(client, kind, verb, document):
    where = _target_of(client, kind, verb)
    content = b"" if document is None else json.dumps(document).encode()
    response = call(client, kind, verb, content=content, **where)
    client.expect_error(response, kind.op(verb), 400)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _with_body())
@pytest.mark.parametrize("resource_type", ["users", "other-kind", None], ids=["users", "other-kind", "missing"])
def test_a_wrong_or_missing_resource_type_is_a_conflict(client, kind, verb, resource_type):
    where = _target_of(client, kind, verb)
    document = _valid_body(client, kind, verb, where)
    if resource_type is None:
        del document["data"]["type"]
    else:
        document["data"]["type"] = kind.other.resource_type if resource_type == "other-kind" else resource_type
    response = call(client, kind, verb, body=document, **where)
    body = client.expect_error(response, kind.op(verb), 409)
    if resource_type is not None:
        client.require(kind.resource_type in details(body), response, kind.op(verb),
                       f"the conflict to name the expected type {kind.resource_type!r}")
    if verb == "accept":
        data, _ = fetch(client, kind, where["parent"], where["invite"])
        client.require(data["attributes"]["accepted_at"] in (None, NEVER), response, kind.op(verb),
                       "a refused accept to leave the invite unaccepted")


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _with_body())
@pytest.mark.parametrize("media_type", ["application/json", "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_that_is_not_json_api_is_an_unsupported_media_type(client, kind, verb, media_type):
    where = _target_of(client, kind, verb)
    document = _valid_body(client, kind, verb, where)
    response = call(client, kind, verb, body=document, headers={"Content-Type": media_type}, **where)
    client.expect_error(response, kind.op(verb), 415)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _with_body())
def test_json_api_with_a_charset_is_accepted(client, kind, verb):
    where = _target_of(client, kind, verb)
    document = _valid_body(client, kind, verb, where)
    response = call(client, kind, verb, body=document, headers={"Content-Type": f"{JSONAPI}; charset=utf-8"},
                    **where)
    client.expect(response, kind.op(verb), 201 if verb == "create" else 200)


def _all_verbs() -> list[Any]:
    return [pytest.param(kind, verb, id=f"{kind.name}-{verb}") for kind in (ACCOUNT_LIST, ORGANIZATION)
            for verb in VERBS]


def _send_valid(client: ContractClient, kind: Kind, verb: str, *, headers: dict[str, str | None] | None = None,
                params: dict[str, str] | None = None) -> httpx.Response:
    """A request to ``verb`` that is valid in every way but the headers or parameters the test changes."""
    parent = new_parent()
    invite = create(client, kind, parent) if verb in WITH_INVITE else None
    body = None
    if verb == "create":
        body = create_document(kind)
    elif verb == "accept":
        body = accept_document(kind, invite["attributes"]["code"])
    return call(client, kind, verb, parent=parent, invite=invite and invite["id"], body=body,
                headers=headers, params=params)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _all_verbs())
@pytest.mark.parametrize("accept_header", ["application/xml", "text/html", "application/json"])
def test_an_unacceptable_accept_header_is_not_acceptable(client, kind, verb, accept_header):
    response = _send_valid(client, kind, verb, headers={"Accept": accept_header})
    client.expect_error(response, kind.op(verb), 406)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _all_verbs())
@pytest.mark.parametrize("accept_header", [JSONAPI, "*/*", "text/html, application/vnd.api+json;q=0.9", None],
                         ids=["json-api", "any", "list", "none"])
def test_an_acceptable_accept_header_is_served(client, kind, verb, accept_header):
    expected = {"list": 200, "create": 201, "get": 200, "delete": 204, "accept": 200}[verb]
    response = _send_valid(client, kind, verb, headers={"Accept": accept_header})
    client.expect(response, kind.op(verb), expected)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _all_verbs())
def test_missing_credentials_are_unauthorized(client, kind, verb):
    response = _send_valid(client, kind, verb, headers={"Authorization": None})
    client.expect_error(response, kind.op(verb), 401)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _all_verbs())
@pytest.mark.parametrize("where", ["header", "query"])
def test_invalid_credentials_are_unauthorized(client, kind, verb, where):
    token = f"invalid-{uuid.uuid4().hex}"
    if where == "header":
        response = _send_valid(client, kind, verb, headers={"Authorization": f"Bearer {token}"})
    else:
        response = _send_valid(client, kind, verb, headers={"Authorization": None}, params={"access_token": token})
    client.expect_error(response, kind.op(verb), 401)


@pytest.mark.edge
@KINDS
def test_the_access_token_query_parameter_is_accepted(client, kind):
    authorization = client.http.headers.get("authorization", "")
    if not authorization.lower().startswith("bearer "):
        pytest.skip("the target's credential is not a bearer token")
    parent = new_parent()
    mine = create(client, kind, parent)
    response = call(client, kind, "get", parent=parent, invite=mine["id"], headers={"Authorization": None},
                    params={"access_token": authorization.split(" ", 1)[1]})
    data = client.expect(response, kind.op("get"), 200)["data"]
    client.require(data == mine, response, kind.op("get"), "the invite, as for the same token in the header")


@pytest.mark.edge
@KINDS
@pytest.mark.parametrize("code", [..., None, "", "   "], ids=["missing", "null", "empty", "blank"])
def test_a_blank_accept_code_is_a_bad_request(client, kind, code):
    parent = new_parent()
    mine = create(client, kind, parent)
    response = call(client, kind, "accept", parent=parent, invite=mine["id"], body=accept_document(kind, code))
    body = client.expect_error(response, kind.op("accept"), 400)
    client.require("'data/attributes/code' cannot be blank" in details(body), response, kind.op("accept"),
                   "the detail \"'data/attributes/code' cannot be blank\"")
    client.require(names_place(body, pointer="/data/attributes/code"), response, kind.op("accept"),
                   "source.pointer '/data/attributes/code'")


@pytest.mark.edge
@KINDS
@pytest.mark.parametrize("code", [42, ["x"], {"code": "x"}], ids=["number", "array", "object"])
def test_an_accept_code_that_is_not_a_string_is_a_bad_request(client, kind, code):
    parent = new_parent()
    mine = create(client, kind, parent)
    response = call(client, kind, "accept", parent=parent, invite=mine["id"], body=accept_document(kind, code))
    client.expect_error(response, kind.op("accept"), 400)


LIST_PARAMETERS = {
    "sort-unknown-field": ("sort", "name"),
    "sort-unknown-descending": ("sort", "-recipient_email"),
    "sort-two-keys": ("sort", "created_at,updated_at"),
    "page-zero": ("page", "0"),
    "page-not-a-number": ("page", "first"),
    "per-page-zero": ("per_page", "0"),
    "per-page-not-a-number": ("per_page", "many"),
}


@pytest.mark.edge
@KINDS
@pytest.mark.parametrize("case", [*LIST_PARAMETERS, "filter-outside-enum"])
def test_an_invalid_list_parameter_is_a_bad_request(client, kind, case):
    if case == "filter-outside-enum":
        name, params = "filter", {"filter[invite_user_as]": next(r for r in kind.other.roles if r not in kind.roles)}
    else:
        name, value = LIST_PARAMETERS[case]
        params = {name: value}
    response = call(client, kind, "list", parent=new_parent(), params=params)
    body = client.expect_error(response, kind.op("list"), 400)
    client.require(names_place(body, parameter=name), response, kind.op("list"),
                   f"an error naming the parameter {name!r} (source.parameter or detail)")


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", _all_verbs())
def test_a_parent_id_that_is_not_a_uuid_is_not_found(client, kind, verb):
    invite = create(client, kind, new_parent()) if verb in WITH_INVITE else None
    body = None
    if verb == "create":
        body = create_document(kind)
    elif verb == "accept":
        body = accept_document(kind, invite["attributes"]["code"])
    response = call(client, kind, verb, parent="not-a-uuid", invite=invite and invite["id"], body=body)
    client.expect_error(response, kind.op(verb), 404)


@pytest.mark.edge
@pytest.mark.parametrize("kind, verb", [pytest.param(kind, verb, id=f"{kind.name}-{verb}")
                                        for kind in (ACCOUNT_LIST, ORGANIZATION) for verb in WITH_INVITE])
@pytest.mark.parametrize("invite", ["unknown", "not-a-uuid"])
def test_an_unknown_invite_is_not_found(client, kind, verb, invite):
    invite_id = str(uuid.uuid4()) if invite == "unknown" else "not-a-uuid"
    body = accept_document(kind, "0" * 64) if verb == "accept" else None
    response = call(client, kind, verb, parent=new_parent(), invite=invite_id, body=body)
    client.expect_error(response, kind.op(verb), 404)


@pytest.mark.edge
@KINDS
def test_create_without_a_role_invites_as_the_default_role(client, kind):
    response = call(client, kind, "create", parent=new_parent(), body=create_document(kind))
    data = client.expect(response, kind.op("create"), 201)["data"]
    client.require(data["attributes"]["invite_user_as"] == kind.default_role, response, kind.op("create"),
                   f"invite_user_as to default to {kind.default_role!r}")


@pytest.mark.edge
@KINDS
def test_every_documented_role_is_accepted(client, kind):
    parent = new_parent()
    for name in kind.roles:
        response = call(client, kind, "create", parent=parent, body=create_document(kind, invite_user_as=name))
        data = client.expect(response, kind.op("create"), 201)["data"]
        client.require(data["attributes"]["invite_user_as"] == name, response, kind.op("create"),
                       f"invite_user_as {name!r} echoed")


@pytest.mark.edge
@KINDS
@pytest.mark.parametrize("sent, expected", [
    ("2022-01-12 17:18:20 UTC", "2022-01-12T17:18:20Z"),
    ("2022-01-12T17:18:20Z", "2022-01-12T17:18:20Z"),
    ("2022-01-12T19:18:20+02:00", "2022-01-12T17:18:20Z"),
    ("2022-01-12T12:48:20-0430", "2022-01-12T17:18:20Z"),
], ids=["mpdx-form", "iso-z", "iso-plus-offset", "iso-minus-offset"])
def test_client_timestamps_come_back_in_iso_8601_utc(client, kind, sent, expected):
    response = call(client, kind, "create", parent=new_parent(),
                    body=create_document(kind, created_at=sent, updated_at=sent))
    attributes = client.expect(response, kind.op("create"), 201)["data"]["attributes"]
    client.require(attributes["created_at"] == expected and attributes["updated_at"] == expected, response,
                   kind.op("create"), f"created_at and updated_at {expected!r} (sent {sent!r})")


# --- 3. stateful scenarios ---------------------------------------------------------------------------------------


@pytest.mark.stateful
@KINDS
def test_a_created_invite_can_be_read(client, kind):
    parent = new_parent()
    mine = create(client, kind, parent, invite_user_as=kind.roles[-1])
    data, response = fetch(client, kind, parent, mine["id"])
    client.require(data == mine, response, kind.op("get"), "the invite exactly as the create answered it")


@pytest.mark.stateful
@KINDS
def test_a_created_invite_is_listed(client, kind):
    parent = new_parent()
    before, _ = listing(client, kind, parent)
    mine = create(client, kind, parent)
    body, response = listing(client, kind, parent)
    client.require(body["meta"]["pagination"]["total_count"] == before["meta"]["pagination"]["total_count"] + 1,
                   response, kind.op("list"), "total_count to grow by one after a create")
    client.require(mine in body["data"], response, kind.op("list"), "the new invite, exactly as created")


@pytest.mark.stateful
@KINDS
def test_the_list_filters_by_invite_user_as(client, kind):
    parent = new_parent()
    made: dict[str, list[str]] = {role: [] for role in kind.roles}
    for index, role in enumerate([*kind.roles, kind.roles[0]]):
        made[role].append(create(client, kind, parent, invite_user_as=role, created_at=day(index + 1))["id"])
    for role, expected in made.items():
        body, response = listing(client, kind, parent, **{"filter[invite_user_as]": role})
        client.require(ids(body) == expected, response, kind.op("list"),
                       f"only the {role!r} invites {expected}, oldest first")
        client.require(body["meta"]["pagination"]["total_count"] == len(expected), response, kind.op("list"),
                       f"total_count {len(expected)}: the invites matching the filter")
        client.require(body["meta"]["filter"] == {"invite_user_as": role}, response, kind.op("list"),
                       f"meta.filter = {{'invite_user_as': {role!r}}}")
    role = kind.roles[0]
    body, response = listing(client, kind, parent, **{"filter[invite_user_as]": role, "per_page": 1, "page": 2})
    client.require(ids(body) == made[role][1:2] and body["meta"]["pagination"]["total_pages"] == len(made[role]),
                   response, kind.op("list"), "a filtered page counted over the filtered invites only")


@pytest.mark.stateful
@KINDS
def test_the_list_paginates_with_correct_totals(client, kind):
    parent = new_parent()
    empty, response = listing(client, kind, parent)
    client.require(empty["data"] == [] and empty["meta"]["pagination"]["total_count"] == 0
                   and empty["meta"]["pagination"]["total_pages"] == 0, response, kind.op("list"),
                   "an empty first page, total_count 0 and total_pages 0 for a parent without invites")
    made = [create(client, kind, parent, created_at=day(n))["id"] for n in range(1, 6)]
    seen: list[str] = []
    for page in (1, 2, 3, 4):
        body, response = listing(client, kind, parent, page=page, per_page=2)
        expected = made[(page - 1) * 2: page * 2]
        client.require(ids(body) == expected, response, kind.op("list"), f"page {page} of 2 per page: {expected}")
        expected_meta = {"page": page, "per_page": 2, "total_count": 5, "total_pages": 3}
        client.require(body["meta"]["pagination"] == expected_meta, response, kind.op("list"),
                       f"meta.pagination {expected_meta}")
        seen += ids(body)
    client.require(seen == made, response, kind.op("list"), "the pages together to hold every invite exactly once")
    body, response = listing(client, kind, parent, per_page=10)
    client.require(ids(body) == made and body["meta"]["pagination"]["total_pages"] == 1, response, kind.op("list"),
                   "all five invites on one page of 10")


@pytest.mark.stateful
@KINDS
@pytest.mark.parametrize("field", ["created_at", "updated_at"])
def test_the_list_sorts_by_the_requested_field(client, kind, field):
    parent = new_parent()
    created_days, updated_days = [3, 1, 4, 2], [5, 8, 6, 7]
    made = {}
    for created, updated in zip(created_days, updated_days):
        invite = create(client, kind, parent, created_at=day(created), updated_at=day(updated))
        made[invite["id"]] = invite["attributes"]
    ascending = sorted(made, key=lambda invite: made[invite][field])
    default, response = listing(client, kind, parent)
    by_created = sorted(made, key=lambda invite: made[invite]["created_at"])
    client.require(ids(default) == by_created and default["meta"]["sort"] is None, response, kind.op("list"),
                   f"oldest first by default ({by_created}) and meta.sort null")
    for sort, expected in ((field, ascending), (f"-{field}", ascending[::-1])):
        body, response = listing(client, kind, parent, sort=sort)
        client.require(ids(body) == expected, response, kind.op("list"), f"sort={sort}: {expected}")
        client.require(body["meta"]["sort"] == sort, response, kind.op("list"), f"meta.sort = {sort!r}")
    body, response = listing(client, kind, parent, sort=f"-{field}", per_page=3, page=2)
    client.require(ids(body) == ascending[::-1][3:], response, kind.op("list"),
                   "the second page of a descending sort to continue where the first stopped")


@pytest.mark.stateful
@KINDS
def test_an_invite_is_accepted_only_with_its_code(client, kind):
    parent = new_parent()
    mine = create(client, kind, parent)
    code = mine["attributes"]["code"]
    wrong = ("0" if code[0] != "0" else "1") + code[1:]
    for attempt in (wrong, code.upper(), code[:-1], "abc"):
        response = accept(client, kind, parent, mine["id"], attempt)
        body = client.expect_error(response, kind.op("accept"), 400)
        client.require("'data/attributes/code' is invalid" in details(body), response, kind.op("accept"),
                       "the detail \"'data/attributes/code' is invalid\"")
    data, response = fetch(client, kind, parent, mine["id"])
    client.require(data == mine, response, kind.op("get"), "the invite unchanged after refused codes")
    listed, response = listing(client, kind, parent)
    client.require(mine["id"] in ids(listed), response, kind.op("list"), "the invite still listed (still active)")
    response = accept(client, kind, parent, mine["id"], code)
    data = client.expect(response, kind.op("accept"), 200)["data"]
    client.require(data["attributes"]["accepted_at"] not in (None, NEVER)
                   and user_of(data, "accepted_by_user") == user_of(mine, "invited_by_user"),
                   response, kind.op("accept"), "the right code accepts: accepted_at set, accepted_by_user the caller")


@pytest.mark.stateful
@KINDS
def test_accepting_again_as_the_same_user_succeeds(client, kind):
    parent = new_parent()
    mine = create(client, kind, parent)
    first = client.expect(accept(client, kind, parent, mine["id"], mine["attributes"]["code"]), kind.op("accept"), 200)
    response = accept(client, kind, parent, mine["id"], mine["attributes"]["code"])
    again = client.expect(response, kind.op("accept"), 200)
    client.require(again["data"]["attributes"]["accepted_at"] == first["data"]["attributes"]["accepted_at"]
                   and user_of(again["data"], "accepted_by_user") == user_of(first["data"], "accepted_by_user"),
                   response, kind.op("accept"), "the invite as first accepted (same accepted_at and accepted_by_user)")


@pytest.mark.stateful
@KINDS
def test_accepting_an_invite_another_user_accepted_is_gone(client, kind):
    parent = new_parent()
    mine = create(client, kind, parent)
    other = second_user(client)
    response = call(client, kind, "accept", parent=parent, invite=mine["id"], headers=other,
                    body=accept_document(kind, mine["attributes"]["code"]))
    theirs = client.expect(response, kind.op("accept"), 200)["data"]
    client.require(user_of(theirs, "accepted_by_user") not in (None, user_of(mine, "invited_by_user")),
                   response, kind.op("accept"), "accepted_by_user to be the accepting caller, not the inviter")
    response = accept(client, kind, parent, mine["id"], mine["attributes"]["code"])
    client.expect_error(response, kind.op("accept"), 410)
    data, response = fetch(client, kind, parent, mine["id"])
    client.require(user_of(data, "accepted_by_user") == user_of(theirs, "accepted_by_user"), response, kind.op("get"),
                   "the invite still accepted by the first user")


@pytest.mark.stateful
@KINDS
def test_an_accepted_invite_leaves_the_list(client, kind):
    parent = new_parent()
    mine, kept = create(client, kind, parent, created_at=day(1)), create(client, kind, parent, created_at=day(2))
    client.expect(accept(client, kind, parent, mine["id"], mine["attributes"]["code"]), kind.op("accept"), 200)
    body, response = listing(client, kind, parent)
    client.require(ids(body) == [kept["id"]] and body["meta"]["pagination"]["total_count"] == 1, response,
                   kind.op("list"), "only the active invite listed (total_count 1) once the other was accepted")
    data, response = fetch(client, kind, parent, mine["id"])
    client.require(data["attributes"]["accepted_at"] not in (None, NEVER) and user_of(data, "accepted_by_user"),
                   response, kind.op("get"), "the accepted invite still found by id, accepted")


@pytest.mark.stateful
@KINDS
def test_a_cancelled_invite_leaves_the_list_but_is_still_found(client, kind):
    parent = new_parent()
    mine, kept = create(client, kind, parent, created_at=day(1)), create(client, kind, parent, created_at=day(2))
    client.expect(call(client, kind, "delete", parent=parent, invite=mine["id"]), kind.op("delete"), 204)
    body, response = listing(client, kind, parent)
    client.require(ids(body) == [kept["id"]] and body["meta"]["pagination"]["total_count"] == 1, response,
                   kind.op("list"), "only the active invite listed (total_count 1) once the other was cancelled")
    data, response = fetch(client, kind, parent, mine["id"])
    client.require(user_of(data, "cancelled_by_user") == user_of(mine, "invited_by_user"), response, kind.op("get"),
                   "the cancelled invite still found by id, cancelled_by_user the caller")
    client.require(data["attributes"]["code"] == mine["attributes"]["code"]
                   and data["attributes"]["accepted_at"] in (None, NEVER), response, kind.op("get"),
                   "cancelling to change neither the code nor accepted_at")


@pytest.mark.stateful
@KINDS
def test_a_cancelled_invite_cannot_be_accepted(client, kind):
    parent = new_parent()
    mine = create(client, kind, parent)
    client.expect(call(client, kind, "delete", parent=parent, invite=mine["id"]), kind.op("delete"), 204)
    response = accept(client, kind, parent, mine["id"], mine["attributes"]["code"])
    client.expect_error(response, kind.op("accept"), 410)
    data, response = fetch(client, kind, parent, mine["id"])
    client.require(user_of(data, "accepted_by_user") is None, response, kind.op("get"),
                   "a cancelled invite never accepted")


@pytest.mark.stateful
@KINDS
def test_an_invite_is_scoped_to_its_parent(client, kind):
    parent, elsewhere = new_parent(), new_parent()
    mine = create(client, kind, parent)
    create(client, kind, elsewhere)
    for verb in WITH_INVITE:
        body = accept_document(kind, mine["attributes"]["code"]) if verb == "accept" else None
        response = call(client, kind, verb, parent=elsewhere, invite=mine["id"], body=body)
        client.expect_error(response, kind.op(verb), 404)
    listed, response = listing(client, kind, elsewhere)
    client.require(mine["id"] not in ids(listed), response, kind.op("list"), "another parent's list without the invite")
    data, response = fetch(client, kind, parent, mine["id"])
    client.require(data == mine, response, kind.op("get"),
                   "the invite untouched (neither cancelled nor accepted) by requests under another parent")


@pytest.mark.stateful
@KINDS
def test_an_invite_is_scoped_to_its_kind(client, kind):
    parent = new_parent()
    mine = create(client, kind, parent)
    response = call(client, kind.other, "get", parent=parent, invite=mine["id"])
    client.expect_error(response, kind.other.op("get"), 404)
    listed, response = listing(client, kind.other, parent)
    client.require(mine["id"] not in ids(listed), response, kind.other.op("list"),
                   f"the {kind.other.resource_type} list without a {kind.resource_type} resource")
