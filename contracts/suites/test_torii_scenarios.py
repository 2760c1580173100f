"""Torii custom integrations: the explicit contract scenarios.

* ``examples``: the documented uploads, the file read-back and the sync are sent (on files this test
  uploaded) and the answers must carry the documented status, content type, schema and values.
* ``edge``: invalid sync bodies, upload forms, file ids, media types and credentials get the documented
  4xx in Torii's error format (``{"statusCode", "error", "message"}``); valid variants are accepted.
* ``stateful``: an uploaded data file can be synced and read back; a file that cannot be synced is refused
  with a 400 whose message names the problem; an unknown file is a 404.
* ``rules``: a second sync while one runs is a 409; going over the rate limit is a 429 with ``Retry-After``
  and the ``X-Rate-Limit-*`` headers. They cost quota on a real service: ``--exclude rules`` skips them.
"""

from __future__ import annotations

import copy
import json
import re
import time
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from contracts.client import ContractClient
from mockserver.specs import APIS, find_route, request_example, request_example_names, resolve, response_example

API = "torii"
SPEC = APIS[API].spec
DATA_FILE = "customIntegrationData"
MAX_FILE_BYTES = 3 * 1024 * 1024
RATE_LIMIT_PROBES = 250
"""The rate-limit rule sends at most this many requests (the documented limit is 200 a minute)."""
BUSY_WAIT_SECONDS = 15.0
"""How long a sync that must succeed waits for a sync of another test to end, on a real service."""
UNKNOWN_FILE = 2_147_483_647


# --- the spec and requests ----------------------------------------------------------------------------------------


def _example(name: str) -> Any:
    return SPEC["components"]["examples"][name]["value"]


def call(client: ContractClient, operation_id: str, *, file_id: Any = None,
         headers: dict[str, str | None] | None = None, **kwargs: Any) -> httpx.Response:
    """One request to an operation; ``headers`` change the client's own (``None`` leaves one out)."""
    method, template, _ = find_route(SPEC, operation_id)
    return client.send(method, template.format(id=file_id), headers=headers, **kwargs)


def upload_request(client: ContractClient, content: bytes | str, file_type: str | None = DATA_FILE,
                   file_name: str | None = "data.json", **options: Any) -> httpx.Response:
    """``POST /files/upload`` as a multipart form: ``file`` as a file part, ``type`` as a field."""
    parts: dict[str, Any] = {}
    if file_name is not None:
        parts["file"] = (file_name, content.encode() if isinstance(content, str) else content,
                         "application/octet-stream")
    if file_type is not None:
        parts["type"] = (None, file_type)
    return call(client, "upload_file", files=parts, **options)


def upload(client: ContractClient, content: bytes | str | dict, file_type: str = DATA_FILE,
           file_name: str = "data.json") -> int:
    """Upload a file (a dict goes as JSON) and return its id, after checking the documented answer."""
    if isinstance(content, dict):
        content = json.dumps(content)
    body = client.expect(upload_request(client, content, file_type, file_name), "upload_file", 200)
    return body["id"]


def sync_request(client: ContractClient, body: Any, **options: Any) -> httpx.Response:
    return call(client, "sync_custom_integration", json=body, **options)


def sync(client: ContractClient, file_id: int, app_account: int = 1) -> httpx.Response:
    """A sync that the contract says must be accepted, once no other sync runs (bounded wait on a real service).

    Every test has a mock session of its own, so on the embedded mock nothing else is ever running.
    """
    deadline = time.monotonic() + (0 if client.target.embedded else BUSY_WAIT_SECONDS)
    while True:
        response = sync_request(client, {"idFile": file_id, "idAppAccount": app_account})
        if response.status_code != 409 or time.monotonic() >= deadline:
            return response
        time.sleep(1)


def fetch(client: ContractClient, file_id: int) -> tuple[dict[str, Any], httpx.Response]:
    response = call(client, "get_file", file_id=file_id)
    return client.expect(response, "get_file", 200)["file"], response


def valid_data_file() -> dict[str, Any]:
    return copy.deepcopy(_example("CustomIntegrationDataFile"))


def unix_time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def message_of(response: httpx.Response) -> str:
    return response.json().get("message", "")


def refused(client: ContractClient, content: bytes | str | dict,
            file_type: str = DATA_FILE) -> tuple[str, httpx.Response]:
    """Upload ``content`` and sync it: the 400's message, after checking the answer is Torii's documented 400."""
    file_id = upload(client, content, file_type)
    response = sync(client, file_id)
    client.expect_error(response, "sync_custom_integration", 400)
    return message_of(response), response


# --- 1. examples -----------------------------------------------------------------------------------------------


@pytest.mark.examples
@pytest.mark.parametrize("example", request_example_names(API, "upload_file"))
def test_documented_upload_answers_the_file_id(client, example):
    """POST each documented upload form: 200 with the new file's integer id, readable with its type."""
    form = request_example(API, "upload_file", example)
    response = upload_request(client, form["file"], form["type"], f"{example}.txt")
    body = client.expect(response, "upload_file", 200)
    client.require(set(body) == set(response_example(API, "upload_file", 200)), response, "upload_file",
                   "the documented answer's fields only ({'id': <integer>})")
    data, response = fetch(client, body["id"])
    client.require(data["id"] == body["id"] and data["type"] == form["type"], response, "get_file",
                   f"the uploaded file with id {body['id']} and type {form['type']!r}")


@pytest.mark.examples
def test_documented_get_file_answers_what_was_recorded(client):
    """GET a file uploaded as the documented example was: its id, type, file name and when it came."""
    documented = response_example(API, "get_file", 200, "custom_integration_data_file")["file"]
    form = request_example(API, "upload_file", "custom_integration_data")
    started = time.time()
    file_id = upload(client, form["file"], form["type"], documented["fileName"])
    data, response = fetch(client, file_id)
    client.require(data["id"] == file_id, response, "get_file", f"file.id {file_id}")
    client.require(data["type"] == documented["type"], response, "get_file", f"file.type {documented['type']!r}")
    client.require(data["fileName"] == documented["fileName"], response, "get_file",
                   f"file.fileName {documented['fileName']!r}, the name it was uploaded with")
    created = unix_time(data["creationTime"])
    client.require(started - 300 <= created <= time.time() + 300, response, "get_file",
                   "file.creationTime to be when the file was uploaded")
    client.require("content" not in data and set(data) >= set(documented), response, "get_file",
                   f"the documented fields ({', '.join(documented)}) and not the file's content")


@pytest.mark.examples
@pytest.mark.parametrize("example", request_example_names(API, "sync_custom_integration"))
def test_documented_sync_answers_success(client, example):
    """PUT the documented sync body (with a data file this test uploaded): 200 ``{"success": true}``."""
    form = request_example(API, "upload_file", "custom_integration_data")
    body = dict(request_example(API, "sync_custom_integration", example))
    body["idFile"] = upload(client, form["file"], form["type"])
    response = sync_request(client, body)
    answer = client.expect(response, "sync_custom_integration", 200)
    documented = response_example(API, "sync_custom_integration", 200)
    client.require(answer == documented, response, "sync_custom_integration", f"exactly {documented}")


# --- 2. edge cases ---------------------------------------------------------------------------------------------

OPERATIONS = ["sync_custom_integration", "upload_file", "get_file"]

INVALID_SYNC_BODIES = {
    "missing-idFile": ({"idAppAccount": 1}, "idFile"),
    "missing-idAppAccount": ({"idFile": "FILE"}, "idAppAccount"),
    "idFile-not-a-number": ({"idFile": "first", "idAppAccount": 1}, "idFile"),
    "idAppAccount-not-a-number": ({"idFile": "FILE", "idAppAccount": "main"}, "idAppAccount"),
    "idFile-fraction": ({"idFile": 1.5, "idAppAccount": 1}, "idFile"),
    "idFile-zero": ({"idFile": 0, "idAppAccount": 1}, "idFile"),
    "idAppAccount-negative": ({"idFile": "FILE", "idAppAccount": -1}, "idAppAccount"),
    "idFile-null": ({"idFile": None, "idAppAccount": 1}, "idFile"),
}


@pytest.mark.edge
@pytest.mark.parametrize("case", INVALID_SYNC_BODIES)
def test_an_invalid_sync_body_is_a_bad_request_naming_the_field(client, case):
    file_id = upload(client, valid_data_file())
    template, field = INVALID_SYNC_BODIES[case]
    body = {name: file_id if value == "FILE" else value for name, value in template.items()}
    response = sync_request(client, body)
    client.expect_error(response, "sync_custom_integration", 400)
    client.require(field in message_of(response), response, "sync_custom_integration",
                   f"a message naming {field!r}")


@pytest.mark.edge
@pytest.mark.parametrize("content", [b'{"idFile": 1000, ', b"idFile=1000&idAppAccount=1", b"\xff\xfe{}", b"",
                                     b"[]", b"null"],
                         ids=["truncated", "form-text", "not-utf8", "empty", "array", "null"])
def test_a_sync_body_that_is_not_a_json_object_is_a_bad_request(client, content):
    response = call(client, "sync_custom_integration", content=content, headers={"Content-Type": "application/json"})
    client.expect_error(response, "sync_custom_integration", 400)


@pytest.mark.edge
@pytest.mark.parametrize("media_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_a_sync_body_that_is_not_json_is_an_unsupported_media_type(client, media_type):
    file_id = upload(client, valid_data_file())
    response = call(client, "sync_custom_integration", content=json.dumps({"idFile": file_id, "idAppAccount": 1}),
                    headers={"Content-Type": media_type})
    client.expect_error(response, "sync_custom_integration", 415)


@pytest.mark.edge
def test_a_sync_body_in_json_with_a_charset_is_accepted(client):
    file_id = upload(client, valid_data_file())
    response = call(client, "sync_custom_integration", content=json.dumps({"idFile": file_id, "idAppAccount": 1}),
                    headers={"Content-Type": "application/json; charset=utf-8"})
    client.require(client.expect(response, "sync_custom_integration", 200) == {"success": True}, response,
                   "sync_custom_integration", '{"success": true}')


@pytest.mark.edge
@pytest.mark.parametrize("case", ["missing-file", "missing-type", "type-outside-enum", "type-empty"])
def test_an_invalid_upload_form_is_a_bad_request_naming_the_field(client, case):
    content = json.dumps(valid_data_file())
    if case == "missing-file":
        response, field = upload_request(client, content, DATA_FILE, None), "file"
    elif case == "missing-type":
        response, field = upload_request(client, content, None), "type"
    else:
        response, field = upload_request(client, content, "spreadsheet" if case == "type-outside-enum" else ""), "type"
    client.expect_error(response, "upload_file", 400)
    client.require(field in message_of(response), response, "upload_file", f"a message naming {field!r}")


@pytest.mark.edge
@pytest.mark.parametrize("media_type", ["application/json", "application/x-www-form-urlencoded", "text/plain"])
def test_an_upload_that_is_not_multipart_is_an_unsupported_media_type(client, media_type):
    content = json.dumps({"type": DATA_FILE, "file": json.dumps(valid_data_file())})
    response = call(client, "upload_file", content=content, headers={"Content-Type": media_type})
    client.expect_error(response, "upload_file", 415)


@pytest.mark.edge
def test_a_file_over_3_mb_is_too_large(client):
    response = upload_request(client, b"x" * (MAX_FILE_BYTES + 1), "attachment", "big.bin")
    client.expect_error(response, "upload_file", 413)


@pytest.mark.edge
@pytest.mark.parametrize("file_type", resolve(SPEC, SPEC["components"]["schemas"]["FileType"])["enum"])
def test_every_file_type_is_accepted(client, file_type):
    file_id = upload(client, b"%PDF-1.4 binary \x00\x01\xff content", file_type, f"file-of-{file_type}.bin")
    data, response = fetch(client, file_id)
    client.require(data["type"] == file_type and data["fileName"] == f"file-of-{file_type}.bin", response,
                   "get_file", f"type {file_type!r} and the file name kept")


@pytest.mark.edge
@pytest.mark.parametrize("file_id", [0, -3])
def test_a_file_id_below_one_is_a_bad_request(client, file_id):
    response = call(client, "get_file", file_id=file_id)
    client.expect_error(response, "get_file", 400)


@pytest.mark.edge
@pytest.mark.parametrize("file_id", ["abc", "1.5"])
def test_a_file_id_that_is_not_an_integer_is_not_found(client, file_id):
    response = call(client, "get_file", file_id=file_id)
    client.expect_error(response, "get_file", 404)


def _send_valid(client: ContractClient, operation_id: str, headers: dict[str, str | None]) -> httpx.Response:
    if operation_id == "upload_file":
        return upload_request(client, json.dumps(valid_data_file()), headers=headers)
    file_id = upload(client, valid_data_file())
    if operation_id == "get_file":
        return call(client, "get_file", file_id=file_id, headers=headers)
    return sync_request(client, {"idFile": file_id, "idAppAccount": 1}, headers=headers)


@pytest.mark.edge
@pytest.mark.parametrize("operation_id", OPERATIONS)
@pytest.mark.parametrize("authorization", [None, "Bearer", "Basic dXNlcjpwYXNz"], ids=["missing", "no-key", "basic"])
def test_missing_credentials_are_unauthorized(client, operation_id, authorization):
    response = _send_valid(client, operation_id, {"Authorization": authorization})
    client.expect_error(response, operation_id, 401)


@pytest.mark.edge
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_invalid_credentials_are_unauthorized(client, operation_id):
    response = _send_valid(client, operation_id, {"Authorization": f"Bearer invalid-{uuid.uuid4().hex}"})
    client.expect_error(response, operation_id, 401)


# --- 3. stateful scenarios -------------------------------------------------------------------------------------


@pytest.mark.stateful
def test_an_uploaded_data_file_can_be_synced(client):
    file_id = upload(client, valid_data_file())
    response = sync(client, file_id)
    answer = client.expect(response, "sync_custom_integration", 200)
    client.require(answer == {"success": True}, response, "sync_custom_integration", '{"success": true}')


@pytest.mark.stateful
def test_a_minimal_data_file_can_be_synced(client):
    file_id = upload(client, {"users": [{"email": "only@example.com"}]})
    response = sync(client, file_id)
    client.require(client.expect(response, "sync_custom_integration", 200) == {"success": True}, response,
                   "sync_custom_integration", '{"success": true} for a file with one user and nothing else')


@pytest.mark.stateful
@pytest.mark.parametrize("file_type", [DATA_FILE, "expenseReport"])
def test_an_uploaded_file_shows_its_type_and_name(client, file_type):
    name = f"upload-{uuid.uuid4().hex[:6]}.json"
    file_id = upload(client, valid_data_file(), file_type, name)
    data, response = fetch(client, file_id)
    client.require(data["id"] == file_id and data["type"] == file_type and data["fileName"] == name, response,
                   "get_file", f"id {file_id}, type {file_type!r} and fileName {name!r} as uploaded")
    again, response = fetch(client, file_id)
    client.require(again == data, response, "get_file", "the same record on every read")


@pytest.mark.stateful
def test_uploads_get_distinct_ids(client):
    made = [upload(client, valid_data_file()) for _ in range(3)]
    response = call(client, "get_file", file_id=made[-1])
    client.require(len(set(made)) == 3, response, "upload_file", f"three uploads, three ids (got {made})")


@pytest.mark.stateful
def test_a_file_that_is_not_json_is_refused_with_the_parse_position(client):
    published = _example("CustomIntegrationDataFileAsPublished")
    message, response = refused(client, published)
    position = re.search(r"line\W*1\b.*column\W*22\b", message, re.IGNORECASE | re.DOTALL)
    client.require(bool(position) and "json" in message.lower(), response, "sync_custom_integration",
                   "a message naming the JSON parse error and where: line 1, column 22 of the vendor's sample")
    broken = '{\n  "users": [\n    {"email": "a@example.com",}\n  ]\n}'
    message, response = refused(client, broken)
    client.require(bool(re.search(r"line\W*3\b", message, re.IGNORECASE)), response, "sync_custom_integration",
                   "a message naming line 3, where the JSON breaks")


@pytest.mark.stateful
@pytest.mark.parametrize("place", ["users[1].email", "licenses[0].users[0].email"])
def test_an_entry_without_email_is_refused_naming_it(client, place):
    document = valid_data_file()
    if place.startswith("users"):
        del document["users"][1]["email"]
    else:
        del document["licenses"][0]["users"][0]["email"]
    message, response = refused(client, document)
    client.require(place in message, response, "sync_custom_integration", f"a message naming {place!r}")


@pytest.mark.stateful
@pytest.mark.parametrize("place, change", [
    ("users[0].status", {"status": "suspended"}),
    ("users[0].roles", {"roles": "Admin"}),
    ("users[0].lastUsedDate", {"lastUsedDate": "last week"}),
], ids=["status-outside-enum", "roles-not-a-list", "date-not-iso"])
def test_a_user_with_an_invalid_field_is_refused_naming_it(client, place, change):
    document = valid_data_file()
    document["users"][0].update(change)
    message, response = refused(client, document)
    client.require(place in message, response, "sync_custom_integration", f"a message naming {place!r}")


@pytest.mark.stateful
@pytest.mark.parametrize("document", [{"users": []}, {"licenses": []}, [], {"users": "adam@example.com"}],
                         ids=["empty-users", "no-users", "not-an-object", "users-not-a-list"])
def test_a_file_without_users_is_refused(client, document):
    message, response = refused(client, json.dumps(document))
    client.require("users" in message or "object" in message.lower(), response, "sync_custom_integration",
                   "a message naming 'users'")


@pytest.mark.stateful
@pytest.mark.parametrize("file_type", ["expenseReport", "attachment"])
def test_a_file_of_another_type_is_refused(client, file_type):
    message, response = refused(client, valid_data_file(), file_type)
    client.require(DATA_FILE in message or file_type in message, response, "sync_custom_integration",
                   f"a message naming the file's type ({file_type!r}) or the one expected ({DATA_FILE!r})")


@pytest.mark.stateful
def test_a_refused_file_does_not_start_a_sync(client):
    bad = upload(client, {"users": []})
    client.expect_error(sync(client, bad), "sync_custom_integration", 400)
    response = sync(client, upload(client, valid_data_file()))
    client.expect(response, "sync_custom_integration", 200)


@pytest.mark.stateful
@pytest.mark.parametrize("operation_id", ["get_file", "sync_custom_integration"])
def test_an_unknown_file_is_not_found(client, operation_id):
    if operation_id == "get_file":
        response = call(client, "get_file", file_id=UNKNOWN_FILE)
    else:
        response = sync_request(client, {"idFile": UNKNOWN_FILE, "idAppAccount": 1})
    client.expect_error(response, operation_id, 404)


# --- 4. rules ------------------------------------------------------------------------------------------------------


@pytest.mark.rules
def test_a_second_sync_while_one_runs_is_a_conflict(client):
    first, second = upload(client, valid_data_file()), upload(client, valid_data_file())
    response = sync(client, first)
    client.expect(response, "sync_custom_integration", 200)
    response = sync_request(client, {"idFile": second, "idAppAccount": 1})
    client.expect_error(response, "sync_custom_integration", 409)
    response = sync_request(client, {"idFile": first, "idAppAccount": 1})
    client.expect_error(response, "sync_custom_integration", 409)


def _header_int(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


@pytest.mark.rules
def test_exceeding_the_rate_limit_is_too_many_requests(client):
    file_id = upload(client, {"users": [{"email": "rate@example.com"}]})
    passed, previous, response = 0, None, None
    for _ in range(RATE_LIMIT_PROBES):
        response = call(client, "get_file", file_id=file_id)
        if response.status_code == 429:
            break
        client.expect(response, "get_file", 200)
        passed += 1
        remaining = _header_int(response, "X-Rate-Limit-Remaining")
        if remaining is not None and previous is not None:
            client.require(remaining < previous, response, "get_file",
                           f"X-Rate-Limit-Remaining to go down with each request (was {previous})")
        previous = remaining
    assert response is not None
    client.expect_error(response, "get_file", 429)
    retry_after = _header_int(response, "Retry-After")
    client.require(retry_after is not None and 0 <= retry_after <= 60, response, "get_file",
                   "a Retry-After of at most 60 seconds (the window is a minute)")
    limit = _header_int(response, "X-Rate-Limit-Limit")
    client.require(limit is not None and limit >= 1, response, "get_file", "an integer X-Rate-Limit-Limit header")
    client.require(_header_int(response, "X-Rate-Limit-Remaining") == 0, response, "get_file",
                   "X-Rate-Limit-Remaining: 0 on a refused request")
    reset = _header_int(response, "X-Rate-Limit-Reset")
    client.require(reset is not None and time.time() - 5 <= reset <= time.time() + 65, response, "get_file",
                   "X-Rate-Limit-Reset: the Unix time (seconds) when the current one-minute window ends")
    client.require(passed + 1 <= limit, response, "get_file",
                   f"at most X-Rate-Limit-Limit={limit} requests let through in a window (let through {passed + 1})")
    if client.target.embedded:
        client.require(passed + 1 == limit == 200, response, "get_file",
                       f"exactly the documented 200 requests a minute on a fresh window (let through {passed + 1})")
    again = call(client, "get_file", file_id=file_id)
    client.expect_error(again, "get_file", 429)
