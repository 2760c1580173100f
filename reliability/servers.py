"""Mock servers to aim reliability runs at: in a thread of this process, or in a process one can kill -9."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from contracts.target import EmbeddedMock
from mockserver.config import MockConfig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ThreadedMock(EmbeddedMock):
    """The mock under uvicorn in a background thread, on a free loopback port (a real socket, real HTTP)."""

    def __init__(self, config: MockConfig) -> None:
        super().__init__(config)
        self.base = self.origin

    def __enter__(self) -> ThreadedMock:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class ServerProcess:
    """``mockserver serve`` as a child process: what a user runs, and what a crash test can kill."""

    def __init__(self, *args: str, log: Path, timeout: float = 30, cwd: Path | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mockserver", "serve", "--port", str(self.port), *args],
            stdout=self._log_file, stderr=subprocess.STDOUT, cwd=cwd,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._log_file.close()
                raise RuntimeError(f"server exited: {log.read_text()}")
            try:
                if httpx.get(f"{self.base}/__admin/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not start: {log.read_text()}")

    def output(self) -> str:
        return self.log.read_text()

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, sig)
            self.process.wait(timeout=10)
        self._log_file.close()
