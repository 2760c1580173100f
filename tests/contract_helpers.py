"""Plumbing for running the contract command against an app served in this process.

* :class:`ServedApp`: an ASGI app under uvicorn on a free loopback port, in a background thread, started
  within a bound and stopped after use.
* :func:`run_contract`: ``mockserver contract`` as a subprocess against a base URL, with a time limit.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import uvicorn
from starlette.types import ASGIApp

START_SECONDS = 30
STOP_SECONDS = 10


class ServedApp:
    """``with ServedApp(app) as origin:`` serves ``app`` at ``origin`` (``http://127.0.0.1:PORT``)."""

    def __init__(self, app: ASGIApp, *, name: str = "served-app") -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.origin = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=name, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        deadline = time.monotonic() + START_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError(f"the app did not start within {START_SECONDS} s")
            time.sleep(0.02)
        return self.origin

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=STOP_SECONDS)
        self._socket.close()


@dataclass(frozen=True)
class ContractResult:
    command: list[str]
    returncode: int
    output: str
    seconds: float

    @property
    def failures(self) -> list[str]:
        """The failed tests the summary names (``✗ <nodeid>`` lines of the contract-failures section)."""
        return [line.strip().removeprefix("✗").strip() for line in self.output.splitlines()
                if line.lstrip().startswith("✗ ")]


def contract_env(workdir: Path) -> dict[str, str]:
    """The environment of a contract subprocess: the command's own, nothing from this pytest run.

    pytest rewrites the asserts of the Schemathesis plugin's ~360 modules at every start unless it may cache
    the result: with ``PYTHONDONTWRITEBYTECODE`` set, that is ~4 s a run. The runs then get a bytecode cache
    of their own in ``workdir`` (``PYTHONPYCACHEPREFIX``), which leaves the repository and site-packages alone.
    """
    env = dict(os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    if env.pop("PYTHONDONTWRITEBYTECODE", None) is not None:
        env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    return env


def run_contract(api: str, base_url: str, *, workdir: Path, max_examples: int, exclude: Sequence[str] = (),
                 timeout: float = 240) -> ContractResult:
    """``mockserver contract`` against ``base_url``, run in ``workdir`` (where Hypothesis keeps its database)."""
    command = [sys.executable, "-m", "mockserver", "contract", "--api", api, "--base-url", base_url,
               "--max-examples", str(max_examples)]
    for tag in exclude:
        command += ["--exclude", tag]
    started = time.monotonic()
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                                   env=contract_env(workdir), cwd=workdir)
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return ContractResult(command, -1, output + f"\n(timed out after {timeout} s)", time.monotonic() - started)
    return ContractResult(command, completed.returncode, completed.stdout + completed.stderr,
                          time.monotonic() - started)
