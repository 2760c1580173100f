"""Clients for the mock, run in-process, whose every answer is checked against the spec."""

from __future__ import annotations

import warnings
from typing import Callable, Iterator

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.specs import APIS
from reliability.servers import ServerProcess
from tests.conformance import check_response

CREDENTIALS = {
    "rootfi": {"api_key": "test-api-key"},
    "mpdx": {"Authorization": "Bearer test-user-token"},
    "torii": {"Authorization": "Bearer test-torii-key"},
}


class MockClient(TestClient):
    """A client for one API of a running mock, with paths relative to the API's real server URL.

    ``client.get("/core/invite_links/1")`` goes to ``/rootfi/v4/core/invite_links/1`` on the mock, just as
    it would go to ``https://api.rootfi.dev/v4/core/invite_links/1`` on RootFi.
    """

    api: str


ServeFactory = Callable[..., MockClient]


@pytest.fixture
def serve() -> Iterator[ServeFactory]:
    """``serve("mpdx", credentials=False, latency_ms=...)``: a client for one API of a fresh mock.

    Options other than those of ``make`` are :class:`MockConfig` fields.

    The mock serves all three APIs (as ``mockserver serve`` does by default) unless ``alone=True``.
    """
    clients: list[MockClient] = []

    def make(
        api: str,
        *,
        credentials: bool = True,
        headers: dict[str, str] | None = None,
        alone: bool = False,
        app=None,
        **options,
    ) -> MockClient:
        """``app=other_client.app`` gives a second client (another caller, no credentials) on the same mock."""
        if app is None:
            options.setdefault("validate_responses", True)
            app = create_app(MockConfig(apis=(api,) if alone else tuple(APIS), **options))
        base_path = APIS[api].base_path(alone=alone)
        client = MockClient(app, base_url=f"http://127.0.0.1{base_path}", raise_server_exceptions=True)
        client.api = api
        if credentials:
            client.headers.update(CREDENTIALS[api])
        client.headers.update(headers or {})
        client.event_hooks = {"response": [lambda response: check_response(api, base_path, response)]}
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def start(tmp_path) -> Iterator[Callable[..., ServerProcess]]:
    """``start("--db", path)``: ``mockserver serve`` with these options as a child process, killed afterwards."""
    servers: list[ServerProcess] = []

    def make(*args: str) -> ServerProcess:
        server = ServerProcess(*args, log=tmp_path / f"server-{len(servers)}.log")
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.kill()
