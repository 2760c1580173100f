"""MPDX invites on the mock behave as the MPDX documentation says, for account lists and organizations.

Every answer is also checked against openapi/mpdx.yaml by the client (see conftest.py).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from dataclasses import dataclass

import pytest

from mockserver.specs import APIS, request_example, response_example
from mockserver.vendors.mpdx import caller_id

JSONAPI = "application/vnd.api+json"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
ME = caller_id("test-user-token")


@dataclass(frozen=True)
class Kind:
    """What differs between the two kinds of invite, with the documented example ids of each."""

    parent: str
    resource_type: str
    default_role: str
    other_role: str | None
    listed_parent: str
    listed_invite: str
    fetched_parent: str
    fetched_invite: str
    accept_parent: str
    accept_invite: str
    accept_code: str
    delete_parent: str
    delete_invite: str
    create_parent: str

    def invites(self, parent_id: str) -> str:
        return f"/api/v2/{self.parent}/{parent_id}/invites"

    def invite(self, parent_id: str, invite_id: str) -> str:
        return f"{self.invites(parent_id)}/{invite_id}"


ACCOUNT_LISTS = Kind(
    parent="account_lists",
    resource_type="account_list_invites",
    default_role="user",
    other_role="coach",
    listed_parent="68683b2d-3585-42f2-94f3-e1c366cf8177",
    listed_invite="53af07af-76b9-470b-b1d4-9be69aac6ba1",
    fetched_parent="3434c562-71bf-4a25-b086-e33234396385",
    fetched_invite="6e8a98ca-46ec-4d4b-886a-efada4d19d4b",
    accept_parent="94fee331-c9c9-49d7-b2b6-b0169165ff10",
    accept_invite="ae81fbc3-c15c-4234-b6dd-4c14d38c0835",
    accept_code="abc",
    delete_parent="08d9120d-db44-48e0-b7b0-6ba37b18b130",
    delete_invite="6be89230-020f-4381-8a11-1217598d89a0",
    create_parent="f10a0678-541e-4ebc-bb33-bc9ede811be9",
)
ORGANIZATIONS = Kind(
    parent="organizations",
    resource_type="organization_invites",
    default_role="admin",
    other_role=None,
    listed_parent="8646b67b-9a28-4de7-bd0e-27adacc99e45",
    listed_invite="0747f504-5188-45a7-9763-6e584a852fc9",
    fetched_parent="b9a1ac8f-e418-4af6-8d62-015899ae3240",
    fetched_invite="f7b9c8fb-d48e-480c-9e17-4b4b1a4495aa",
    accept_parent="4b607303-73bf-4ef2-85c0-fc27daad6d66",
    accept_invite="e0eb3572-8c07-4f6b-981b-414464fc873e",
    accept_code="e9d8b969f1f3bc14f0869bf6921223a7a5529b8bd808b6b50fa5890779d6ffbf",
    delete_parent="d5ad0a83-eb97-4293-b593-de6e74190873",
    delete_invite="84b7b330-0e3b-440f-9c7e-dc399d9089e0",
    create_parent="95af4f66-ea19-4a3b-8612-d835ca8c64f8",
)
KINDS = pytest.mark.parametrize("kind", [ACCOUNT_LISTS, ORGANIZATIONS], ids=lambda k: k.parent)


def documented(operation_id: str, part: str = "response"):
    """The ``documented`` example of an operation, from the spec."""
    if part == "request":
        return request_example("mpdx", operation_id)
    return response_example("mpdx", operation_id, 201 if operation_id.startswith("create") else 200)


def send(client, method: str, url: str, document=None, **kwargs):
    headers = {"Content-Type": JSONAPI, **kwargs.pop("headers", {})}
    content = json.dumps(document) if document is not None else None
    return client.request(method, url, content=content, headers=headers, **kwargs)


def create(client, kind: Kind, parent_id: str | None = None, **attributes):
    attributes.setdefault("recipient_email", "someone@example.com")
    response = send(client, "POST", kind.invites(parent_id or kind.create_parent),
                    {"data": {"type": kind.resource_type, "attributes": attributes}})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def accept(client, kind: Kind, parent_id: str, invite_id: str, code):
    attributes = {} if code is ... else {"code": code}
    return send(client, "PUT", kind.invite(parent_id, invite_id) + "/accept",
                {"data": {"type": kind.resource_type, "attributes": attributes}})


def listed_ids(client, kind: Kind, parent_id: str, **params) -> list[str]:
    response = client.get(kind.invites(parent_id), params=params)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


def error_of(response) -> dict:
    assert response.headers["content-type"].startswith(JSONAPI)
    [error] = response.json()["errors"]
    assert error["status"] == str(response.status_code)
    return error


@pytest.fixture
def mpdx(serve):
    return serve("mpdx")


# --- the seed pages' requests, verbatim ------------------------------------------------------------------


@KINDS
def test_documented_list_request_returns_the_documented_list(mpdx, kind):
    response = send(mpdx, "GET", kind.invites(kind.listed_parent))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(JSONAPI)
    assert response.json() == documented(f"list_{kind.resource_type}")


@KINDS
def test_documented_get_request_returns_the_documented_invite(mpdx, kind):
    response = send(mpdx, "GET", kind.invite(kind.fetched_parent, kind.fetched_invite))
    assert response.status_code == 200
    assert response.json() == documented(f"get_{kind.resource_type[:-1]}")


@KINDS
def test_documented_create_request_gives_the_documented_invite_with_a_fresh_id_and_code(mpdx, kind):
    request = documented(f"create_{kind.resource_type[:-1]}", "request")
    response = send(mpdx, "POST", kind.invites(kind.create_parent), request)
    assert response.status_code == 201
    data, expected = response.json()["data"], documented(f"create_{kind.resource_type[:-1]}")["data"]
    assert uuid.UUID(data["id"]) and data["id"] != expected["id"]
    assert HEX64.match(data["attributes"]["code"])
    assert {k: v for k, v in data["attributes"].items() if k != "code"} == {
        k: v for k, v in expected["attributes"].items() if k != "code"
    }
    assert data["relationships"]["invited_by_user"]["data"] == {"id": ME, "type": "users"}


@KINDS
def test_documented_accept_request_accepts_the_invite(mpdx, kind):
    request = documented(f"accept_{kind.resource_type[:-1]}", "request")
    response = send(mpdx, "PUT", kind.invite(kind.accept_parent, kind.accept_invite) + "/accept", request)
    assert response.status_code == 200
    data, expected = response.json()["data"], documented(f"accept_{kind.resource_type[:-1]}")["data"]
    assert data["id"] == expected["id"]
    assert ISO_UTC.match(data["attributes"]["accepted_at"])
    assert data["relationships"]["accepted_by_user"]["data"] == {"id": ME, "type": "users"}
    assert data["relationships"]["invited_by_user"] == expected["relationships"]["invited_by_user"]


@KINDS
def test_documented_delete_request_cancels_the_invite(mpdx, kind):
    response = send(mpdx, "DELETE", kind.invite(kind.delete_parent, kind.delete_invite))
    assert response.status_code == 204
    assert response.content == b""
    invite = mpdx.get(kind.invite(kind.delete_parent, kind.delete_invite)).json()["data"]
    assert invite["relationships"]["cancelled_by_user"]["data"] == {"id": ME, "type": "users"}


# --- create ----------------------------------------------------------------------------------------------


@KINDS
def test_each_created_invite_gets_its_own_uuid_and_64_hex_code(mpdx, kind):
    first, second = create(mpdx, kind), create(mpdx, kind)
    assert first["id"] != second["id"]
    assert first["attributes"]["code"] != second["attributes"]["code"]
    for invite in (first, second):
        assert str(uuid.UUID(invite["id"])) == invite["id"]
        assert HEX64.match(invite["attributes"]["code"])
        assert invite["attributes"]["accepted_at"] is None
        assert invite["relationships"]["accepted_by_user"] == {"data": None}
        assert invite["relationships"]["cancelled_by_user"] == {"data": None}


@KINDS
def test_invite_user_as_defaults_to_the_documented_role(mpdx, kind):
    assert create(mpdx, kind)["attributes"]["invite_user_as"] == kind.default_role


def test_account_list_invite_can_invite_a_coach(mpdx):
    assert create(mpdx, ACCOUNT_LISTS, invite_user_as="coach")["attributes"]["invite_user_as"] == "coach"


@KINDS
def test_new_invite_is_dated_now_in_iso_utc(mpdx, kind):
    attributes = create(mpdx, kind)["attributes"]
    assert ISO_UTC.match(attributes["created_at"])
    assert attributes["updated_at"] == attributes["updated_in_db_at"] == attributes["created_at"]


def test_client_timestamp_in_mpdx_form_comes_back_as_iso_utc(mpdx):
    attributes = create(mpdx, ACCOUNT_LISTS, updated_in_db_at="2022-01-12 17:18:20 UTC")["attributes"]
    assert attributes["updated_in_db_at"] == "2022-01-12T17:18:20Z"
    assert attributes["updated_at"] == "2022-01-12T17:18:20Z"


def test_client_timestamp_with_an_offset_is_converted_to_utc(mpdx):
    attributes = create(mpdx, ACCOUNT_LISTS, created_at="2022-01-12T19:18:20+02:00")["attributes"]
    assert attributes["created_at"] == "2022-01-12T17:18:20Z"


def test_unparseable_client_timestamp_is_400_pointing_at_the_attribute(mpdx):
    response = send(mpdx, "POST", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent), {
        "data": {"type": "account_list_invites",
                 "attributes": {"recipient_email": "a@example.com", "updated_in_db_at": "yesterday"}}})
    assert response.status_code == 400
    assert error_of(response)["source"] == {"pointer": "/data/attributes/updated_in_db_at"}


@KINDS
def test_invited_by_user_is_the_caller_and_stable_per_token(serve, kind):
    alice = serve("mpdx", headers={"Authorization": "Bearer alice"})
    bob = serve("mpdx", app=alice.app, headers={"Authorization": "Bearer bob"})
    by_alice = [create(alice, kind)["relationships"]["invited_by_user"]["data"]["id"] for _ in range(2)]
    by_bob = create(bob, kind)["relationships"]["invited_by_user"]["data"]["id"]
    assert by_alice[0] == by_alice[1] != by_bob


def test_a_jwt_carrying_a_user_id_maps_to_that_user(serve):
    user_id = "7ac9d6aa-4f6d-4b9c-a99c-768668a84fe1"
    payload = base64.urlsafe_b64encode(json.dumps({"user_id": user_id}).encode()).decode().rstrip("=")
    client = serve("mpdx", headers={"Authorization": f"Bearer eyJhbGciOiJIUzI1NiJ9.{payload}.c2ln"})
    assert create(client, ACCOUNT_LISTS)["relationships"]["invited_by_user"]["data"]["id"] == user_id


@KINDS
def test_created_invite_can_be_fetched_and_is_listed(mpdx, kind):
    parent = str(uuid.uuid4())
    invite = create(mpdx, kind, parent)
    assert mpdx.get(kind.invite(parent, invite["id"])).json()["data"] == invite
    assert listed_ids(mpdx, kind, parent) == [invite["id"]]


def test_missing_recipient_email_is_400_pointing_at_it(mpdx):
    response = send(mpdx, "POST", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent),
                    {"data": {"type": "account_list_invites", "attributes": {"invite_user_as": "user"}}})
    assert response.status_code == 400
    error = error_of(response)
    assert error["source"] == {"pointer": "/data/attributes/recipient_email"}
    assert "required" in error["detail"]


def test_organization_role_is_refused_for_an_account_list_invite(mpdx):
    response = send(mpdx, "POST", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent), {
        "data": {"type": "account_list_invites",
                 "attributes": {"recipient_email": "a@example.com", "invite_user_as": "admin"}}})
    assert response.status_code == 400
    assert error_of(response)["source"] == {"pointer": "/data/attributes/invite_user_as"}


@KINDS
def test_wrong_resource_type_is_409_with_the_documented_message(mpdx, kind):
    response = send(mpdx, "POST", kind.invites(kind.create_parent),
                    {"data": {"type": "users", "attributes": {"recipient_email": "a@example.com"}}})
    assert response.status_code == 409
    assert error_of(response)["detail"] == (
        f"'users' is not a valid resource type for this endpoint. Expected '{kind.resource_type}' instead"
    )


def test_missing_resource_type_is_409(mpdx):
    response = send(mpdx, "POST", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent),
                    {"data": {"attributes": {"recipient_email": "a@example.com"}}})
    assert response.status_code == 409
    assert error_of(response)["source"] == {"pointer": "/data/type"}


def test_plain_json_content_type_is_415(mpdx):
    response = mpdx.post(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent),
                         json={"data": {"type": "account_list_invites", "attributes": {"recipient_email": "a@b.c"}}})
    assert response.status_code == 415
    assert error_of(response)["title"] == "Unsupported Media Type"


def test_jsonapi_content_type_with_charset_is_accepted(mpdx):
    response = send(mpdx, "POST", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent),
                    {"data": {"type": "account_list_invites", "attributes": {"recipient_email": "a@b.c"}}},
                    headers={"Content-Type": "application/vnd.api+json; charset=utf-8"})
    assert response.status_code == 201


@pytest.mark.parametrize("body", [b"{not json", b'{"data": ', b"\xff\xfe{}", b"[" * 100_000],
                         ids=["malformed", "truncated", "invalid-utf8", "deeply-nested"])
def test_unreadable_body_is_400_and_stores_nothing(mpdx, body):
    parent = str(uuid.uuid4())
    response = mpdx.post(ACCOUNT_LISTS.invites(parent), content=body, headers={"Content-Type": JSONAPI})
    assert response.status_code == 400
    assert error_of(response)["title"] == "Bad Request"
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent) == []


def test_rejected_create_stores_nothing(mpdx):
    parent = str(uuid.uuid4())
    send(mpdx, "POST", ACCOUNT_LISTS.invites(parent), {"data": {"type": "users", "attributes": {}}})
    send(mpdx, "POST", ACCOUNT_LISTS.invites(parent), {"data": {"type": "account_list_invites", "attributes": {}}})
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent) == []


# --- list ------------------------------------------------------------------------------------------------


@KINDS
def test_list_shows_only_the_active_invites_of_that_parent(mpdx, kind):
    parent, other = str(uuid.uuid4()), str(uuid.uuid4())
    active, cancelled, accepted = (create(mpdx, kind, parent) for _ in range(3))
    create(mpdx, kind, other)
    assert send(mpdx, "DELETE", kind.invite(parent, cancelled["id"])).status_code == 204
    assert accept(mpdx, kind, parent, accepted["id"], accepted["attributes"]["code"]).status_code == 200
    assert listed_ids(mpdx, kind, parent) == [active["id"]]


def test_list_filters_by_invite_user_as_and_echoes_the_filter(mpdx):
    parent = str(uuid.uuid4())
    create(mpdx, ACCOUNT_LISTS, parent, invite_user_as="user")
    coach = create(mpdx, ACCOUNT_LISTS, parent, invite_user_as="coach")
    response = mpdx.get(ACCOUNT_LISTS.invites(parent), params={"filter[invite_user_as]": "coach"})
    assert [item["id"] for item in response.json()["data"]] == [coach["id"]]
    assert response.json()["meta"]["filter"] == {"invite_user_as": "coach"}
    assert response.json()["meta"]["pagination"]["total_count"] == 1


def test_filter_value_outside_the_roles_is_400(mpdx):
    response = mpdx.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent),
                        params={"filter[invite_user_as]": "admin"})
    assert response.status_code == 400
    assert error_of(response)["source"] == {"parameter": "filter"}


def test_list_paginates_with_documented_meta(mpdx):
    parent = str(uuid.uuid4())
    ids = [create(mpdx, ACCOUNT_LISTS, parent)["id"] for _ in range(5)]
    response = mpdx.get(ACCOUNT_LISTS.invites(parent), params={"page": 2, "per_page": 2})
    assert [item["id"] for item in response.json()["data"]] == ids[2:4]
    assert response.json()["meta"] == {
        "pagination": {"page": 2, "per_page": 2, "total_count": 5, "total_pages": 3},
        "sort": None,
        "filter": {},
    }


def test_page_after_the_last_is_empty_with_true_totals(mpdx):
    parent = str(uuid.uuid4())
    create(mpdx, ACCOUNT_LISTS, parent)
    response = mpdx.get(ACCOUNT_LISTS.invites(parent), params={"page": 3})
    assert response.json()["data"] == []
    assert response.json()["meta"]["pagination"] == {"page": 3, "per_page": 25, "total_count": 1, "total_pages": 1}


def test_list_of_a_new_parent_is_empty(mpdx):
    response = mpdx.get(ORGANIZATIONS.invites(str(uuid.uuid4())))
    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"]["pagination"]["total_pages"] == 0


def test_list_is_oldest_first_by_default_and_newest_first_with_minus_created_at(mpdx):
    parent = str(uuid.uuid4())
    old = create(mpdx, ACCOUNT_LISTS, parent, created_at="2020-01-01T00:00:00Z")["id"]
    new = create(mpdx, ACCOUNT_LISTS, parent, created_at="2021-01-01T00:00:00Z")["id"]
    older = create(mpdx, ACCOUNT_LISTS, parent, created_at="2019-01-01T00:00:00Z")["id"]
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent) == [older, old, new]
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent, sort="-created_at") == [new, old, older]
    assert mpdx.get(ACCOUNT_LISTS.invites(parent), params={"sort": "-created_at"}).json()["meta"]["sort"] == "-created_at"


def test_list_sorts_by_updated_at(mpdx):
    parent = str(uuid.uuid4())
    later = create(mpdx, ACCOUNT_LISTS, parent, updated_at="2023-01-01T00:00:00Z", created_at="2019-01-01T00:00:00Z")
    sooner = create(mpdx, ACCOUNT_LISTS, parent, updated_at="2022-01-01T00:00:00Z", created_at="2020-01-01T00:00:00Z")
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent, sort="updated_at") == [sooner["id"], later["id"]]


@pytest.mark.parametrize("sort", ["name", "created_at,updated_at", "+created_at"])
def test_unsupported_sort_is_400_naming_the_parameter(mpdx, sort):
    response = mpdx.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent), params={"sort": sort})
    assert response.status_code == 400
    assert error_of(response)["source"] == {"parameter": "sort"}


@pytest.mark.parametrize("params", [{"page": 0}, {"per_page": 0}, {"page": "two"}])
def test_invalid_page_parameters_are_400(mpdx, params):
    response = mpdx.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent), params=params)
    assert response.status_code == 400
    assert error_of(response)["source"] == {"parameter": next(iter(params))}


def test_malformed_parent_id_is_404(mpdx):
    response = mpdx.get(ACCOUNT_LISTS.invites("not-a-uuid"))
    assert response.status_code == 404
    assert error_of(response)["title"] == "Not Found"


# --- get, delete -----------------------------------------------------------------------------------------


@KINDS
def test_invite_of_another_parent_is_not_found(mpdx, kind):
    invite = create(mpdx, kind)
    response = mpdx.get(kind.invite(str(uuid.uuid4()), invite["id"]))
    assert response.status_code == 404
    assert error_of(response)["detail"].endswith(invite["id"])


def test_unknown_invite_is_404(mpdx):
    assert mpdx.get(ACCOUNT_LISTS.invite(ACCOUNT_LISTS.fetched_parent, str(uuid.uuid4()))).status_code == 404


@KINDS
def test_cancelled_invite_leaves_the_list_but_can_still_be_fetched(mpdx, kind):
    parent = str(uuid.uuid4())
    invite = create(mpdx, kind, parent)
    assert send(mpdx, "DELETE", kind.invite(parent, invite["id"])).status_code == 204
    assert listed_ids(mpdx, kind, parent) == []
    fetched = mpdx.get(kind.invite(parent, invite["id"])).json()["data"]
    assert fetched["relationships"]["cancelled_by_user"]["data"]["id"] == ME


def test_cancelling_twice_keeps_the_first_canceller(serve):
    alice = serve("mpdx", headers={"Authorization": "Bearer alice"})
    bob = serve("mpdx", app=alice.app, headers={"Authorization": "Bearer bob"})
    parent = str(uuid.uuid4())
    invite = create(alice, ACCOUNT_LISTS, parent)
    assert send(alice, "DELETE", ACCOUNT_LISTS.invite(parent, invite["id"])).status_code == 204
    assert send(bob, "DELETE", ACCOUNT_LISTS.invite(parent, invite["id"])).status_code == 204
    fetched = alice.get(ACCOUNT_LISTS.invite(parent, invite["id"])).json()["data"]
    assert fetched["relationships"]["cancelled_by_user"]["data"]["id"] == caller_id("alice")


def test_deleting_an_invite_of_another_parent_is_404_and_keeps_it_active(mpdx):
    parent = str(uuid.uuid4())
    invite = create(mpdx, ACCOUNT_LISTS, parent)
    assert send(mpdx, "DELETE", ACCOUNT_LISTS.invite(str(uuid.uuid4()), invite["id"])).status_code == 404
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent) == [invite["id"]]


# --- accept ----------------------------------------------------------------------------------------------


@KINDS
def test_accepting_with_the_code_sets_accepted_at_and_the_accepting_user(mpdx, kind):
    parent = str(uuid.uuid4())
    invite = create(mpdx, kind, parent)
    response = accept(mpdx, kind, parent, invite["id"], invite["attributes"]["code"])
    assert response.status_code == 200
    data = response.json()["data"]
    assert ISO_UTC.match(data["attributes"]["accepted_at"])
    assert data["relationships"]["accepted_by_user"]["data"] == {"id": ME, "type": "users"}
    assert listed_ids(mpdx, kind, parent) == []
    assert mpdx.get(kind.invite(parent, invite["id"])).json()["data"] == data


@pytest.mark.parametrize("code", [..., None, "", "   "], ids=["missing", "null", "empty", "blank"])
def test_blank_code_is_400_cannot_be_blank(mpdx, code):
    invite = create(mpdx, ACCOUNT_LISTS)
    response = accept(mpdx, ACCOUNT_LISTS, ACCOUNT_LISTS.create_parent, invite["id"], code)
    assert response.status_code == 400
    error = error_of(response)
    assert error["detail"] == "'data/attributes/code' cannot be blank"
    assert error["source"] == {"pointer": "/data/attributes/code"}


def test_wrong_code_is_400_invalid_and_leaves_the_invite_active(mpdx):
    parent = str(uuid.uuid4())
    invite = create(mpdx, ACCOUNT_LISTS, parent)
    response = accept(mpdx, ACCOUNT_LISTS, parent, invite["id"], "0" * 64)
    assert response.status_code == 400
    assert error_of(response)["detail"] == "'data/attributes/code' is invalid"
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent) == [invite["id"]]


def test_accepting_under_another_parent_is_404(mpdx):
    invite = create(mpdx, ORGANIZATIONS)
    response = accept(mpdx, ORGANIZATIONS, str(uuid.uuid4()), invite["id"], invite["attributes"]["code"])
    assert response.status_code == 404


def test_accepting_a_cancelled_invite_is_410(mpdx):
    parent = str(uuid.uuid4())
    invite = create(mpdx, ACCOUNT_LISTS, parent)
    send(mpdx, "DELETE", ACCOUNT_LISTS.invite(parent, invite["id"]))
    response = accept(mpdx, ACCOUNT_LISTS, parent, invite["id"], invite["attributes"]["code"])
    assert response.status_code == 410
    assert error_of(response)["title"] == "Gone"


def test_accepting_again_as_the_same_user_is_200_and_changes_nothing(mpdx):
    parent = str(uuid.uuid4())
    invite = create(mpdx, ACCOUNT_LISTS, parent)
    first = accept(mpdx, ACCOUNT_LISTS, parent, invite["id"], invite["attributes"]["code"]).json()
    again = accept(mpdx, ACCOUNT_LISTS, parent, invite["id"], invite["attributes"]["code"])
    assert again.status_code == 200
    assert again.json() == first


def test_accepting_what_another_user_accepted_is_410(serve):
    alice = serve("mpdx", headers={"Authorization": "Bearer alice"})
    bob = serve("mpdx", app=alice.app, headers={"Authorization": "Bearer bob"})
    parent = str(uuid.uuid4())
    invite = create(alice, ORGANIZATIONS, parent)
    assert accept(alice, ORGANIZATIONS, parent, invite["id"], invite["attributes"]["code"]).status_code == 200
    response = accept(bob, ORGANIZATIONS, parent, invite["id"], invite["attributes"]["code"])
    assert response.status_code == 410
    fetched = alice.get(ORGANIZATIONS.invite(parent, invite["id"])).json()["data"]
    assert fetched["relationships"]["accepted_by_user"]["data"]["id"] == caller_id("alice")


def test_accept_with_the_wrong_resource_type_is_409(mpdx):
    invite = create(mpdx, ACCOUNT_LISTS)
    response = send(mpdx, "PUT", ACCOUNT_LISTS.invite(ACCOUNT_LISTS.create_parent, invite["id"]) + "/accept",
                    {"data": {"type": "organization_invites", "attributes": {"code": invite["attributes"]["code"]}}})
    assert response.status_code == 409


# --- credentials, negotiation, Prefer --------------------------------------------------------------------

OPERATIONS = [
    ("GET", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent)),
    ("POST", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent)),
    ("GET", ACCOUNT_LISTS.invite(ACCOUNT_LISTS.fetched_parent, ACCOUNT_LISTS.fetched_invite)),
    ("DELETE", ACCOUNT_LISTS.invite(ACCOUNT_LISTS.delete_parent, ACCOUNT_LISTS.delete_invite)),
    ("PUT", ACCOUNT_LISTS.invite(ACCOUNT_LISTS.accept_parent, ACCOUNT_LISTS.accept_invite) + "/accept"),
    ("GET", ORGANIZATIONS.invites(ORGANIZATIONS.listed_parent)),
    ("POST", ORGANIZATIONS.invites(ORGANIZATIONS.create_parent)),
    ("GET", ORGANIZATIONS.invite(ORGANIZATIONS.fetched_parent, ORGANIZATIONS.fetched_invite)),
    ("DELETE", ORGANIZATIONS.invite(ORGANIZATIONS.delete_parent, ORGANIZATIONS.delete_invite)),
    ("PUT", ORGANIZATIONS.invite(ORGANIZATIONS.accept_parent, ORGANIZATIONS.accept_invite) + "/accept"),
]


@pytest.mark.parametrize(("method", "url"), OPERATIONS)
def test_every_operation_without_a_token_is_401_in_jsonapi_format(serve, method, url):
    client = serve("mpdx", credentials=False)
    response = send(client, method, url, {"data": {"type": "x"}} if method in ("POST", "PUT") else None)
    assert response.status_code == 401
    assert error_of(response)["title"] == "Unauthorized"


def test_access_token_query_parameter_authenticates(serve):
    client = serve("mpdx", credentials=False)
    response = client.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent), params={"access_token": "jwt"})
    assert response.status_code == 200


def test_only_listed_tokens_are_accepted_when_tokens_are_configured(serve):
    client = serve("mpdx", tokens=frozenset({"good"}), headers={"Authorization": "Bearer bad"})
    assert client.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent)).status_code == 401
    good = serve("mpdx", app=client.app, headers={"Authorization": "Bearer good"})
    assert good.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent)).status_code == 200


def test_accept_header_without_jsonapi_is_406(mpdx):
    response = mpdx.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent), headers={"Accept": "application/xml"})
    assert response.status_code == 406


@pytest.mark.parametrize("accept_header", ["*/*", "application/vnd.api+json", "text/html, application/*;q=0.8"])
def test_accept_header_allowing_jsonapi_is_fine(mpdx, accept_header):
    response = mpdx.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent), headers={"Accept": accept_header})
    assert response.status_code == 200


def test_prefer_code_returns_the_documented_answer_without_creating_anything(mpdx):
    parent = str(uuid.uuid4())
    response = send(mpdx, "POST", ACCOUNT_LISTS.invites(parent),
                    {"data": {"type": "account_list_invites", "attributes": {"recipient_email": "a@b.c"}}},
                    headers={"Prefer": "code=201"})
    assert response.status_code == 201
    assert response.json() == documented("create_account_list_invite")
    assert listed_ids(mpdx, ACCOUNT_LISTS, parent) == []


def test_prefer_example_picks_a_named_error_example(mpdx):
    response = send(mpdx, "PUT", ACCOUNT_LISTS.invite(ACCOUNT_LISTS.accept_parent, ACCOUNT_LISTS.accept_invite) + "/accept",
                    {"data": {"type": "account_list_invites", "attributes": {"code": "abc"}}},
                    headers={"Prefer": "code=410, example=accepted_by_another_user"})
    assert response.status_code == 410
    assert "another user" in error_of(response)["detail"]
    # the documented invite was not accepted by that request
    assert accept(mpdx, ACCOUNT_LISTS, ACCOUNT_LISTS.accept_parent, ACCOUNT_LISTS.accept_invite, "abc").status_code == 200


def test_prefer_an_undocumented_code_is_400(mpdx):
    response = mpdx.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent), headers={"Prefer": "code=418"})
    assert response.status_code == 400
    assert "418" in error_of(response)["detail"]


# --- media types -------------------------------------------------------------------------------------------


def test_answers_are_jsonapi_with_the_documented_utf8_charset(mpdx):
    response = mpdx.get(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent))
    assert response.headers["content-type"] == "application/vnd.api+json; charset=utf-8"


def test_error_answers_are_jsonapi_too(mpdx):
    response = mpdx.get(ACCOUNT_LISTS.invite(ACCOUNT_LISTS.listed_parent, str(uuid.uuid4())))
    assert response.headers["content-type"] == "application/vnd.api+json; charset=utf-8"


def test_a_cancel_answer_has_no_body_and_no_content_type(mpdx):
    response = send(mpdx, "DELETE", ACCOUNT_LISTS.invite(ACCOUNT_LISTS.delete_parent, ACCOUNT_LISTS.delete_invite))
    assert response.status_code == 204
    assert "content-type" not in response.headers


def test_jsonapi_media_type_parameters_such_as_ext_are_tolerated(mpdx):
    response = send(mpdx, "POST", ACCOUNT_LISTS.invites(ACCOUNT_LISTS.create_parent),
                    {"data": {"type": "account_list_invites", "attributes": {"recipient_email": "a@b.c"}}},
                    headers={"Content-Type": 'application/vnd.api+json; ext="https://jsonapi.org/ext/atomic"'})
    assert response.status_code == 201


def test_interactive_docs_and_the_spec_are_served(mpdx):
    assert mpdx.get("/ui/").headers["content-type"].startswith("text/html")
    spec = mpdx.get("/openapi.json").json()
    assert spec["paths"].keys() == APIS["mpdx"].spec["paths"].keys()


def test_a_path_no_route_can_match_is_404_in_jsonapi_format(mpdx):
    response = mpdx.delete(ACCOUNT_LISTS.invites(ACCOUNT_LISTS.listed_parent) + "/0%0Aid")
    assert response.status_code == 404
    assert error_of(response)["title"] == "Not Found"


def test_a_client_timestamp_past_the_end_of_its_month_rolls_over(mpdx):
    attributes = create(mpdx, ACCOUNT_LISTS, created_at="2022-02-31T07:27:52Z")["attributes"]
    assert attributes["created_at"] == "2022-03-03T07:27:52Z"
