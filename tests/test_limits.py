"""Request body size limits: 1 MB for JSON bodies, 3 MB (plus the form's envelope) for Torii uploads.

An oversized body is refused with 413 in the vendor's format before it is read whole: at once when its
``Content-Length`` says so, as soon as it passes the limit when it streams chunked. Nothing stored changes.
"""

from __future__ import annotations

import json
from typing import Iterator

import httpx
import pytest

from contracts.checks import error_format_problem
from mockserver.config import MockConfig
from mockserver.limits import DEFAULT_LIMIT, MB, UPLOAD_LIMIT
from mockserver.specs import APIS, iter_operations, resolve
from reliability.raw_cases import send_raw
from reliability.servers import ThreadedMock
from tests.conftest import CREDENTIALS

PARENT = "/mpdx/api/v2/account_lists/08d9120d-db44-48e0-b7b0-6ba37b18b130/invites"
BODY_OPERATIONS = [
    ("rootfi", "PUT", "/rootfi/v4/core/invite_links/1", "application/json"),
    ("rootfi", "POST", "/rootfi/v4/core/invite_links", "application/json"),
    ("mpdx", "POST", PARENT, "application/vnd.api+json"),
    ("mpdx", "PUT", PARENT + "/6be89230-020f-4381-8a11-1217598d89a0/accept", "application/vnd.api+json"),
    ("torii", "PUT", "/torii/v1.0/services/sync/custom", "application/json"),
]


@pytest.fixture(scope="module")
def mock() -> Iterator[ThreadedMock]:
    with ThreadedMock(MockConfig(rate_limit=None)) as server:
        yield server


def state(mock: ThreadedMock) -> dict:
    return httpx.get(f"{mock.base}/__admin/state").json()["tables"]


def oversized_json() -> bytes:
    return json.dumps({"data": "x" * (DEFAULT_LIMIT + 1)}).encode()


@pytest.mark.parametrize(("api", "method", "path", "media_type"), BODY_OPERATIONS)
def test_a_json_body_over_1_mb_is_413_in_the_vendors_format_and_changes_nothing(mock, api, method, path, media_type):
    before = state(mock)
    response = httpx.request(method, mock.base + path, content=oversized_json(),
                             headers={**CREDENTIALS[api], "Content-Type": media_type})
    assert response.status_code == 413
    assert error_format_problem(api, 413, response.json()) is None
    assert "1024 KB" in response.text
    assert state(mock) == before


@pytest.mark.parametrize(("api", "method", "path", "media_type"), BODY_OPERATIONS)
def test_a_chunked_json_body_over_1_mb_is_413(mock, api, method, path, media_type):
    chunks = (b"x" * 65536 for _ in range(DEFAULT_LIMIT // 65536 + 2))
    response = httpx.request(method, mock.base + path, content=chunks,
                             headers={**CREDENTIALS[api], "Content-Type": media_type})
    assert response.status_code == 413
    assert error_format_problem(api, 413, response.json()) is None


def test_a_body_announced_over_the_limit_is_refused_before_it_is_sent(mock):
    """Only the headers go out: the answer comes without the mock waiting for 50 MB that never arrive."""
    head = (f"POST {PARENT} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"Authorization: Bearer t\r\nContent-Type: application/vnd.api+json\r\nContent-Length: {50 * MB}\r\n\r\n")
    status, headers, body = send_raw(mock.base, head.encode(), timeout=10)
    assert status == 413
    assert json.loads(body)["errors"][0]["status"] == "413"


def test_a_chunked_body_within_the_limit_is_accepted(mock):
    """Connexion alone would take a body without Content-Length for a missing one."""
    document = {"data": {"type": "account_list_invites", "attributes": {"recipient_email": "chunked@example.com"}}}
    encoded = json.dumps(document).encode()
    chunks = (encoded[i:i + 10] for i in range(0, len(encoded), 10))
    response = httpx.post(mock.base + PARENT, content=chunks,
                          headers={**CREDENTIALS["mpdx"], "Content-Type": "application/vnd.api+json"})
    assert response.status_code == 201
    assert response.json()["data"]["attributes"]["recipient_email"] == "chunked@example.com"


def upload(mock: ThreadedMock, size: int) -> httpx.Response:
    return httpx.post(mock.base + "/torii/v1.0/files/upload", headers=CREDENTIALS["torii"],
                      files={"file": ("big.bin", b"0" * size, "application/octet-stream")},
                      data={"type": "attachment"})


def test_an_upload_of_3_mb_is_accepted(mock):
    assert upload(mock, 3 * MB).status_code == 200


def test_an_upload_over_the_upload_limit_is_413_without_storing_the_file(mock):
    before = state(mock)
    response = upload(mock, UPLOAD_LIMIT + 1)
    assert response.status_code == 413
    assert error_format_problem("torii", 413, response.json()) is None
    assert state(mock) == before


@pytest.mark.parametrize("api", list(APIS))
def test_every_operation_with_a_body_documents_413_in_the_vendors_format(api):
    spec = APIS[api].spec
    for method, path, operation in iter_operations(spec):
        if "requestBody" not in operation:
            continue
        documented = resolve(spec, operation["responses"].get("413", {}))
        assert documented, f"{method.upper()} {path} does not document 413"
        for content in documented["content"].values():
            for example in content["examples"].values():
                assert error_format_problem(api, 413, resolve(spec, example)["value"]) is None


def test_a_snapshot_over_the_admin_limit_is_413_and_keeps_the_state(monkeypatch):
    monkeypatch.setattr("mockserver.app.SNAPSHOT_LIMIT", 1024)
    with ThreadedMock(MockConfig()) as small:
        before = state(small)
        for body in (b'{"tables": {}, "pad": "' + b"x" * 2048 + b'"}',  # announced by Content-Length
                     (b"x" * 512 for _ in range(4))):  # chunked
            response = httpx.put(f"{small.base}/__admin/state", content=body)
            assert response.status_code == 413
            assert "limit" in response.json()["error"]["message"]
        assert state(small) == before
