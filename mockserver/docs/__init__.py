"""The API documentation site, built from the specs: written to disk, or served by the running mock.

``model`` and ``schema`` read a spec into what a page shows, ``guide`` adds the rules the mock enforces,
``render`` turns that into HTML with the ``templates`` and ``assets`` shipped in this package, ``site``
says where the site lives (on disk, or inside a mock serving some of the APIs), ``routes`` serves it.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute

from mockserver.config import MockConfig


def build_site(out_dir: Path) -> list[Path]:
    """Write the static documentation site into ``out_dir``; the files written.

    The site works offline, opened from disk or from any web server: every page links only to files
    written here, and its console links point at a mock on its default address.
    """
    from mockserver.docs.render import render_site
    from mockserver.docs.site import Deployment

    out_dir = Path(out_dir)
    written = []
    for relative, content in render_site(Deployment.static()).items():
        target = out_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written


def docs_routes(config: MockConfig) -> list[BaseRoute]:
    """The routes that serve the documentation site from the running mock (rendered once, here)."""
    from mockserver.docs.routes import site_routes

    return site_routes(config)


__all__ = ["build_site", "docs_routes"]
