"""Where a documentation site lives: on disk (opened from a file or any web server) or inside the mock.

The pages differ only in what they say about the mock: the static site points at a mock on its default
address (and says it must be running), the served site at the mock serving it, with only the APIs that
mock serves. Everything else, and every link between pages, is the same, so one renderer builds both.
"""

from __future__ import annotations

from dataclasses import dataclass

from mockserver.config import MockConfig
from mockserver.specs import APIS

DEFAULT_MOCK_ORIGIN = "http://127.0.0.1:8080"

INDEX = "index.html"
ASSET_DIR = "docs/assets"


def page_path(api: str) -> str:
    """Where an API's page is in the site, relative to its root (``docs/mpdx.html``)."""
    return f"docs/{api}.html"


def spec_path(api: str) -> str:
    """Where the site keeps a copy of an API's OpenAPI document."""
    return f"docs/specs/{APIS[api].spec_path.name}"


@dataclass(frozen=True)
class Deployment:
    """The facts about the mock that a page prints."""

    served: tuple[str, ...]
    """The APIs the mock serves (all of them for the static site, which describes the default mock)."""
    alone: bool
    """One API served at the root, as with ``mockserver serve --api NAME``."""
    origin: str
    """The mock's origin for the static site; empty when the mock itself serves the pages."""

    @classmethod
    def static(cls) -> "Deployment":
        return cls(served=tuple(APIS), alone=False, origin=DEFAULT_MOCK_ORIGIN)

    @classmethod
    def for_mock(cls, config: MockConfig) -> "Deployment":
        return cls(served=tuple(config.apis), alone=config.alone, origin="")

    @property
    def is_static(self) -> bool:
        return bool(self.origin)

    def mock_base(self, api: str) -> str | None:
        """The API's base path on the mock (``""`` for MPDX served alone), or None when not served."""
        if api not in self.served:
            return None
        return APIS[api].base_path(alone=self.alone)

    def mock_url(self, api: str) -> str | None:
        """The base URL as the page prints it: absolute for the static site, a path when served."""
        base = self.mock_base(api)
        if base is None:
            return None
        return self.origin + base if self.is_static else (base or "/")

    def console_url(self, api: str) -> str | None:
        """The API's Swagger UI, whose "Try it out" sends requests to the mock."""
        base = self.mock_base(api)
        return None if base is None else f"{self.origin}{base}/ui/"

    def spec_url(self, api: str) -> str | None:
        """The spec as the mock serves it (with its servers pointing at the mock)."""
        base = self.mock_base(api)
        return None if base is None else f"{self.origin}{base}/openapi.json"
