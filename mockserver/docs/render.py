"""Render the site: the index, one page per API, the shipped assets and a copy of each spec, in memory.

The result maps each file's path in the site (``docs/mpdx.html``) to its bytes; writing it to disk and
serving it from the mock are both a loop over that mapping.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from mockserver import __version__
from mockserver.docs import formatting
from mockserver.docs.guide import GUIDES, MOCK_CONTROLS
from mockserver.docs.model import ApiModel, read_api
from mockserver.docs.site import ASSET_DIR, INDEX, Deployment, page_path, spec_path
from mockserver.specs import APIS

PACKAGE = resources.files("mockserver.docs")
ASSETS = ("docs.css", "docs.js", "favicon.svg")
"""The files of ``assets/`` that every page uses; no page loads anything from elsewhere."""


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(PACKAGE / "templates")),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        json_html=formatting.json_html,
        value_html=formatting.value_html,
        inline_value=formatting.inline_value,
        path_html=formatting.path_html,
        first_sentence=formatting.first_sentence,
    )
    return env


def _site_context(deployment: Deployment, apis: list[ApiModel]) -> dict[str, Any]:
    return {
        "deployment": deployment,
        "apis": apis,
        "guides": GUIDES,
        "mock_controls": MOCK_CONTROLS,
        "version": __version__,
        "page_path": page_path,
    }


def render_site(deployment: Deployment) -> dict[str, bytes]:
    """Every file of the site, by its path relative to the site's root."""
    env = _environment()
    apis = [read_api(name) for name in APIS]
    context = _site_context(deployment, apis)
    files: dict[str, bytes] = {}

    plain = formatting.Linker()
    index = env.get_template("index.html").render(
        **context,
        root="",
        assets=ASSET_DIR + "/",
        current=None,
        md=lambda text: formatting.markdown(text, plain),
        md_inline=lambda text: formatting.markdown_inline(text, plain),
    )
    files[INDEX] = index.encode()

    page = env.get_template("api.html")
    for api in apis:
        linker = formatting.Linker(
            schemas=api.schemas,
            examples=[example.name for example in api.examples],
            operations=[(op.operation_id, op.method, op.path) for op in api.operations],
        )
        html = page.render(
            **context,
            root="../",
            assets="assets/",
            current=api,
            api=api,
            guide=GUIDES[api.name],
            md=lambda text, linker=linker: formatting.markdown(text, linker),
            md_inline=lambda text, linker=linker: formatting.markdown_inline(text, linker),
        )
        files[page_path(api.name)] = html.encode()
        files[spec_path(api.name)] = APIS[api.name].spec_path.read_bytes()

    for asset in ASSETS:
        files[f"{ASSET_DIR}/{asset}"] = (PACKAGE / "assets" / asset).read_bytes()
    return files
