"""The real server process: the banner, one log line per request, a crash (kill -9) with --db."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from mockserver.server import is_loopback

PARENT = "f10a0678-541e-4ebc-bb33-bc9ede811be9"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    def __init__(self, *args: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(self.port), *args],
            stdout=log.open("w"), stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()}")
            try:
                if httpx.get(f"{self.base}/__admin/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"server did not start: {log.read_text()}")

    def output(self) -> str:
        return self.log.read_text()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            self.process.wait(timeout=10)


@pytest.fixture
def start(tmp_path) -> Iterator:
    servers: list[ServerProcess] = []

    def make(*args: str) -> ServerProcess:
        server = ServerProcess(*args, log=tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill()


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
    for line in ("/rootfi/v4", "/mpdx", "/torii/v1.0", "/ui/", "/__admin"):
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
