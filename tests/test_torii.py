"""Torii through HTTP: upload a data file, read it back, sync it; errors, the one-sync rule, the rate limit.

Every answer is also checked against ``openapi/torii.yaml`` by the ``serve`` fixture.
"""

from __future__ import annotations

import base64
import copy
import json
import time
from datetime import datetime, timezone
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator

from mockserver.specs import APIS
from mockserver.vendors.torii import caller_id

SPEC = APIS["torii"].spec
DATA_FILE: dict[str, Any] = SPEC["components"]["examples"]["CustomIntegrationDataFile"]["value"]
PUBLISHED_DATA_FILE: str = SPEC["components"]["examples"]["CustomIntegrationDataFileAsPublished"]["value"]
SYNC = "/services/sync/custom"
ADMIN_STATE = "http://127.0.0.1/__admin/state"
RATE_HEADERS = ("X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset")


# --- helpers -------------------------------------------------------------------------------------------------


def documented(response_name: str, example: str) -> dict[str, Any]:
    """A named example of one of the spec's reusable responses."""
    return SPEC["components"]["responses"][response_name]["content"]["application/json"]["examples"][example]["value"]


def upload(client, content: bytes | str, file_type: str = "customIntegrationData",
           name: str = "data.json") -> httpx.Response:
    data = content.encode() if isinstance(content, str) else content
    return client.post("/files/upload", files={"file": (name, data, "application/json")}, data={"type": file_type})


def upload_document(client, document: Any) -> int:
    response = upload(client, json.dumps(document))
    assert response.status_code == 200, response.text
    return response.json()["id"]


def sync(client, file_id: int, app_account_id: int = 1) -> httpx.Response:
    return client.put(SYNC, json={"idFile": file_id, "idAppAccount": app_account_id})


def tables(client) -> dict[str, dict[str, Any]]:
    """The caller's session state, as the admin API exports it."""
    return client.get(ADMIN_STATE).json()["tables"]


def torii_error(response: httpx.Response, status: int, reason: str) -> str:
    """Assert Torii's error body for ``status`` and return its message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["statusCode"] == status and body["error"] == reason and set(body) == {"statusCode", "error", "message"}
    return body["message"]


def with_data(**changes: Any) -> dict[str, Any]:
    document = copy.deepcopy(DATA_FILE)
    document.update(changes)
    return document


# --- seed: the documented requests work verbatim ---------------------------------------------------------------


def test_documented_sync_request_works_on_the_seeded_mock(serve):
    client = serve("torii")
    request = SPEC["paths"][SYNC]["put"]["requestBody"]["content"]["application/json"]["examples"]
    response = client.put(SYNC, json=request["uploaded_file"]["value"])
    assert response.status_code == 200
    assert response.json() == {"success": True}
    [running] = tables(client)["torii.syncs"].values()
    assert (running["idFile"], running["idAppAccount"]) == (1000, 1)


def test_seeded_file_1000_is_the_documented_file(serve):
    client = serve("torii")
    response = client.get("/files/1000")
    assert response.status_code == 200
    example = SPEC["paths"]["/files/{id}"]["get"]["responses"]["200"]["content"]["application/json"]["examples"]
    assert response.json() == example["custom_integration_data_file"]["value"]
    stored = tables(client)["torii.files"]["1000"]
    assert json.loads(base64.b64decode(stored["content"])) == DATA_FILE


def test_without_seed_there_is_no_file_1000(serve):
    client = serve("torii", seed=False)
    assert torii_error(client.get("/files/1000"), 404, "Not Found") == "File 1000 not found"


def test_served_alone_torii_answers_at_the_root(serve):
    client = serve("torii", alone=True)
    assert str(client.base_url).rstrip("/").endswith("127.0.0.1/v1.0")
    assert sync(client, 1000).json() == {"success": True}


# --- upload and get --------------------------------------------------------------------------------------------


def test_upload_then_get_returns_what_was_recorded(serve):
    client = serve("torii")
    before = datetime.now(timezone.utc).replace(microsecond=0)
    response = upload(client, b"date,amount\n2021-07-01,45.00\n", "expenseReport", "july.csv")
    assert response.status_code == 200
    assert response.json() == {"id": 1001}
    assert set(response.headers) >= {h.lower() for h in RATE_HEADERS}
    details = client.get("/files/1001").json()["file"]
    created = datetime.fromisoformat(details.pop("creationTime").replace("Z", "+00:00"))
    assert before <= created <= datetime.now(timezone.utc)
    assert details == {"id": 1001, "type": "expenseReport", "fileName": "july.csv",
                       "uploadedBy": caller_id("test-torii-key")}


def test_first_upload_on_an_empty_mock_gets_the_documented_id_1000(serve):
    client = serve("torii", seed=False)
    assert upload(client, json.dumps(DATA_FILE)).json() == {"id": 1000}
    assert upload(client, json.dumps(DATA_FILE)).json() == {"id": 1001}


def test_upload_keeps_the_exact_bytes(serve):
    client = serve("torii")
    content = bytes(range(256)) * 4
    file_id = upload(client, content, "attachment", "blob.bin").json()["id"]
    assert base64.b64decode(tables(client)["torii.files"][str(file_id)]["content"]) == content


def test_uploaded_by_is_stable_per_token_and_differs_between_tokens(serve):
    client = serve("torii")
    other = serve("torii", app=client.app, headers={"Authorization": "Bearer another-key"})
    mine = [client.get(f"/files/{upload(client, '{}').json()['id']}").json()["file"]["uploadedBy"] for _ in range(2)]
    theirs = other.get(f"/files/{upload(other, '{}').json()['id']}").json()["file"]["uploadedBy"]
    assert mine[0] == mine[1] > 0
    assert theirs > 0 and theirs != mine[0]


def test_upload_of_exactly_3_mb_is_accepted(serve):
    client = serve("torii")
    response = upload(client, b" " * (3 * 1024 * 1024), "attachment")
    assert response.status_code == 200
    assert str(response.json()["id"]) in tables(client)["torii.files"]


def test_upload_over_3_mb_is_413_and_stores_nothing(serve):
    client = serve("torii")
    response = upload(client, b" " * (3 * 1024 * 1024 + 1), "attachment")
    assert torii_error(response, 413, "Payload Too Large") == documented("PayloadTooLarge", "file_too_large")["message"]
    assert set(response.headers) >= {h.lower() for h in RATE_HEADERS}
    assert list(tables(client)["torii.files"]) == ["1000"]


def test_upload_with_an_unknown_type_is_400(serve):
    client = serve("torii")
    message = torii_error(upload(client, "{}", "spreadsheet"), 400, "Bad Request")
    assert "type" in message and "spreadsheet" in message
    assert list(tables(client)["torii.files"]) == ["1000"]


def test_upload_without_a_file_part_is_400(serve):
    client = serve("torii")
    response = client.post("/files/upload", files={"type": (None, "attachment")})
    assert "file" in torii_error(response, 400, "Bad Request")
    assert list(tables(client)["torii.files"]) == ["1000"]


def test_upload_with_file_as_a_plain_text_field_is_400(serve):
    client = serve("torii")
    response = client.post("/files/upload", files={"file": (None, "{}"), "type": (None, "attachment")})
    assert "file part" in torii_error(response, 400, "Bad Request")
    assert list(tables(client)["torii.files"]) == ["1000"]


def test_get_of_an_unknown_file_is_404(serve):
    client = serve("torii")
    response = client.get("/files/4242")
    assert torii_error(response, 404, "Not Found") == "File 4242 not found"
    assert set(response.headers) >= {h.lower() for h in RATE_HEADERS}


# --- sync ------------------------------------------------------------------------------------------------------


def test_upload_then_sync_succeeds(serve):
    client = serve("torii")
    example = SPEC["paths"]["/files/upload"]["post"]["requestBody"]["content"]["multipart/form-data"]["examples"]
    upload_example = example["custom_integration_data"]["value"]
    file_id = upload(client, upload_example["file"], upload_example["type"]).json()["id"]
    response = sync(client, file_id, 7)
    assert response.status_code == 200 and response.json() == {"success": True}
    assert set(response.headers) >= {h.lower() for h in RATE_HEADERS}
    [running] = tables(client)["torii.syncs"].values()
    assert (running["idFile"], running["idAppAccount"]) == (file_id, 7)


def test_sync_of_an_unknown_file_is_404(serve):
    client = serve("torii")
    assert torii_error(sync(client, 999), 404, "Not Found") == "File 999 not found"
    assert "torii.syncs" not in tables(client)


def test_sync_of_a_file_of_another_type_is_400(serve):
    client = serve("torii", seed=False)
    file_id = upload(client, json.dumps(DATA_FILE), "expenseReport").json()["id"]
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message == documented("BadRequest", "wrong_file_type")["message"]
    assert "torii.syncs" not in tables(client)


def test_sync_of_a_file_that_is_not_json_names_line_and_column(serve):
    client = serve("torii")
    file_id = upload(client, '{\n  "users": [\n    {"email": "a@example.com",}\n  ]\n}').json()["id"]
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message == f"File {file_id} is not valid JSON: Expecting property name enclosed in double quotes: " \
                      "line 3 column 31 (char 45)"


def test_sync_of_the_vendors_published_example_is_the_documented_parse_error(serve):
    client = serve("torii", seed=False)
    file_id = upload(client, PUBLISHED_DATA_FILE).json()["id"]
    response = sync(client, file_id)
    assert torii_error(response, 400, "Bad Request") == documented("BadRequest", "file_not_json")["message"]
    assert "torii.syncs" not in tables(client)


def test_sync_of_a_file_that_is_not_utf8_is_400_with_line_and_column(serve):
    client = serve("torii")
    file_id = upload(client, b'{"users": [\n  {"email": "\xff"}]}').json()["id"]
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message.startswith(f"File {file_id} is not valid JSON: it is not UTF-8 text")
    assert "line 2 column 14" in message


def test_sync_names_every_schema_problem_and_where(serve):
    client = serve("torii", seed=False)
    document = copy.deepcopy(DATA_FILE)
    del document["users"][1]["email"]
    del document["licenses"][2]["name"]
    file_id = upload_document(client, document)
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message == ("File 1000 does not follow the custom integration file schema: "
                       "licenses[2].name is required; users[1].email is required")
    assert "torii.syncs" not in tables(client)


def test_sync_of_the_documented_schema_error_matches_its_example(serve):
    client = serve("torii", seed=False)
    document = copy.deepcopy(DATA_FILE)
    del document["users"][1]["email"]
    file_id = upload_document(client, document)
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message == documented("BadRequest", "file_schema_error")["message"]


def test_sync_of_a_file_without_users_is_400(serve):
    client = serve("torii")
    file_id = upload_document(client, with_data(users=[]))
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message.startswith(f"File {file_id} does not follow the custom integration file schema: users ")
    assert message.endswith("users must have at least 1 item")


def test_sync_of_a_user_with_an_unknown_status_is_400(serve):
    client = serve("torii")
    document = copy.deepcopy(DATA_FILE)
    document["users"][0]["status"] = "suspended"
    file_id = upload_document(client, document)
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message == (f"File {file_id} does not follow the custom integration file schema: "
                       'users[0].status must be one of "active", "deleted" (got "suspended")')


def test_sync_of_a_file_that_is_not_an_object_is_400(serve):
    client = serve("torii")
    file_id = upload_document(client, [DATA_FILE])
    message = torii_error(sync(client, file_id), 400, "Bad Request")
    assert message == (f"File {file_id} does not follow the custom integration file schema: "
                       "must be of type object (got list)")


def test_sync_with_a_missing_body_field_is_400_in_toriis_format(serve):
    client = serve("torii")
    response = client.put(SYNC, json={"idFile": 1000})
    assert "idAppAccount" in torii_error(response, 400, "Bad Request")
    assert "torii.syncs" not in tables(client)


def test_sync_with_a_non_json_body_is_415(serve):
    client = serve("torii")
    response = client.put(SYNC, content=b"idFile=1000&idAppAccount=1", headers={"Content-Type": "text/plain"})
    assert "text/plain" in torii_error(response, 415, "Unsupported Media Type")
    assert "torii.syncs" not in tables(client)


def test_request_without_a_token_is_401_in_toriis_format(serve):
    client = serve("torii")
    anonymous = serve("torii", app=client.app, credentials=False)
    response = anonymous.put(SYNC, json={"idFile": 1000, "idAppAccount": 1})
    assert torii_error(response, 401, "Unauthorized")
    assert "torii.syncs" not in tables(client)


# --- one sync at a time ------------------------------------------------------------------------------------------


def test_second_sync_while_one_runs_is_409(serve):
    client = serve("torii", sync_seconds=30)
    assert sync(client, 1000, 1).status_code == 200
    second = upload_document(client, DATA_FILE)
    response = sync(client, second, 2)
    assert torii_error(response, 409, "Conflict") == documented("Conflict", "sync_already_running")["message"]
    assert set(response.headers) >= {h.lower() for h in RATE_HEADERS}
    [running] = tables(client)["torii.syncs"].values()
    assert (running["idFile"], running["idAppAccount"]) == (1000, 1)


def test_sync_after_the_running_one_ends_is_200(serve):
    client = serve("torii", sync_seconds=0.2)
    assert sync(client, 1000, 1).status_code == 200
    assert sync(client, 1000, 1).status_code == 409
    time.sleep(0.25)
    assert sync(client, 1000, 2).json() == {"success": True}
    [running] = tables(client)["torii.syncs"].values()
    assert running["idAppAccount"] == 2


def test_another_caller_may_sync_while_one_runs(serve):
    client = serve("torii", sync_seconds=30)
    other = serve("torii", app=client.app, headers={"Authorization": "Bearer another-key"})
    assert sync(client, 1000).status_code == 200
    assert sync(other, 1000).status_code == 200
    assert len(tables(client)["torii.syncs"]) == 2


def test_the_same_caller_may_sync_in_another_session_while_one_runs(serve):
    client = serve("torii", sync_seconds=30)
    elsewhere = serve("torii", app=client.app, headers={"Authorization": "Bearer test-torii-key",
                                                        "X-Mock-Session": "elsewhere"})
    assert sync(client, 1000).status_code == 200
    assert sync(elsewhere, 1000).status_code == 200


def test_invalid_file_gets_its_400_even_while_a_sync_runs(serve):
    client = serve("torii", sync_seconds=30)
    assert sync(client, 1000).status_code == 200
    broken = upload(client, PUBLISHED_DATA_FILE).json()["id"]
    assert "is not valid JSON" in torii_error(sync(client, broken), 400, "Bad Request")


def test_a_running_sync_survives_a_restart_with_db(serve, tmp_path):
    db = tmp_path / "mock.json"
    first = serve("torii", sync_seconds=30, db_path=db)
    assert sync(first, 1000).status_code == 200
    restarted = serve("torii", sync_seconds=30, db_path=db)
    assert torii_error(sync(restarted, 1000), 409, "Conflict")


def test_the_running_sync_is_part_of_the_exported_state(serve):
    client = serve("torii", sync_seconds=30)
    assert sync(client, 1000).status_code == 200
    snapshot = client.get(ADMIN_STATE).json()
    fresh = serve("torii", sync_seconds=30)
    assert fresh.put(ADMIN_STATE, json=snapshot).status_code in (200, 204)
    assert torii_error(sync(fresh, 1000), 409, "Conflict")


# --- rate limit --------------------------------------------------------------------------------------------------


def test_every_answer_says_how_many_requests_are_left(serve):
    client = serve("torii", rate_limit=5)
    started = time.time()
    remaining = [int(client.get("/files/1000").headers["X-Rate-Limit-Remaining"]) for _ in range(3)]
    response = client.get("/files/1000")
    assert remaining == [4, 3, 2]
    assert response.headers["X-Rate-Limit-Limit"] == "5"
    assert response.headers["X-Rate-Limit-Remaining"] == "1"
    assert started + 59 <= int(response.headers["X-Rate-Limit-Reset"]) <= time.time() + 61


def test_rate_limit_headers_have_the_types_the_spec_declares(serve):
    client = serve("torii", rate_limit=1)
    answers = [client.get("/files/1000"), client.get("/files/1000")]
    assert [a.status_code for a in answers] == [200, 429]
    for answer in answers:
        for name in (*RATE_HEADERS, "Retry-After"):
            if name not in answer.headers:
                continue
            schema = SPEC["components"]["headers"][name]["schema"]
            value = answer.headers[name]
            assert value.isdigit(), (name, value)
            OAS30Validator(schema).validate(int(value))


def test_request_over_the_rate_limit_is_429_with_retry_after(serve):
    client = serve("torii", rate_limit=3)
    for _ in range(3):
        assert client.get("/files/1000").status_code == 200
    response = upload(client, json.dumps(DATA_FILE))
    message = torii_error(response, 429, "Too Many Requests")
    assert message == "Rate limit of 3 requests per minute exceeded"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    assert response.headers["X-Rate-Limit-Limit"] == "3"
    assert response.headers["X-Rate-Limit-Remaining"] == "0"
    assert int(response.headers["X-Rate-Limit-Reset"]) >= time.time()
    assert list(tables(client)["torii.files"]) == ["1000"]


def test_rate_limit_counts_every_torii_operation(serve):
    client = serve("torii", rate_limit=3, sync_seconds=0)
    assert upload(client, "{}").status_code == 200
    assert client.get("/files/1000").status_code == 200
    assert sync(client, 1000).status_code == 200
    assert sync(client, 1000).status_code == 429


def test_rate_limit_of_one_token_does_not_affect_another(serve):
    client = serve("torii", rate_limit=2)
    other = serve("torii", app=client.app, headers={"Authorization": "Bearer another-key"})
    for _ in range(2):
        client.get("/files/1000")
    assert client.get("/files/1000").status_code == 429
    response = other.get("/files/1000")
    assert response.status_code == 200
    assert response.headers["X-Rate-Limit-Remaining"] == "1"


def test_rate_limit_is_counted_per_session(serve):
    client = serve("torii", rate_limit=1)
    elsewhere = serve("torii", app=client.app, headers={"Authorization": "Bearer test-torii-key",
                                                        "X-Mock-Session": "elsewhere"})
    assert client.get("/files/1000").status_code == 200
    assert client.get("/files/1000").status_code == 429
    assert elsewhere.get("/files/1000").status_code == 200


def test_without_a_rate_limit_no_request_is_refused(serve):
    client = serve("torii", rate_limit=None)
    answers = [client.get("/files/1000") for _ in range(201)]
    assert {a.status_code for a in answers} == {200}
    assert not any(name.lower() in answers[-1].headers for name in RATE_HEADERS)


# --- sessions and Prefer ------------------------------------------------------------------------------------------


def test_a_file_uploaded_in_one_session_is_404_in_another(serve):
    client = serve("torii", headers={"X-Mock-Session": "alice"})
    bob = serve("torii", app=client.app, headers={"Authorization": "Bearer test-torii-key", "X-Mock-Session": "bob"})
    file_id = upload_document(client, DATA_FILE)
    assert client.get(f"/files/{file_id}").status_code == 200
    assert torii_error(bob.get(f"/files/{file_id}"), 404, "Not Found") == f"File {file_id} not found"
    assert torii_error(sync(bob, file_id), 404, "Not Found") == f"File {file_id} not found"
    assert str(file_id) not in tables(bob)["torii.files"]


def test_prefer_code_409_returns_the_documented_conflict_without_touching_state(serve):
    client = serve("torii")
    response = client.put(SYNC, json={"idFile": 1000, "idAppAccount": 1}, headers={"Prefer": "code=409"})
    assert response.status_code == 409
    assert response.json() == documented("Conflict", "sync_already_running")
    assert "torii.syncs" not in tables(client)
    assert sync(client, 1000).status_code == 200
