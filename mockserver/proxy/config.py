"""What a running proxy was asked to do: the options of ``mockserver proxy`` as one value."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mockserver.specs import APIS

DEFAULT_PORT = 8090


@dataclass(frozen=True)
class ProxyConfig:
    api: str
    """The API whose contract the traffic is checked against."""
    target: str
    """Where the API's paths start on the backend, e.g. ``https://api.rootfi.dev/v4`` or
    ``http://127.0.0.1:8080/rootfi/v4`` (the same form as ``mockserver contract --base-url``)."""
    record: Path | None = None
    """Write every exchange to this file (JSON lines, secrets redacted)."""
    fail_on_drift: bool = False
    """Answer a drifting answer with a 502 in the vendor's error format (each answer is then buffered)."""
    capture_limit: int = 4 * 1024 * 1024
    """Bodies up to this size are kept to be checked and recorded (they still stream through); larger ones only
    stream through. Above Torii's 3 MB upload limit, so that uploads are recorded whole."""
    keep_last: int = 100
    """How many recent violations ``GET /__admin/drift`` shows."""
    timeout_s: float = 60.0
    """How long the target may take to answer."""

    def __post_init__(self) -> None:
        if self.api not in APIS:
            raise ValueError(f"unknown API {self.api!r}; choose from {', '.join(APIS)}")
        parts = urlsplit(self.target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"the target must be an http:// or https:// URL, got {self.target!r}")
        if parts.query or parts.fragment:
            raise ValueError(f"the target is where the API's paths start: no query or fragment, got {self.target!r}")

    @property
    def base_path(self) -> str:
        """Where the API's paths start on the proxy: its real server path, as ``mockserver serve --api NAME``."""
        return APIS[self.api].base_path(alone=True)
