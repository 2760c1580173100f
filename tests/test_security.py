"""Security: credentials on every secured operation, the --token and --admin-token lists, sessions that
cannot see or change each other, no file touched outside the data path, loopback unless told otherwise.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from contracts.checks import error_format_problem
from mockserver.cli import build_parser
from mockserver.specs import APIS
from reliability.raw_cases import raw_cases, send_raw
from reliability.servers import ServerProcess, free_port
from tests.conftest import CREDENTIALS
from tests.proxy_traffic import documented_requests

MPDX_PARENT = "08d9120d-db44-48e0-b7b0-6ba37b18b130"
WALK = [(api, method, path, options) for api in APIS for method, path, options in documented_requests(api)]
"""Every documented request of every API (each operation at least once), as an app would send it."""


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    server = ServerProcess("--no-rate-limit", log=tmp_path_factory.mktemp("security") / "server.log")
    yield server
    server.kill()


def state(base: str, session: str = "default", headers: dict | None = None) -> dict:
    return httpx.get(f"{base}/__admin/state", headers={"X-Mock-Session": session, **(headers or {})}).json()


@pytest.mark.parametrize(("api", "method", "path", "options"), WALK,
                         ids=[f"{api}-{method}-{path}" for api, method, path, _ in WALK])
def test_every_operation_without_credentials_is_401_in_the_vendors_format_and_changes_nothing(
        shared, api, method, path, options):
    before = state(shared.base)
    response = httpx.request(method, shared.base + APIS[api].base_path(alone=False) + path, **options)
    assert response.status_code == 401
    assert error_format_problem(api, 401, response.json()) is None
    assert state(shared.base) == before


def test_with_a_token_list_only_those_tokens_are_accepted(start):
    server = start("--token", "good-key")
    url = f"{server.base}/rootfi/v4/core/invite_links/1"
    assert httpx.get(url, headers={"api_key": "good-key"}).status_code == 200
    rejected = httpx.get(url, headers={"api_key": "other-key"})
    assert rejected.status_code == 401
    assert error_format_problem("rootfi", 401, rejected.json()) is None


def test_with_an_admin_token_the_admin_api_needs_it(start):
    server = start("--admin-token", "s3cret")
    refused = httpx.get(f"{server.base}/__admin/state")
    assert refused.status_code == 401
    assert "admin token" in refused.json()["error"]["message"]
    assert httpx.post(f"{server.base}/__admin/reset", headers={"X-Admin-Token": "wrong"}).status_code == 401
    assert httpx.get(f"{server.base}/__admin/state", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert httpx.get(f"{server.base}/__admin/requests", headers={"X-Admin-Token": "s3cret"}).status_code == 200


def test_the_admin_health_check_stays_open_with_an_admin_token(start):
    server = start("--admin-token", "s3cret")
    assert httpx.get(f"{server.base}/__admin/health").status_code == 200


def test_the_admin_token_does_not_guard_the_apis(start):
    server = start("--admin-token", "s3cret")
    response = httpx.get(f"{server.base}/rootfi/v4/core/invite_links/1", headers=CREDENTIALS["rootfi"])
    assert response.status_code == 200


def writes_in_one_session(base: str, session: str) -> dict[str, str]:
    """One write per API in ``session``; the URLs of what each wrote."""
    headers = {"X-Mock-Session": session}
    invites = f"{base}/mpdx/api/v2/account_lists/{MPDX_PARENT}/invites"
    created = httpx.post(invites, headers={**CREDENTIALS["mpdx"], **headers,
                                           "Content-Type": "application/vnd.api+json"},
                         json={"data": {"type": "account_list_invites",
                                        "attributes": {"recipient_email": "a@example.com"}}})
    updated = httpx.put(f"{base}/rootfi/v4/core/invite_links/1", headers={**CREDENTIALS["rootfi"], **headers},
                        json={"company_name": "Session A only", "integration_categories": ["ACCOUNTING"]})
    uploaded = httpx.post(f"{base}/torii/v1.0/files/upload", headers={**CREDENTIALS["torii"], **headers},
                          files={"file": ("a.json", b'{"users": []}', "application/json")},
                          data={"type": "customIntegrationData"})
    assert (created.status_code, updated.status_code, uploaded.status_code) == (201, 200, 200)
    return {
        "invite": f"{invites}/{created.json()['data']['id']}",
        "link": f"{base}/rootfi/v4/core/invite_links/1",
        "file": f"{base}/torii/v1.0/files/{uploaded.json()['id']}",
    }


def test_a_session_cannot_read_what_another_session_wrote(shared):
    urls = writes_in_one_session(shared.base, "alice")
    other = {"X-Mock-Session": "bob"}
    assert httpx.get(urls["invite"], headers={**CREDENTIALS["mpdx"], **other}).status_code == 404
    assert httpx.get(urls["file"], headers={**CREDENTIALS["torii"], **other}).status_code == 404
    link = httpx.get(urls["link"], headers={**CREDENTIALS["rootfi"], **other}).json()["data"]
    assert (link.get("company") or {}).get("name") != "Session A only"


def test_a_session_cannot_change_what_another_session_wrote(shared):
    urls = writes_in_one_session(shared.base, "carol")
    before = state(shared.base, "carol")
    other = {"X-Mock-Session": "mallory"}
    assert httpx.delete(urls["invite"], headers={**CREDENTIALS["mpdx"], **other}).status_code == 404
    httpx.put(urls["link"], headers={**CREDENTIALS["rootfi"], **other},
              json={"company_name": "Mallory", "integration_categories": ["ACCOUNTING"]})
    httpx.post(f"{shared.base}/__admin/reset", headers=other)
    httpx.put(f"{shared.base}/__admin/state", headers=other, json={"tables": {}})
    assert state(shared.base, "carol") == before


def test_no_request_reads_or_writes_files_outside_the_data_path(tmp_path):
    data = tmp_path / "data"
    elsewhere = tmp_path / "cwd"
    data.mkdir()
    elsewhere.mkdir()
    (elsewhere / "secret.txt").write_text("not for clients")
    server = ServerProcess("--db", str(data / "mock.json"), "--no-rate-limit", log=tmp_path / "server.log",
                           cwd=elsewhere)
    try:
        answers = []
        for api in APIS:
            headers = {**CREDENTIALS[api], "X-Mock-Session": "../../cwd"}
            for sent in (CREDENTIALS[api], headers):  # each raw case as is, and again from a traversal session
                for case in raw_cases(api, APIS[api].base_path(alone=False), sent):
                    answers.append(send_raw(server.base, case.request)[2])
            answers.append(httpx.get(f"{server.base}/__admin/state", headers=headers).content)
        for path in ("/docs/../../cwd/secret.txt", "/docs/..%2f..%2fcwd%2fsecret.txt",
                     "/rootfi/v4/openapi.json/../../../cwd/secret.txt", "/static/../cwd/secret.txt"):
            answers.append(httpx.get(server.base + path).content)
    finally:
        server.kill()
    assert sorted(p.name for p in data.iterdir()) in (["mock.json"], ["mock.json", "mock.json.journal"])
    assert sorted(p.name for p in elsewhere.iterdir()) == ["secret.txt"]
    assert not any(b"not for clients" in answer for answer in answers)
    assert not Path("/tmp/evil.json").exists()


def test_the_server_binds_loopback_by_default():
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


def test_binding_another_address_prints_a_warning(tmp_path):
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "mockserver", "serve", "--host", "0.0.0.0", "--port",
                                str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/__admin/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "WARNING: listening on 0.0.0.0" in stderr
    assert "--admin-token" in stderr
