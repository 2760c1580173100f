"""What the contract suites test: a base URL and credentials per API, or the embedded mock.

The runner knows nothing of the mock except how to start it when no base URL is given; then every suite
talks to it over real HTTP on a free loopback port, exactly as it would to a team's own server.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

import uvicorn

from mockserver.specs import APIS

DEFAULT_CREDENTIALS: dict[str, dict[str, str]] = {
    "rootfi": {"api_key": "contract-test-key"},
    "mpdx": {"Authorization": "Bearer contract-test-token"},
    "torii": {"Authorization": "Bearer contract-test-key"},
}
"""Used against the embedded mock (which then accepts only these), or when no ``--header`` is given."""


@dataclass(frozen=True)
class Target:
    """One API under test."""

    api: str
    base_url: str
    """Where the API's paths start, e.g. ``http://127.0.0.1:8080/mpdx`` or a team's own server."""
    headers: dict[str, str] = field(default_factory=dict)
    """Credentials and other headers sent with every request."""
    second_headers: dict[str, str] = field(default_factory=dict)
    """Another caller's credentials, for the rules about two users (MPDX: accepting someone else's invite)."""
    embedded: bool = False
    """True when the target is the mock this process started (mock-only conveniences apply)."""

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


class EmbeddedMock:
    """The mock, served by uvicorn in a background thread on a free loopback port."""

    def __init__(self, config=None) -> None:
        """``config``: a :class:`~mockserver.config.MockConfig`; by default one accepting only the default credentials."""
        from mockserver.app import create_app
        from mockserver.config import MockConfig

        tokens = {value.removeprefix("Bearer ") for headers in DEFAULT_CREDENTIALS.values() for value in headers.values()}
        self._app = create_app(config or MockConfig(tokens=frozenset(tokens)))
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self._app, log_level="warning", access_log=False,
                                                     lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="embedded-mock", daemon=True)

    def start(self) -> EmbeddedMock:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the embedded mock did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()

    def target(self, api: str) -> Target:
        return Target(api=api, base_url=self.origin + APIS[api].base_path(alone=False),
                      headers=dict(DEFAULT_CREDENTIALS[api]), embedded=True)


@dataclass
class Run:
    """The targets and budget of this contract run, set once before any suite is imported."""

    targets: dict[str, Target] = field(default_factory=dict)
    max_examples: int = 20


_run = Run()


def activate(targets: dict[str, Target], *, max_examples: int) -> None:
    _run.targets = dict(targets)
    _run.max_examples = max_examples


def current_run() -> Run:
    return _run


def active(api: str) -> Target:
    """The target of ``api`` in this run."""
    try:
        return _run.targets[api]
    except KeyError:
        raise RuntimeError(f"no contract target for {api!r}; run the suites through `mockserver contract` "
                           "or `pytest contracts --api NAME [--base-url URL]`") from None
