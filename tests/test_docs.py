"""The documentation site: built to disk and served by the mock, checked without a browser (fast).

What a reader relies on: every operation of every spec is on its API's page, every documented example is
printed verbatim, every link between pages lands somewhere, nothing is loaded from another host, and the
mock serves the same pages with links to its own console.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

import pytest

from mockserver.cli import main
from mockserver.docs import build_site
from mockserver.docs.formatting import json_html, markdown, pretty_json
from mockserver.docs.model import read_api
from mockserver.specs import APIS, iter_operations, load_spec, resolve

ALLOWED_HOSTS = {
    "api.rootfi.dev", "api.mpdx.org", "api.toriihq.com",  # the vendors' servers, printed as facts
    "127.0.0.1",  # the mock
    "www.w3.org",  # the SVG namespace of the favicon, an identifier that is never fetched
}
URL = re.compile(r"https?://[^\s\"'<>)\]`]+")
REFERENCE = re.compile(r"""(?:href|src)=["']([^"']+)["']""")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(out)
    return out


def page_text(markup: str) -> str:
    """What a reader sees: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", markup))


def operation_article(page: str, operation_id: str) -> str:
    match = re.search(rf'<article class="op" id="{operation_id}".*?</article>', page, re.S)
    assert match, f"no operation {operation_id}"
    return match[0]


def all_operations() -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    for name in APIS:
        for method, path, operation in iter_operations(load_spec(name)):
            yield name, method, path, operation


def documented_values(name: str) -> Iterator[tuple[str, Any]]:
    """Every example value of a spec: on parameters, bodies, answers and in ``components.examples``."""
    spec = load_spec(name)

    def of(holder: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
        for example_name, example in (holder.get("examples") or {}).items():
            yield f"{where} {example_name}", resolve(spec, example)["value"]

    for method, path, operation in iter_operations(spec):
        where = f"{name} {method.upper()} {path}"
        for parameter in [*spec["paths"][path].get("parameters", []), *operation.get("parameters", [])]:
            yield from of(resolve(spec, parameter), where)
        if "requestBody" in operation:
            for media in resolve(spec, operation["requestBody"])["content"].values():
                yield from of(media, where + " request")
        for status, response in operation["responses"].items():
            for media in (resolve(spec, response).get("content") or {}).values():
                yield from of(media, f"{where} {status}")
    for example_name, example in spec.get("components", {}).get("examples", {}).items():
        yield f"{name} components {example_name}", example["value"]


def printed_forms(value: Any) -> list[str]:
    """How the site prints a value: strings verbatim, form fields one by one, the rest as pretty JSON."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (int, float)):
        return [str(value)]
    if isinstance(value, dict) and all(isinstance(v, str) for v in value.values()) and "file" in value:
        return list(value.values())
    return [pretty_json(value)]


# --- the static site ------------------------------------------------------------------------------------


def test_build_writes_the_index_a_page_per_api_and_the_assets(site):
    written = {path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_file()}
    assert {"index.html", "docs/rootfi.html", "docs/mpdx.html", "docs/torii.html"} <= written
    assert {"docs/assets/docs.css", "docs/assets/docs.js", "docs/assets/favicon.svg"} <= written
    assert {f"docs/specs/{name}.yaml" for name in APIS} <= written


def test_the_command_line_builds_the_site(tmp_path, capsys):
    assert main(["docs", "build", "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "index.html").is_file()
    assert "index.html" in capsys.readouterr().out


@pytest.mark.parametrize(("api", "method", "path", "operation"),
                         [pytest.param(*row, id=row[3]["operationId"]) for row in all_operations()])
def test_every_operation_is_on_its_page_with_method_path_and_every_status(site, api, method, path, operation):
    page = (site / "docs" / f"{api}.html").read_text()
    article = operation_article(page, operation["operationId"])
    text = " ".join(page_text(article).split())
    assert method.upper() in text and path in text
    assert " ".join(operation["summary"].split()) in text
    for status in operation["responses"]:
        assert re.search(rf'<span class="status status-[a-z-]+">{status}</span>', article), status


@pytest.mark.parametrize("api", APIS)
def test_every_documented_example_is_printed_verbatim(site, api):
    text = page_text((site / "docs" / f"{api}.html").read_text())
    missing = [where for where, value in documented_values(api)
               if not all(form in text for form in printed_forms(value))]
    assert not missing


def test_the_vendors_seed_examples_appear_as_written(site):
    mpdx = (site / "docs" / "mpdx.html").read_text()
    assert '"-4712-01-01T00:00:00Z"' in mpdx
    rootfi = page_text((site / "docs" / "rootfi.html").read_text())
    seed_body = load_spec("rootfi")["components"]["examples"]["SeedInviteLinkRequest"]["value"]
    assert pretty_json(seed_body) in rootfi
    assert '"company_name": "RootFi"' in rootfi
    torii = page_text((site / "docs" / "torii.html").read_text())
    as_published = load_spec("torii")["components"]["examples"]["CustomIntegrationDataFileAsPublished"]["value"]
    assert as_published in torii


def test_nothing_is_loaded_from_another_host(site):
    for path in site.rglob("*"):
        if path.is_file() and path.suffix in {".html", ".css", ".js", ".svg"}:
            content = path.read_text()
            hosts = {urlsplit(url).hostname for url in URL.findall(content)}
            assert hosts <= ALLOWED_HOSTS, (path, hosts - ALLOWED_HOSTS)
            assert "@import" not in content and not re.search(r"url\((?!['\"]?data:)", content)
            for reference in re.findall(r"""<(?:script|link|img)[^>]*(?:src|href)=["']([^"']+)""", content):
                assert not urlsplit(reference).scheme, (path, reference)


def test_every_link_between_pages_lands_on_a_file_and_an_anchor(site):
    pages = {path: path.read_text() for path in site.rglob("*.html")}
    ids = {path: set(re.findall(r'\sid="([^"]+)"', text)) for path, text in pages.items()}
    for path, text in pages.items():
        for reference in REFERENCE.findall(html.unescape(text)):
            parts = urlsplit(reference)
            if parts.scheme or reference.startswith("mailto:"):
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            assert target.is_file(), (path.name, reference)
            if parts.fragment and target.suffix == ".html":
                assert parts.fragment in ids[target], (path.name, reference)


def test_every_anchor_is_unique_on_its_page(site):
    for path in site.rglob("*.html"):
        ids = re.findall(r'\sid="([^"]+)"', path.read_text())
        assert len(ids) == len(set(ids)), (path.name, sorted({i for i in ids if ids.count(i) > 1}))


def test_the_static_site_points_at_the_default_mock_and_says_it_must_run(site):
    index = (site / "index.html").read_text()
    assert "http://127.0.0.1:8080/rootfi/v4" in index
    assert "http://127.0.0.1:8080/mpdx" in index and "http://127.0.0.1:8080/torii/v1.0" in index
    assert "mockserver serve" in index
    mpdx = (site / "docs" / "mpdx.html").read_text()
    assert 'href="http://127.0.0.1:8080/mpdx/ui/"' in mpdx
    assert "the mock must be running" in mpdx


def test_index_describes_each_api_and_links_to_its_page(site):
    index = page_text((site / "index.html").read_text())
    for api in APIS.values():
        assert api.real_server_url in index
    assert "Authorization: Bearer <JWT>" in index and "api_key: <key>" in index
    raw = (site / "index.html").read_text()
    for name in APIS:
        assert f'href="docs/{name}.html"' in raw


@pytest.mark.parametrize(("api", "words"), [
    ("mpdx", ["code", "400", "410", "active invites only", "409", "415"]),
    ("rootfi", ["401", "Partial update", "rootfi_updated_at", "Cursor pagination"]),
    ("torii", ["One sync at a time", "409", "429", "Retry-After", "400", "413", "3 MB"]),
])
def test_each_page_lists_the_rules_the_mock_enforces(site, api, words):
    page = (site / "docs" / f"{api}.html").read_text()
    rules = re.search(r'<section class="section" id="rules">.*?</section>', page, re.S)
    assert rules
    text = page_text(rules[0])
    assert all(word in text for word in words), [word for word in words if word not in text]


def test_pages_have_a_table_of_contents_and_the_filter_box(site):
    page = (site / "docs" / "torii.html").read_text()
    toc = re.search(r'<nav class="sidebar" id="toc".*?</nav>', page, re.S)[0]
    for _, _, operation in iter_operations(load_spec("torii")):
        assert f'href="#{operation["operationId"]}"' in toc
    assert 'id="search"' in page and 'src="assets/docs.js"' in page


# --- what the pages are made of -------------------------------------------------------------------------


def test_schemas_merge_all_of_and_resolve_references():
    invite = read_api("mpdx").schemas["AccountListInvite"]
    attributes = {prop.name: prop for prop in invite.properties}["attributes"].node
    fields = {prop.name: prop for prop in attributes.properties}
    assert fields["invite_user_as"].node.enum == ["user", "coach"]
    assert fields["invite_user_as"].required
    assert fields["accepted_at"].node.nullable
    assert fields["created_at"].node.format == "date-time"
    page = read_api("rootfi").schemas["InviteLinkPage"]
    data = {prop.name: prop for prop in page.properties}["data"].node
    assert data.label == "array of InviteLink"
    assert "connections" in {prop.name for prop in data.children}


def test_descriptions_cannot_inject_html():
    rendered = str(markdown("Hello <script>alert(1)</script> `code` **bold**"))
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered
    assert "<code>code</code>" in rendered and "<strong>bold</strong>" in rendered


def test_highlighted_json_reads_as_the_pretty_json():
    value = {"a": [1, -2.5, True, None], "b\"<>": "x\\y &", "c": {}}
    assert html.unescape(re.sub(r"<[^>]+>", "", str(json_html(value)))) == pretty_json(value)


# --- the site served by the mock ------------------------------------------------------------------------


def test_the_mock_serves_the_index_and_each_api_page(serve):
    client = serve("mpdx")
    index = client.get("http://127.0.0.1/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    for name in APIS:
        assert f'href="docs/{name}.html"' in index.text
        page = client.get(f"http://127.0.0.1/docs/{name}.html")
        assert page.status_code == 200
        assert f'href="{APIS[name].base_path(alone=False)}/ui/"' in page.text
    assert client.get("http://127.0.0.1/docs/assets/docs.css").headers["content-type"].startswith("text/css")
    assert client.get("http://127.0.0.1/docs/assets/docs.js").headers["content-type"].startswith("text/javascript")
    assert client.get("http://127.0.0.1/docs/specs/mpdx.yaml").status_code == 200
    assert client.get("http://127.0.0.1/docs/nothing.html").status_code == 404


def test_the_served_pages_are_the_static_pages_with_the_mocks_own_urls(serve, site):
    served = serve("torii").get("http://127.0.0.1/docs/torii.html").text
    static = (site / "docs" / "torii.html").read_text()
    assert served.count('class="op"') == static.count('class="op"') == 3
    assert 'href="/torii/v1.0/ui/"' in served and "127.0.0.1:8080" not in served


def test_with_one_api_alone_the_pages_link_to_its_console_at_the_root(serve):
    client = serve("mpdx", alone=True)
    mpdx = client.get("http://127.0.0.1/docs/mpdx.html").text
    assert 'href="/ui/"' in mpdx
    rootfi = client.get("http://127.0.0.1/docs/rootfi.html").text
    assert "not served by this mock" in rootfi and "/ui/" not in rootfi
    assert client.get("/api/v2/account_lists/68683b2d-3585-42f2-94f3-e1c366cf8177/invites").status_code == 200
    rootfi_alone = serve("rootfi", alone=True).get("http://127.0.0.1/docs/rootfi.html").text
    assert 'href="/v4/ui/"' in rootfi_alone and 'data-mock-path="/v4"' in rootfi_alone


def test_the_site_is_rendered_once_not_per_request(serve, monkeypatch):
    import mockserver.docs.routes as routes

    client = serve("mpdx")
    calls = []
    monkeypatch.setattr(routes, "render_site", lambda *args: calls.append(args) or {})
    client.get("http://127.0.0.1/")
    client.get("http://127.0.0.1/docs/mpdx.html")
    assert calls == []
