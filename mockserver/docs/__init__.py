"""The API documentation site, built from the specs (issue 5). Placeholder until the builder lands."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute

from mockserver.config import MockConfig


def build_site(out_dir: Path) -> list[Path]:
    """Write the static documentation site into ``out_dir``; the files written."""
    raise NotImplementedError("the documentation site builder has not landed yet")


def docs_routes(config: MockConfig) -> list[BaseRoute]:
    """The routes that serve the documentation site from the running mock."""
    return []
