"""The real server process: the banner, one log line per request, a crash (kill -9) with --db."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx
import pytest

from mockserver.server import is_loopback
from reliability.servers import free_port

PARENT = "f10a0678-541e-4ebc-bb33-bc9ede811be9"


def create_invite(base: str) -> str:
    response = httpx.post(
        f"{base}/mpdx/api/v2/account_lists/{PARENT}/invites",
        json={"data": {"type": "account_list_invites", "attributes": {"recipient_email": "crash@example.com"}}},
        headers={"Authorization": "Bearer t", "Content-Type": "application/vnd.api+json"},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def test_startup_prints_where_each_api_its_docs_and_the_admin_api_are(start):
    server = start()
    out = server.output()
    for line in ("/rootfi/v4", "/mpdx", "/torii/v1.0", "/ui/", "/__admin", "(the API documentation site)"):
        assert f"{server.base}{line}" in out or line in out


def test_each_request_is_logged_with_method_path_status_and_milliseconds(start):
    server = start()
    httpx.get(f"{server.base}/mpdx/api/v2/account_lists/{PARENT}/invites", headers={"Authorization": "Bearer t"})
    time.sleep(0.2)
    assert any(
        line.startswith(f"GET /mpdx/api/v2/account_lists/{PARENT}/invites 200 ") and line.endswith("ms")
        for line in server.output().splitlines()
    )


def test_an_acknowledged_write_survives_kill_9(start, tmp_path):
    db = tmp_path / "mock.json"
    server = start("--db", str(db))
    invite = create_invite(server.base)
    server.kill(signal.SIGKILL)
    restarted = start("--db", str(db))
    response = httpx.get(
        f"{restarted.base}/mpdx/api/v2/account_lists/{PARENT}/invites/{invite}", headers={"Authorization": "Bearer t"}
    )
    assert response.status_code == 200


def test_one_api_alone_is_served_at_its_real_path(start):
    server = start("--api", "mpdx")
    response = httpx.get(f"{server.base}/api/v2/account_lists/{PARENT}/invites", headers={"Authorization": "Bearer t"})
    assert response.status_code == 200


def test_a_corrupt_database_is_a_clear_error_naming_the_file(tmp_path):
    db = tmp_path / "corrupt.json"
    db.write_text("{truncated")
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "serve", "--port", str(free_port()), "--db", str(db)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert "corrupt.json" in result.stderr and "Traceback" not in result.stderr
    assert db.read_text() == "{truncated"


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True), ("::1", True),
                                                ("0.0.0.0", False), ("192.168.1.5", False)])
def test_only_loopback_addresses_count_as_local(host, loopback):
    assert is_loopback(host) is loopback
