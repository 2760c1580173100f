"""RootFi invite links on the mock behave as RootFi's documentation (and vendor-facts) say.

Every answer is also checked against openapi/rootfi.yaml by the client (see conftest.py).
"""

from __future__ import annotations

import copy
import re
from datetime import datetime, timezone
from typing import Any

import pytest

from mockserver.specs import request_example, response_example
from mockserver.vendors import rootfi

LINKS = "/core/invite_links"
ISO_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def documented(operation_id: str, status: int = 200, name: str = "documented") -> Any:
    """A named response example of an operation, from the spec."""
    return copy.deepcopy(response_example("rootfi", operation_id, status, name))


def documented_request(name: str = "documented") -> dict[str, Any]:
    """A named request-body example of the update (the vendor page's request is ``documented``)."""
    return copy.deepcopy(request_example("rootfi", "update_invite_link", name))


def moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def create(client, **fields) -> dict[str, Any]:
    fields.setdefault("integration_categories", ["ACCOUNTING"])
    response = client.post(LINKS, json=fields)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def update(client, invite_link_id: str, **fields) -> dict[str, Any]:
    response = client.put(f"{LINKS}/{invite_link_id}", json=fields)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def fetch(client, invite_link_id: str) -> dict[str, Any]:
    response = client.get(f"{LINKS}/{invite_link_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def all_links(client) -> list[dict[str, Any]]:
    response = client.get(LINKS, params={"limit": 100})
    assert response.status_code == 200 and response.json()["next"] is None, response.text
    return response.json()["data"]


def error_of(response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["status"] == response.status_code
    return error


@pytest.fixture
def client(serve):
    return serve("rootfi")


SEEDED = documented("get_invite_link")["data"]


# --- the seed page, verbatim --------------------------------------------------------------------------------


def test_documented_update_request_replayed_verbatim_answers_the_documented_link_with_a_new_updated_at(client):
    response = client.put(f"{LINKS}/1", json=documented_request())
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    data, expected = response.json()["data"], documented("update_invite_link")["data"]
    assert ISO_MS.match(data["rootfi_updated_at"])
    assert moment(data["rootfi_updated_at"]) > moment(expected["rootfi_updated_at"])
    assert {**data, "rootfi_updated_at": expected["rootfi_updated_at"]} == expected
    assert fetch(client, "1") == data


def test_documented_get_request_answers_the_documented_example(client):
    response = client.get(f"{LINKS}/1")
    assert response.status_code == 200
    assert response.json() == documented("get_invite_link")


def test_list_of_a_fresh_mock_is_the_documented_single_page(client):
    response = client.get(LINKS)
    assert response.status_code == 200
    assert response.json() == documented("list_invite_links", name="single_page")


def test_without_seed_there_are_no_invite_links(serve):
    client = serve("rootfi", seed=False)
    assert client.get(LINKS).json() == {"data": [], "next": None}
    assert client.get(f"{LINKS}/1").status_code == 404
    assert create(client)["invite_link_id"] == "1"


# --- create ---------------------------------------------------------------------------------------------------


def test_create_answers_200_with_the_new_link_not_yet_connected(client):
    response = client.post(LINKS, json={"company_name": "RootFi", "integrations": ["XERO"],
                                        "integration_categories": ["ACCOUNTING"]})
    assert response.status_code == 200
    data = response.json()["data"]
    stamp = data["rootfi_created_at"]
    assert ISO_MS.match(stamp) and data["rootfi_updated_at"] == stamp
    expected = documented("create_invite_link", name="not_yet_connected")["data"]
    expected.update(rootfi_created_at=stamp, rootfi_updated_at=stamp)
    expected["company"].update(rootfi_created_at=stamp, rootfi_updated_at=stamp)
    assert data == expected
    assert fetch(client, "2") == data


def test_create_with_only_categories_has_null_company_integrations_and_connections(client):
    data = create(client, integration_categories=["PAYMENTS", "CRM"])
    assert data["integration_categories"] == ["PAYMENTS", "CRM"]
    assert data["company"] is None and data["integrations"] is None and data["connections"] is None
    assert "partner_id" not in data


def test_each_created_link_gets_the_next_rootfi_id_as_its_invite_link_id(client):
    ids = [(link["rootfi_id"], link["invite_link_id"]) for link in (create(client) for _ in range(3))]
    assert ids == [(2, "2"), (3, "3"), (4, "4")]


def test_created_company_gets_its_own_rootfi_id(client):
    create(client)  # no company name: no company, and no company id used
    first, second = create(client, company_name="A"), create(client, company_name="B")
    assert (first["company"]["rootfi_id"], second["company"]["rootfi_id"]) == (2, 3)


def test_partner_id_is_shown_once_set_and_gone_after_an_explicit_null(client):
    link = create(client, partner_id="crm-42")
    assert link["partner_id"] == "crm-42"
    assert fetch(client, link["invite_link_id"])["partner_id"] == "crm-42"
    cleared = update(client, link["invite_link_id"], integration_categories=["CRM"], partner_id=None)
    assert "partner_id" not in cleared
    assert "partner_id" not in fetch(client, link["invite_link_id"])


def test_create_get_list_update_get_shows_the_update(client):
    link = create(client, company_name="Acme", integrations=["XERO"])
    assert fetch(client, link["invite_link_id"]) == link
    assert all_links(client)[-1] == link
    changed = update(client, link["invite_link_id"], integration_categories=["PAYMENTS"],
                     integrations=["STRIPE", "PAYPAL"], company_name="Acme Ltd")
    again = fetch(client, link["invite_link_id"])
    assert again == changed
    assert again["integration_categories"] == ["PAYMENTS"]
    assert again["integrations"] == ["STRIPE", "PAYPAL"]
    assert again["company"]["name"] == "Acme Ltd"
    assert again["rootfi_created_at"] == link["rootfi_created_at"]
    assert all_links(client)[-1] == again


# --- update -------------------------------------------------------------------------------------------------


def test_update_with_only_categories_keeps_every_other_setting(client):
    sync = documented_request()["sync_config"]
    link = create(client, company_name="Acme", integrations=["XERO"], sync_config=sync, partner_id="p-1")
    changed = update(client, link["invite_link_id"], integration_categories=["ACCOUNTING", "CRM"])
    assert changed["integration_categories"] == ["ACCOUNTING", "CRM"]
    assert changed["company"] == link["company"]
    assert changed["integrations"] == ["XERO"]
    assert changed["partner_id"] == "p-1"
    assert changed["rootfi_created_at"] == link["rootfi_created_at"]


def test_update_of_the_seeded_link_with_only_categories_keeps_company_and_connections(client):
    changed = update(client, "1", integration_categories=["CRM"])
    assert changed["company"] == SEEDED["company"]
    assert changed["connections"] == SEEDED["connections"]
    assert changed["integrations"] == SEEDED["integrations"]


def test_explicit_null_company_name_clears_the_company(client):
    changed = update(client, "1", integration_categories=["ACCOUNTING"], company_name=None)
    assert changed["company"] is None
    assert fetch(client, "1")["company"] is None


def test_explicit_null_integrations_sets_integrations_to_null(client):
    assert update(client, "1", integration_categories=["ACCOUNTING"], integrations=None)["integrations"] is None
    assert fetch(client, "1")["integrations"] is None


def test_renaming_the_company_keeps_its_id_and_creation_and_advances_its_updated_at(client):
    company = update(client, "1", integration_categories=["ACCOUNTING"], company_name="RootFi Labs")["company"]
    assert company["name"] == "RootFi Labs"
    assert company["rootfi_id"] == SEEDED["company"]["rootfi_id"]
    assert company["rootfi_created_at"] == SEEDED["company"]["rootfi_created_at"]
    assert moment(company["rootfi_updated_at"]) > moment(SEEDED["company"]["rootfi_updated_at"])


def test_same_company_name_leaves_the_company_untouched(client):
    company = update(client, "1", integration_categories=["ACCOUNTING"], company_name="RootFi")["company"]
    assert company == SEEDED["company"]


def test_company_name_on_a_link_without_company_creates_a_new_company(client):
    link = create(client)
    changed = update(client, link["invite_link_id"], integration_categories=["ACCOUNTING"], company_name="New")
    company = changed["company"]
    assert company["name"] == "New"
    assert company["rootfi_id"] == 2
    assert ISO_MS.match(company["rootfi_created_at"])
    assert company["rootfi_updated_at"] == company["rootfi_created_at"] == changed["rootfi_updated_at"]


def test_update_keeps_rootfi_created_at_and_advances_rootfi_updated_at_on_two_quick_updates(client):
    link = create(client)
    first = update(client, link["invite_link_id"], integration_categories=["CRM"])
    second = update(client, link["invite_link_id"], integration_categories=["CRM"])
    stamps = [link["rootfi_updated_at"], first["rootfi_updated_at"], second["rootfi_updated_at"]]
    assert all(ISO_MS.match(stamp) for stamp in stamps)
    assert moment(stamps[0]) < moment(stamps[1]) < moment(stamps[2])
    assert first["rootfi_created_at"] == second["rootfi_created_at"] == link["rootfi_created_at"]


def test_update_advances_rootfi_updated_at_even_when_the_clock_stands_still(client, monkeypatch):
    frozen = datetime(2024, 5, 1, 8, 0, 0, 123456, tzinfo=timezone.utc)
    monkeypatch.setattr(rootfi, "_clock", lambda: frozen)
    link = create(client)
    assert link["rootfi_created_at"] == "2024-05-01T08:00:00.123Z"
    stamps = [update(client, link["invite_link_id"], integration_categories=["CRM"])["rootfi_updated_at"]
              for _ in range(2)]
    assert stamps == ["2024-05-01T08:00:00.124Z", "2024-05-01T08:00:00.125Z"]


def test_new_sync_config_reaches_the_connection_of_its_category_only(client):
    accounting = {"data_model": "INVOICES", "category": "ACCOUNTING", "enabled": True, "frequency": "WEEKLY",
                  "interval": 2}
    payments = {"data_model": "PAYMENT_PAYOUTS", "category": "PAYMENTS", "enabled": False}
    changed = update(client, "1", integration_categories=["ACCOUNTING", "PAYMENTS"],
                     sync_config=[accounting, payments])
    [connection] = changed["connections"]
    assert connection["category"] == "ACCOUNTING"
    assert connection["sync_config"] == [accounting]
    assert connection["rootfi_updated_at"] == changed["rootfi_updated_at"]
    assert connection["rootfi_created_at"] == SEEDED["connections"][0]["rootfi_created_at"]
    assert fetch(client, "1")["connections"] == [connection]


def test_null_sync_config_leaves_connections_with_nothing_to_sync(client):
    changed = update(client, "1", integration_categories=["ACCOUNTING"], sync_config=None)
    assert changed["connections"][0]["sync_config"] == []


# --- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_unknown_invite_link_is_404_exactly_as_documented(client, method):
    body = documented_request() if method == "PUT" else None
    response = client.request(method, f"{LINKS}/999", json=body)
    assert response.status_code == 404
    assert response.json() == documented("get_invite_link", 404, "unknown_invite_link")
    assert all_links(client) == [SEEDED]


def test_missing_integration_categories_is_the_documented_400(client):
    response = client.put(f"{LINKS}/1", json={"company_name": "X"})
    assert response.status_code == 400
    assert response.json() == documented("update_invite_link", 400, "missing_integration_categories")
    assert fetch(client, "1") == SEEDED


def test_unknown_integration_is_the_documented_400(client):
    body = {"integration_categories": ["ACCOUNTING"], "integrations": ["FRESHBOOKS"]}
    response = client.put(f"{LINKS}/1", json=body)
    assert response.status_code == 400
    assert response.json() == documented("update_invite_link", 400, "value_not_in_enum")
    assert fetch(client, "1") == SEEDED


def _with_sync(**entry):
    return {"integration_categories": ["ACCOUNTING"],
            "sync_config": [{"data_model": "ACCOUNTS", "category": "ACCOUNTING", **entry}]}


INVALID_BODIES = {
    "missing-categories": ({"integrations": ["XERO"]}, "integration_categories"),
    "unknown-category": ({"integration_categories": ["ACCOUNTING", "BANKING"]}, "integration_categories[1]"),
    "unknown-integration": ({"integration_categories": ["CRM"], "integrations": ["FRESHBOOKS"]}, "integrations[0]"),
    "bad-frequency": (_with_sync(frequency="HOURLY"), "sync_config[0].frequency"),
    "unknown-data-model": (
        {"integration_categories": ["CRM"], "sync_config": [{"data_model": "DEALS", "category": "CRM"}]},
        "sync_config[0].data_model",
    ),
    "sync-entry-without-category": (
        {"integration_categories": ["CRM"], "sync_config": [{"data_model": "ACCOUNTS"}]},
        "sync_config[0].category",
    ),
    "interval-below-one": (_with_sync(interval=0), "sync_config[0].interval"),
    "company-name-not-a-string": ({"integration_categories": ["CRM"], "company_name": 5}, "company_name"),
    "categories-not-an-array": ({"integration_categories": "ACCOUNTING"}, "integration_categories"),
    "enabled-not-a-boolean": (_with_sync(enabled="yes"), "sync_config[0].enabled"),
    "partner-id-not-a-string": ({"integration_categories": ["CRM"], "partner_id": 7}, "partner_id"),
}


@pytest.mark.parametrize(("body", "path"), INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_update_body_is_400_naming_the_field_and_changes_nothing(client, body, path):
    response = client.put(f"{LINKS}/1", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_REQUEST"
    assert path in [detail["path"] for detail in error["details"]]
    assert fetch(client, "1") == SEEDED


@pytest.mark.parametrize(("body", "path"), INVALID_BODIES.values(), ids=INVALID_BODIES.keys())
def test_invalid_create_body_is_400_naming_the_field_and_creates_nothing(client, body, path):
    response = client.post(LINKS, json=body)
    assert response.status_code == 400
    assert path in [detail["path"] for detail in error_of(response)["details"]]
    assert all_links(client) == [SEEDED]
    assert create(client)["rootfi_id"] == 2


def test_every_problem_of_a_body_is_listed(client):
    response = client.put(f"{LINKS}/1", json={"integration_categories": ["NOPE"], "integrations": ["NOPE"]})
    assert response.status_code == 400
    paths = [detail["path"] for detail in error_of(response)["details"]]
    assert sorted(paths) == ["integration_categories[0]", "integrations[0]"]


@pytest.mark.parametrize(("method", "url"), [("POST", LINKS), ("PUT", f"{LINKS}/1")])
def test_body_that_is_not_json_is_415_and_changes_nothing(client, method, url):
    response = client.request(method, url, content=b"integration_categories=ACCOUNTING",
                              headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert all_links(client) == [SEEDED]


@pytest.mark.parametrize("content", [b'{"integration_categories": [', b"{not json", b"\xff\xfe{}", b""],
                         ids=["truncated", "malformed", "invalid-utf8", "empty"])
@pytest.mark.parametrize(("method", "url"), [("POST", LINKS), ("PUT", f"{LINKS}/1")])
def test_unreadable_json_body_is_400_and_changes_nothing(client, method, url, content):
    response = client.request(method, url, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert error_of(response)["code"] == "INVALID_REQUEST"
    assert all_links(client) == [SEEDED]


def test_json_with_a_charset_is_accepted(client):
    response = client.put(f"{LINKS}/1", content=b'{"integration_categories": ["CRM"]}',
                          headers={"Content-Type": "application/json; charset=utf-8"})
    assert response.status_code == 200
    assert response.json()["data"]["integration_categories"] == ["CRM"]


OPERATIONS = [("POST", LINKS), ("GET", LINKS), ("GET", f"{LINKS}/1"), ("PUT", f"{LINKS}/1")]


@pytest.mark.parametrize(("method", "url"), OPERATIONS)
@pytest.mark.parametrize("api_key", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_every_operation_without_a_usable_api_key_is_401_and_changes_nothing(serve, method, url, api_key):
    client = serve("rootfi", credentials=False, headers={} if api_key is None else {"api_key": api_key})
    body = {"integration_categories": ["CRM"], "company_name": "Intruder"} if method in ("POST", "PUT") else None
    response = client.request(method, url, json=body)
    assert response.status_code == 401
    assert error_of(response)["code"] == "UNAUTHORIZED"
    owner = serve("rootfi", app=client.app)
    assert all_links(owner) == [SEEDED]


def test_only_listed_api_keys_are_accepted_when_keys_are_configured(serve):
    client = serve("rootfi", tokens=frozenset({"good"}), headers={"api_key": "bad"})
    assert client.get(f"{LINKS}/1").status_code == 401
    good = serve("rootfi", app=client.app, headers={"api_key": "good"})
    assert good.get(f"{LINKS}/1").status_code == 200


# --- list -------------------------------------------------------------------------------------------------------


def walk(client, limit: int) -> list[list[int]]:
    """The rootfi_ids of every page, following ``next`` until it is null."""
    pages, params = [], {"limit": limit}
    while True:
        response = client.get(LINKS, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        pages.append([link["rootfi_id"] for link in body["data"]])
        if body["next"] is None:
            return pages
        assert isinstance(body["next"], str) and body["next"]
        params = {"limit": limit, "next": body["next"]}
        assert len(pages) < 10, "the cursor does not advance"


def test_limit_two_over_five_links_walks_every_page_once_and_ends_with_null_next(client):
    for _ in range(4):
        create(client)
    assert walk(client, 2) == [[1, 2], [3, 4], [5]]


def test_a_full_last_page_has_null_next(client):
    for _ in range(3):
        create(client)
    assert walk(client, 2) == [[1, 2], [3, 4]]


def test_links_created_while_walking_appear_on_later_pages(client):
    create(client), create(client)
    first = client.get(LINKS, params={"limit": 2}).json()
    create(client)
    second = client.get(LINKS, params={"limit": 2, "next": first["next"]}).json()
    assert [link["rootfi_id"] for link in second["data"]] == [3, 4]
    assert second["next"] is None


def test_limit_defaults_to_twenty(client):
    for _ in range(20):
        create(client)
    first = client.get(LINKS).json()
    assert [link["rootfi_id"] for link in first["data"]] == list(range(1, 21))
    second = client.get(LINKS, params={"next": first["next"]}).json()
    assert [link["rootfi_id"] for link in second["data"]] == [21]
    assert second["next"] is None


def test_list_shows_links_as_get_does_in_rootfi_id_order(client):
    created = [create(client, company_name=name) for name in ("B", "A", "C")]
    update(client, created[0]["invite_link_id"], integration_categories=["CRM"])
    listed = all_links(client)
    assert [link["rootfi_id"] for link in listed] == [1, 2, 3, 4]
    assert listed == [fetch(client, link["invite_link_id"]) for link in listed]


@pytest.mark.parametrize("cursor", ["zz", "", "MQ==", "MDE", "OTk", "bm90IGEgbnVtYmVy", "M!Q"],
                         ids=["garbage", "empty", "padded", "leading-zero", "no-such-link", "not-a-number",
                              "stray-character"])
def test_cursor_not_handed_out_is_400_naming_next(client, cursor):
    response = client.get(LINKS, params={"next": cursor})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "INVALID_REQUEST"
    assert [detail["path"] for detail in error["details"]] == ["next"]


def test_cursor_of_another_session_is_400(serve):
    alice = serve("rootfi", headers={"X-Mock-Session": "alice"})
    bob = serve("rootfi", app=alice.app, headers={"X-Mock-Session": "bob"})
    for _ in range(3):
        create(alice)
    cursor = alice.get(LINKS, params={"limit": 2}).json()["next"]
    assert alice.get(LINKS, params={"limit": 2, "next": cursor}).status_code == 200
    assert bob.get(LINKS, params={"limit": 2, "next": cursor}).status_code == 400


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten", "2.5"])
def test_limit_outside_one_to_a_hundred_is_400_naming_limit(client, limit):
    response = client.get(LINKS, params={"limit": limit})
    assert response.status_code == 400
    assert [detail["path"] for detail in error_of(response)["details"]] == ["limit"]


@pytest.mark.parametrize("limit", [1, 100])
def test_limit_at_its_bounds_is_accepted(client, limit):
    response = client.get(LINKS, params={"limit": limit})
    assert response.status_code == 200
    assert [link["rootfi_id"] for link in response.json()["data"]] == [1]


# --- sessions, Prefer, persistence -------------------------------------------------------------------------------


def test_sessions_are_isolated_and_each_starts_from_the_seed(serve):
    alice = serve("rootfi", headers={"X-Mock-Session": "alice"})
    bob = serve("rootfi", app=alice.app, headers={"X-Mock-Session": "bob"})
    default = serve("rootfi", app=alice.app)
    link = create(alice, company_name="Alice Inc")
    update(alice, "1", integration_categories=["CRM"], company_name=None)
    assert bob.get(f"{LINKS}/{link['invite_link_id']}").status_code == 404
    assert all_links(bob) == [SEEDED]
    assert all_links(default) == [SEEDED]
    assert create(bob)["rootfi_id"] == 2
    assert [item["company"] for item in all_links(alice)] == [None, link["company"]]


def test_prefer_code_404_answers_the_documented_404_without_touching_state(client):
    response = client.put(f"{LINKS}/1", json={"integration_categories": ["CRM"], "company_name": None},
                          headers={"Prefer": "code=404"})
    assert response.status_code == 404
    assert response.json() == documented("update_invite_link", 404, "unknown_invite_link")
    assert fetch(client, "1") == SEEDED


def test_prefer_code_200_on_create_answers_the_documented_example_without_creating(client):
    response = client.post(LINKS, json={"integration_categories": ["CRM"]}, headers={"Prefer": "code=200"})
    assert response.status_code == 200
    assert response.json() == documented("create_invite_link", name="not_yet_connected")
    assert all_links(client) == [SEEDED]
    assert create(client)["rootfi_id"] == 2


def test_links_and_their_numbering_survive_a_restart_with_db(serve, tmp_path):
    db = tmp_path / "state.json"
    first = serve("rootfi", db_path=db)
    link = create(first, company_name="Kept")
    changed = update(first, "1", integration_categories=["CRM"])
    first.__exit__(None, None, None)
    second = serve("rootfi", db_path=db)
    assert fetch(second, link["invite_link_id"]) == link
    assert fetch(second, "1") == changed
    assert create(second, company_name="Next")["company"]["rootfi_id"] == 3
