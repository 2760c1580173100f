"""What a running mock was asked to do: the options of ``mockserver serve`` as one value."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mockserver.specs import APIS


@dataclass(frozen=True)
class MockConfig:
    apis: tuple[str, ...] = tuple(APIS)
    """The APIs to serve. One API alone is served at the root, several behind their prefixes."""
    db_path: Path | None = None
    """Persist state in this JSON file; in memory when None."""
    seed: bool = True
    """Start every session with the documented example records."""
    latency_ms: int = 0
    """Delay added to every API answer, to make a frontend's loading states visible."""
    sync_seconds: float = 2.0
    """How long an accepted Torii sync runs (and blocks a second one with 409)."""
    rate_limit: int | None = 200
    """Torii requests per minute per token and session; None turns the limit off."""
    validate_responses: bool = False
    """Let Connexion check every answer against the spec (the test suite turns this on)."""
    tokens: frozenset[str] = field(default_factory=frozenset)
    """When not empty, only these credentials are accepted; any non-blank one otherwise."""
    seed_from: tuple[Path, ...] = ()
    """Recordings of ``mockserver proxy --record``: a new session of an API found in them starts with the
    recorded records instead of the documented examples (see :mod:`mockserver.recording`)."""
    admin_token: str | None = None
    """When set, ``/__admin`` (but its health check) needs ``Authorization: Bearer <token>`` or ``X-Admin-Token``."""

    def __post_init__(self) -> None:
        unknown = [name for name in self.apis if name not in APIS]
        if unknown or not self.apis:
            raise ValueError(f"unknown API {unknown!r}; choose from {', '.join(APIS)}")

    @property
    def alone(self) -> bool:
        """True when one API is served at the root, exactly where its real server URL puts it."""
        return len(self.apis) == 1
