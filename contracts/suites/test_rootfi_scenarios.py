"""RootFi invite links: the explicit contract scenarios.

* ``examples``: each documented request body is sent to create and to update a link (one this test created),
  and the answers must carry the documented status, content type, schema and the values the docs fix.
* ``edge``: invalid bodies, media types, list parameters and credentials get the documented 4xx in the
  error format of the spec (``{"error": {"status", "code", "message", "details"}}``); valid variants pass.
* ``stateful``: what is created can be read, updates persist and advance ``rootfi_updated_at``, the list
  walks every link exactly once through its ``next`` cursor, an unknown link is a 404.
"""

from __future__ import annotations

import copy
import json
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from contracts.client import ContractClient
from mockserver.specs import APIS, find_operation, find_route, request_example, request_example_names, response_example

API = "rootfi"
SPEC = APIS[API].spec
MAX_PAGES = 200
"""The list walk gives up after this many pages (a ``next`` that never ends is a broken contract)."""


# --- the spec and requests ----------------------------------------------------------------------------------------


def call(client: ContractClient, operation_id: str, *, link: str | None = None, body: Any = None,
         content: bytes | None = None, params: dict[str, Any] | None = None,
         headers: dict[str, str | None] | None = None) -> httpx.Response:
    """One request to an operation; ``headers`` change the client's own (``None`` leaves one out)."""
    method, template, _ = find_route(SPEC, operation_id)
    path = template.format(invite_link_id=link)
    changes = dict(headers or {})
    if body is not None:
        content = json.dumps(body).encode()
    if content is not None:
        changes.setdefault("Content-Type", "application/json")
    return client.send(method, path, content=content, params=params, headers=changes)


def create(client: ContractClient, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = call(client, "create_invite_link", body=body or {"integration_categories": ["ACCOUNTING"]})
    return client.expect(response, "create_invite_link", 200)["data"]


def fetch(client: ContractClient, link: str) -> tuple[dict[str, Any], httpx.Response]:
    response = call(client, "get_invite_link", link=link)
    return client.expect(response, "get_invite_link", 200)["data"], response


def update(client: ContractClient, link: str, body: dict[str, Any]) -> tuple[dict[str, Any], httpx.Response]:
    response = call(client, "update_invite_link", link=link, body=body)
    return client.expect(response, "update_invite_link", 200)["data"], response


def moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def unknown_link() -> str:
    return f"missing-{uuid.uuid4().hex}"


def company_name(link: dict[str, Any]) -> str | None:
    return (link.get("company") or {}).get("name")


def settings_echoed(client: ContractClient, response: httpx.Response, operation_id: str, data: dict[str, Any],
                    sent: dict[str, Any]) -> None:
    """The settings a create or update sent come back as sent."""
    client.require(data["integration_categories"] == sent["integration_categories"], response, operation_id,
                   f"integration_categories echoed as sent ({sent['integration_categories']!r})")
    if "integrations" in sent:
        client.require(data["integrations"] == sent["integrations"], response, operation_id,
                       f"integrations echoed as sent ({sent['integrations']!r})")
    if sent.get("company_name") is not None:
        client.require(company_name(data) == sent["company_name"], response, operation_id,
                       f"company.name = company_name as sent ({sent['company_name']!r})")
    if sent.get("partner_id") is not None and "partner_id" in data:
        client.require(data["partner_id"] == sent["partner_id"], response, operation_id,
                       f"partner_id echoed as sent ({sent['partner_id']!r})")


def walk(client: ContractClient, limit: int) -> tuple[list[str], httpx.Response]:
    """Every ``invite_link_id`` of the list, page by page through ``next``, checking each page.

    A page holds at most ``limit`` links, and a ``next`` cursor leads to a page that holds some: the page
    after the last link is not a page, so the last page is the one whose ``next`` is null.
    """
    seen: list[str] = []
    cursor = None
    for _ in range(MAX_PAGES):
        response = call(client, "list_invite_links", params={"limit": limit, **({"next": cursor} if cursor else {})})
        body = client.expect(response, "list_invite_links", 200)
        client.require(len(body["data"]) <= limit, response, "list_invite_links", f"at most limit={limit} links a page")
        if cursor is not None:
            client.require(bool(body["data"]), response, "list_invite_links",
                           "a next cursor to lead to a page with links (next is null on the last page)")
        seen += [link["invite_link_id"] for link in body["data"]]
        cursor = body["next"]
        if cursor is None:
            return seen, response
    client.require(False, response, "list_invite_links", f"next to become null within {MAX_PAGES} pages")
    raise AssertionError("unreachable")


# --- 1. examples -----------------------------------------------------------------------------------------------


@pytest.mark.examples
@pytest.mark.parametrize("example", request_example_names(API, "create_invite_link"))
def test_documented_create_answers_the_new_link(client, example):
    """POST the documented body: 200 (not 201) with the settings echoed and ``connections: null``."""
    sent = request_example(API, "create_invite_link", example)
    response = call(client, "create_invite_link", body=sent)
    data = client.expect(response, "create_invite_link", 200)["data"]
    settings_echoed(client, response, "create_invite_link", data, sent)
    documented = response_example(API, "create_invite_link", 200, "not_yet_connected")["data"]
    client.require(data["connections"] is documented["connections"] is None, response, "create_invite_link",
                   "connections null until the customer connects, as documented")
    client.require(moment(data["rootfi_updated_at"]) >= moment(data["rootfi_created_at"]), response,
                   "create_invite_link", "rootfi_updated_at not before rootfi_created_at")
    if "integrations" not in sent:
        client.require(data["integrations"] is None, response, "create_invite_link",
                       "integrations null when none were sent (the choice is left open)")


@pytest.mark.examples
def test_documented_get_answers_the_link(client):
    """GET a link made with the documented body: 200 with the documented settings."""
    sent = request_example(API, "update_invite_link")
    mine = create(client, sent)
    data, response = fetch(client, mine["invite_link_id"])
    client.require(data == mine, response, "get_invite_link", "the link exactly as the create answered it")
    documented = response_example(API, "get_invite_link", 200)["data"]
    for name in ("integrations", "integration_categories"):
        client.require(data[name] == documented[name], response, "get_invite_link",
                       f"{name} = {documented[name]!r} as documented")
    client.require(company_name(data) == company_name(documented), response, "get_invite_link",
                   f"company.name = {company_name(documented)!r} as documented")


@pytest.mark.examples
@pytest.mark.parametrize("example", request_example_names(API, "update_invite_link"))
def test_documented_update_answers_the_changed_link(client, example):
    """PUT the documented body on a link of this test: 200 with the link as changed, same id and creation."""
    mine = create(client, {"integration_categories": ["CRM"], "integrations": ["HUBSPOT"], "company_name": "Before"})
    sent = request_example(API, "update_invite_link", example)
    data, response = update(client, mine["invite_link_id"], sent)
    settings_echoed(client, response, "update_invite_link", data, sent)
    for name in ("invite_link_id", "rootfi_id", "rootfi_created_at"):
        client.require(data[name] == mine[name], response, "update_invite_link", f"{name} unchanged ({mine[name]!r})")
    if example == "documented":
        documented = response_example(API, "update_invite_link", 200)["data"]
        client.require(data["integrations"] == documented["integrations"]
                       and data["integration_categories"] == documented["integration_categories"]
                       and company_name(data) == company_name(documented), response, "update_invite_link",
                       "integrations, integration_categories and company.name as in the documented answer")


@pytest.mark.examples
def test_documented_list_page_holds_at_most_limit_links(client):
    """GET the list with the documented ``limit`` example: 200, at most that many links, a ``next`` cursor."""
    [parameter] = [p for p in find_operation(SPEC, "list_invite_links")["parameters"] if p["name"] == "limit"]
    limit = parameter["examples"]["small_page"]["value"]
    mine = [create(client)["invite_link_id"] for _ in range(limit + 1)]
    seen, response = walk(client, limit)
    client.require(all(seen.count(link) == 1 for link in mine), response, "list_invite_links",
                   f"the links created just before ({mine}) each listed once")


# --- 2. edge cases ---------------------------------------------------------------------------------------------

WRITES = pytest.mark.parametrize("operation_id", ["create_invite_link", "update_invite_link"])
OPERATIONS = ["create_invite_link", "list_invite_links", "get_invite_link", "update_invite_link"]

INVALID_BODIES = {
    "missing-categories": ({"company_name": "RootFi"}, "integration_categories"),
    "categories-not-an-array": ({"integration_categories": "ACCOUNTING"}, "integration_categories"),
    "category-outside-enum": ({"integration_categories": ["BANKING"]}, "integration_categories[0]"),
    "category-not-a-string": ({"integration_categories": [7]}, "integration_categories[0]"),
    "integration-outside-enum": ({"integration_categories": ["ACCOUNTING"], "integrations": ["FRESHBOOKS"]},
                                 "integrations[0]"),
    "company-name-not-a-string": ({"integration_categories": ["ACCOUNTING"], "company_name": 42}, "company_name"),
    "partner-id-not-a-string": ({"integration_categories": ["ACCOUNTING"], "partner_id": 42}, "partner_id"),
    "sync-config-not-an-array": ({"integration_categories": ["ACCOUNTING"], "sync_config": {"data_model": "ACCOUNTS"}},
                                 "sync_config"),
    "sync-config-without-category": ({"integration_categories": ["ACCOUNTING"],
                                      "sync_config": [{"data_model": "ACCOUNTS"}]}, "sync_config[0].category"),
    "sync-config-data-model-outside-enum": ({"integration_categories": ["ACCOUNTING"],
                                             "sync_config": [{"data_model": "SPACESHIPS", "category": "ACCOUNTING"}]},
                                            "sync_config[0].data_model"),
    "sync-config-frequency-outside-enum": ({"integration_categories": ["ACCOUNTING"],
                                            "sync_config": [{"data_model": "ACCOUNTS", "category": "ACCOUNTING",
                                                             "frequency": "HOURLY"}]}, "sync_config[0].frequency"),
    "sync-config-interval-below-one": ({"integration_categories": ["ACCOUNTING"],
                                        "sync_config": [{"data_model": "ACCOUNTS", "category": "ACCOUNTING",
                                                         "interval": 0}]}, "sync_config[0].interval"),
    "sync-config-enabled-not-a-boolean": ({"integration_categories": ["ACCOUNTING"],
                                           "sync_config": [{"data_model": "ACCOUNTS", "category": "ACCOUNTING",
                                                            "enabled": "yes"}]}, "sync_config[0].enabled"),
    "sync-from-not-a-date-time": ({"integration_categories": ["ACCOUNTING"],
                                   "sync_config": [{"data_model": "ACCOUNTS", "category": "ACCOUNTING",
                                                    "sync_from": "last tuesday"}]}, "sync_config[0].sync_from"),
}


def _target(client: ContractClient, operation_id: str) -> str | None:
    """The link a write goes to: a new one for an update, none for a create."""
    return create(client)["invite_link_id"] if operation_id == "update_invite_link" else None


@pytest.mark.edge
@WRITES
@pytest.mark.parametrize("case", INVALID_BODIES)
def test_an_invalid_body_is_a_bad_request_naming_the_place(client, operation_id, case):
    body, path = INVALID_BODIES[case]
    link = _target(client, operation_id)
    before = fetch(client, link)[0] if link else None
    response = call(client, operation_id, link=link, body=body)
    error = client.expect_error(response, operation_id, 400)["error"]
    places = [detail.get("path") for detail in error.get("details") or []]
    client.require(path in places, response, operation_id, f"error.details naming the path {path!r} (got {places})")
    if link:
        after, response = fetch(client, link)
        client.require(after == before, response, "get_invite_link", "a refused update to change nothing")


@pytest.mark.edge
@WRITES
@pytest.mark.parametrize("content", [b'{"integration_categories": [', b"integration_categories=ACCOUNTING",
                                     b"\xff\xfe{}", b""], ids=["truncated", "form-text", "not-utf8", "empty"])
def test_a_body_that_is_not_a_json_document_is_a_bad_request(client, operation_id, content):
    response = call(client, operation_id, link=_target(client, operation_id), content=content)
    client.expect_error(response, operation_id, 400)


@pytest.mark.edge
@WRITES
@pytest.mark.parametrize("body", [[], "ACCOUNTING", None], ids=["array", "string", "null"])
def test_a_body_that_is_not_an_object_is_a_bad_request(client, operation_id, body):
    response = call(client, operation_id, link=_target(client, operation_id), content=json.dumps(body).encode())
    client.expect_error(response, operation_id, 400)


@pytest.mark.edge
@WRITES
@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_body_that_is_not_json_is_an_unsupported_media_type(client, operation_id, media_type):
    response = call(client, operation_id, link=_target(client, operation_id),
                    body={"integration_categories": ["ACCOUNTING"]}, headers={"Content-Type": media_type})
    client.expect_error(response, operation_id, 415)


@pytest.mark.edge
@WRITES
def test_json_with_a_charset_is_accepted(client, operation_id):
    sent = {"integration_categories": ["PAYMENTS"]}
    response = call(client, operation_id, link=_target(client, operation_id), body=sent,
                    headers={"Content-Type": "application/json; charset=utf-8"})
    data = client.expect(response, operation_id, 200)["data"]
    settings_echoed(client, response, operation_id, data, sent)


@pytest.mark.edge
@WRITES
def test_only_the_categories_are_enough(client, operation_id):
    sent = request_example(API, operation_id, "only_categories")
    response = call(client, operation_id, link=_target(client, operation_id), body=sent)
    data = client.expect(response, operation_id, 200)["data"]
    settings_echoed(client, response, operation_id, data, sent)


@pytest.mark.edge
@WRITES
def test_every_optional_setting_may_be_null(client, operation_id):
    sent = {"integration_categories": ["ECOMMERCE", "CUSTOM"], "company_name": None, "integrations": None,
            "sync_config": None, "partner_id": None}
    response = call(client, operation_id, link=_target(client, operation_id), body=sent)
    data = client.expect(response, operation_id, 200)["data"]
    settings_echoed(client, response, operation_id, data, sent)
    client.require(company_name(data) is None, response, operation_id, "no company name when company_name is null")


@pytest.mark.edge
@WRITES
def test_every_documented_value_is_accepted(client, operation_id):
    schemas = SPEC["components"]["schemas"]
    categories, integrations = schemas["IntegrationCategory"]["enum"], schemas["Integration"]["enum"]
    sync_config = [{"data_model": model, "category": categories[index % len(categories)], "enabled": index % 2 == 0,
                    "frequency": schemas["SyncFrequency"]["enum"][index % 4], "interval": index + 1,
                    "scope_access": {"READ": True, "CREATE": False, "UPDATE": True, "DELETE": False},
                    "sync_from": "2023-01-01T00:00:00Z"}
                   for index, model in enumerate(schemas["DataModel"]["enum"])]
    sent = {"integration_categories": categories, "integrations": integrations, "sync_config": sync_config,
            "company_name": "Every Value Ltd", "partner_id": "partner-42"}
    response = call(client, operation_id, link=_target(client, operation_id), body=sent)
    data = client.expect(response, operation_id, 200)["data"]
    settings_echoed(client, response, operation_id, data, sent)


def _send_valid(client: ContractClient, operation_id: str, headers: dict[str, str | None]) -> httpx.Response:
    link = create(client)["invite_link_id"] if operation_id in ("get_invite_link", "update_invite_link") else None
    body = {"integration_categories": ["ACCOUNTING"]} if operation_id in ("create_invite_link",
                                                                          "update_invite_link") else None
    return call(client, operation_id, link=link, body=body, headers=headers)


@pytest.mark.edge
@pytest.mark.parametrize("operation_id", OPERATIONS)
@pytest.mark.parametrize("api_key", [None, ""], ids=["missing", "empty"])
def test_missing_credentials_are_unauthorized(client, operation_id, api_key):
    response = _send_valid(client, operation_id, {"api_key": api_key})
    client.expect_error(response, operation_id, 401)


@pytest.mark.edge
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_invalid_credentials_are_unauthorized(client, operation_id):
    response = _send_valid(client, operation_id, {"api_key": f"invalid-{uuid.uuid4().hex}"})
    client.expect_error(response, operation_id, 401)


@pytest.mark.edge
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_credentials_in_another_header_are_unauthorized(client, operation_id):
    key = client.http.headers.get("api_key")
    if not key:
        pytest.skip("the target's credential is not an api_key header")
    response = _send_valid(client, operation_id, {"api_key": None, "Authorization": f"Bearer {key}"})
    client.expect_error(response, operation_id, 401)


@pytest.mark.edge
@pytest.mark.parametrize("name, value", [("limit", "0"), ("limit", "101"), ("limit", "-5"), ("limit", "ten"),
                                         ("limit", "2.5"), ("next", "not-a-cursor"), ("next", "")],
                         ids=["limit-zero", "limit-over-100", "limit-negative", "limit-text", "limit-fraction",
                              "next-unknown", "next-empty"])
def test_an_invalid_list_parameter_is_a_bad_request(client, name, value):
    response = call(client, "list_invite_links", params={name: value})
    error = client.expect_error(response, "list_invite_links", 400)["error"]
    places = [detail.get("path") for detail in error.get("details") or []]
    client.require(name in places or name in error["message"], response, "list_invite_links",
                   f"the error to name the parameter {name!r}")


@pytest.mark.edge
@pytest.mark.parametrize("limit", [1, 100])
def test_the_limit_bounds_are_accepted(client, limit):
    for _ in range(2):
        create(client)
    response = call(client, "list_invite_links", params={"limit": limit})
    body = client.expect(response, "list_invite_links", 200)
    client.require(len(body["data"]) <= limit, response, "list_invite_links", f"at most {limit} links")
    if limit == 1:
        client.require(len(body["data"]) == 1 and body["next"] is not None, response, "list_invite_links",
                       "one link and a next cursor when more links exist")


# --- 3. stateful scenarios -------------------------------------------------------------------------------------


@pytest.mark.stateful
def test_a_created_link_can_be_read(client):
    sent = copy.deepcopy(request_example(API, "create_invite_link"))
    sent["partner_id"] = f"partner-{uuid.uuid4().hex[:8]}"
    mine = create(client, sent)
    data, response = fetch(client, mine["invite_link_id"])
    client.require(data == mine, response, "get_invite_link", "the link exactly as the create answered it")
    settings_echoed(client, response, "get_invite_link", data, sent)


@pytest.mark.stateful
def test_created_links_get_distinct_ids(client):
    made = [create(client) for _ in range(3)]
    link_ids, rootfi_ids = {m["invite_link_id"] for m in made}, {m["rootfi_id"] for m in made}
    response = call(client, "get_invite_link", link=made[-1]["invite_link_id"])
    client.require(len(link_ids) == len(rootfi_ids) == 3, response, "create_invite_link",
                   "every new link to get its own invite_link_id and rootfi_id")


@pytest.mark.stateful
def test_an_update_persists(client):
    mine = create(client, {"integration_categories": ["ACCOUNTING"], "integrations": ["XERO"], "company_name": "Old"})
    sent = {"integration_categories": ["PAYMENTS", "CRM"], "integrations": ["STRIPE", "HUBSPOT"],
            "company_name": "New Name", "partner_id": "p-1"}
    updated, _ = update(client, mine["invite_link_id"], sent)
    data, response = fetch(client, mine["invite_link_id"])
    client.require(data == updated, response, "get_invite_link", "the link exactly as the update answered it")
    settings_echoed(client, response, "get_invite_link", data, sent)
    cleared, _ = update(client, mine["invite_link_id"], {"integration_categories": ["CRM"], "integrations": None})
    data, response = fetch(client, mine["invite_link_id"])
    client.require(data == cleared and data["integrations"] is None, response, "get_invite_link",
                   "integrations null after an update that sent integrations: null")


@pytest.mark.stateful
def test_an_update_advances_updated_at_and_keeps_created_at(client):
    mine = create(client)
    previous = mine
    for categories in (["CRM"], ["CRM"], ["PAYMENTS"]):
        data, response = update(client, mine["invite_link_id"], {"integration_categories": categories})
        client.require(moment(data["rootfi_updated_at"]) > moment(previous["rootfi_updated_at"]), response,
                       "update_invite_link", f"rootfi_updated_at after the previous one "
                                             f"({previous['rootfi_updated_at']}), even for updates in quick succession")
        client.require(data["rootfi_created_at"] == mine["rootfi_created_at"], response, "update_invite_link",
                       f"rootfi_created_at kept ({mine['rootfi_created_at']})")
        stored, response = fetch(client, mine["invite_link_id"])
        client.require(stored["rootfi_updated_at"] == data["rootfi_updated_at"], response, "get_invite_link",
                       "the advanced rootfi_updated_at stored")
        previous = data


@pytest.mark.stateful
def test_an_update_of_only_the_categories_keeps_the_other_settings(client):
    sent = copy.deepcopy(request_example(API, "create_invite_link"))
    sent["partner_id"] = "keep-me"
    mine = create(client, sent)
    data, response = update(client, mine["invite_link_id"], {"integration_categories": ["CRM"]})
    client.require(data["integration_categories"] == ["CRM"], response, "update_invite_link", "the new categories")
    client.require(data["integrations"] == mine["integrations"], response, "update_invite_link",
                   f"integrations kept ({mine['integrations']!r})")
    client.require(company_name(data) == company_name(mine), response, "update_invite_link",
                   f"company.name kept ({company_name(mine)!r})")
    client.require(data.get("partner_id") == mine.get("partner_id"), response, "update_invite_link",
                   f"partner_id kept ({mine.get('partner_id')!r})")
    stored, response = fetch(client, mine["invite_link_id"])
    client.require(stored == data, response, "get_invite_link", "the link as the update answered it")


@pytest.mark.stateful
def test_the_list_walks_every_link_exactly_once(client):
    mine = [create(client)["invite_link_id"] for _ in range(5)]
    seen, response = walk(client, 2)
    duplicates = sorted({link for link in seen if seen.count(link) > 1})
    client.require(not duplicates, response, "list_invite_links", f"no link on two pages (repeated: {duplicates})")
    missing = [link for link in mine if link not in seen]
    client.require(not missing, response, "list_invite_links", f"every created link listed (missing: {missing})")
    for limit in sorted({3, len(seen)}):
        if limit <= 100:
            again, response = walk(client, limit)
            client.require(again == seen, response, "list_invite_links",
                           f"the same links in the same order with limit={limit}")


@pytest.mark.stateful
def test_an_updated_link_is_listed_as_updated(client):
    mine = create(client)
    updated, _ = update(client, mine["invite_link_id"], {"integration_categories": ["ECOMMERCE"],
                                                         "integrations": ["SHOPIFY"]})
    cursor, found = None, None
    for _ in range(MAX_PAGES):
        response = call(client, "list_invite_links", params={"limit": 100, **({"next": cursor} if cursor else {})})
        body = client.expect(response, "list_invite_links", 200)
        found = next((link for link in body["data"] if link["invite_link_id"] == mine["invite_link_id"]), found)
        cursor = body["next"]
        if cursor is None:
            break
    client.require(found == updated, response, "list_invite_links", "the link listed as the update answered it")


@pytest.mark.stateful
@pytest.mark.parametrize("operation_id", ["get_invite_link", "update_invite_link"])
def test_an_unknown_link_is_not_found(client, operation_id):
    body = {"integration_categories": ["ACCOUNTING"]} if operation_id == "update_invite_link" else None
    response = call(client, operation_id, link=unknown_link(), body=body)
    client.expect_error(response, operation_id, 404)
