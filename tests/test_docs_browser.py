"""The documentation site in a real browser: Debian's Chromium driven by Playwright, never a downloaded one.

A real mock runs under uvicorn on a free loopback port; the pages are read as a person would, from the
mock and from the static site opened from disk, and no page may log a console error. Full-page screenshots
of the index and each API page are kept in ``artifacts/screenshots/`` (not committed) to look at.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is not installed (`apt-get install chromium`; .ci/run does it)",
                allow_module_level=True)

import uvicorn  # noqa: E402
from playwright.sync_api import Browser, ConsoleMessage, Page, expect, sync_playwright  # noqa: E402

from mockserver.app import create_app  # noqa: E402
from mockserver.config import MockConfig  # noqa: E402
from mockserver.docs import build_site  # noqa: E402
from mockserver.specs import APIS, iter_operations, load_spec  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]
SEEDED_LIST = "68683b2d-3585-42f2-94f3-e1c366cf8177"
SEEDED_INVITE = "53af07af-76b9-470b-b1d4-9be69aac6ba1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def mock() -> Iterator[str]:
    """The base URL of a real mock (all three APIs, as ``mockserver serve`` runs it by default)."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(MockConfig()), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="mock", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the mock did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def static_site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("static-site")
    build_site(out)
    return out


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page; the test fails if any page it opened logged a console error or threw."""
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            problems.append(f"console error on {page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"uncaught error on {page.url}: {error}"))
    yield page
    context.close()
    assert not problems


def operations_on(page: Page) -> dict[str, str]:
    """The operations a page shows: operationId -> the visible "METHOD /path" line."""
    rows = page.eval_on_selector_all(
        "article.op",
        "els => els.filter(e => e.offsetParent !== null)"
        ".map(e => [e.id, e.querySelector('.op-line').innerText.replace(/\\s+/g, ' ').trim()])",
    )
    return dict(rows)


def expected_operations(api: str) -> dict[str, str]:
    return {op["operationId"]: f"{method.upper()} {path}" for method, path, op in iter_operations(load_spec(api))}


@pytest.mark.parametrize("api", APIS)
def test_every_operation_of_the_spec_is_on_its_served_page(page, mock, api):
    page.goto(f"{mock}/docs/{api}.html")
    expect(page.locator("h1")).to_have_text(load_spec(api)["info"]["title"])
    assert operations_on(page) == expected_operations(api)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{api}.png"), full_page=True)


def test_following_the_index_links_works(page, mock):
    page.goto(mock + "/")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "index.png"), full_page=True)
    for name, api in APIS.items():
        page.goto(mock + "/")
        page.locator(f"#api-{name}").get_by_role("link", name="Read the reference").click()
        expect(page).to_have_url(f"{mock}/docs/{name}.html")
        expect(page.locator("h1")).to_have_text(api.spec["info"]["title"])
        # The page shows this mock's base URL, with the origin it was served from.
        expect(page.locator(".facts [data-mock-path]")).to_have_text(mock + api.base_path(alone=False))
    # An operation in the index's table opens its API page at that operation.
    page.goto(mock + "/")
    page.locator('#operations a[href="docs/mpdx.html#accept_account_list_invite"]').click()
    expect(page).to_have_url(re.compile(r"/docs/mpdx\.html#accept_account_list_invite$"))
    expect(page.locator("#accept_account_list_invite")).to_be_in_viewport()
    # The table of contents leads to an operation, and its console link to that operation in Swagger UI.
    page.locator("#toc").get_by_role("link", name="Cancel an organization invite").click()
    expect(page.locator("#delete_organization_invite")).to_be_in_viewport()
    expect(page.get_by_role("link", name="Open the interactive console")).to_have_attribute("href", "/mpdx/ui/")
    page.locator("#delete_organization_invite").get_by_role("link", name="Try it in the console").click()
    expect(page).to_have_url(f"{mock}/mpdx/ui/#/Organization%20invites/delete_organization_invite")
    expect(page.locator("#operations-Organization_invites-delete_organization_invite.is-open")).to_be_visible()


def test_the_filter_box_narrows_the_operations(page, mock):
    page.goto(f"{mock}/docs/mpdx.html")
    page.keyboard.press("/")
    page.keyboard.type("accept")
    assert sorted(operations_on(page)) == ["accept_account_list_invite", "accept_organization_invite"]
    expect(page.locator("#search-status")).to_have_text("2 of 10 operations match")
    expect(page.locator('#toc a[href="#list_organization_invites"]')).to_be_hidden()
    page.keyboard.press("Escape")
    assert len(operations_on(page)) == 10


def test_the_static_site_works_from_disk(page, static_site):
    pages = ["index.html", *(f"docs/{name}.html" for name in APIS)]
    for relative in pages:
        page.goto((static_site / relative).as_uri())
        expect(page.locator("h1")).to_be_visible()
        # The stylesheet and the script, both loaded from the site's own folder, are in effect.
        assert page.eval_on_selector(".topbar", "e => getComputedStyle(e).position") == "sticky"
        page.locator("#search").fill("get")
        expect(page.locator("#search-status")).to_contain_text("operations match")
    # Following links between the pages on disk.
    page.goto((static_site / "index.html").as_uri())
    page.locator("#api-torii").get_by_role("link", name="Read the reference").click()
    expect(page.locator("h1")).to_have_text(load_spec("torii")["info"]["title"])
    assert operations_on(page) == expected_operations("torii")
    console = page.get_by_role("link", name="Open the interactive console")
    expect(console).to_have_attribute("href", "http://127.0.0.1:8080/torii/v1.0/ui/")
    page.get_by_role("link", name="Vendor API docs").click()
    expect(page.locator("h1")).to_have_text("RootFi, MPDX and Torii")


def test_try_it_out_in_the_console_lists_the_seeded_invites_from_the_mock(page, mock):
    page.goto(f"{mock}/mpdx/ui/")
    # Authorize with a bearer token, through Swagger UI's own dialog.
    page.locator("button.authorize").first.click()
    page.get_by_label("auth-bearer-value").fill("docs-browser-test")
    page.locator(".auth-container").first.get_by_role("button", name="Authorize").click()
    page.locator(".auth-container").first.get_by_role("button", name="Close").click()

    operation = page.locator("#operations-Account_list_invites-list_account_list_invites")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    # The documented account list of the spec's example, which the mock seeds with one invite.
    operation.locator('tr[data-param-name="account_list_id"] input').fill(SEEDED_LIST)
    # Swagger UI pre-fills the optional filter with the first role (user); the seeded invite is a coach's.
    operation.locator('tr[data-param-name="filter"] textarea').fill("")
    operation.get_by_role("button", name="Execute").click()

    answer = operation.locator(".live-responses-table tr.response").first
    expect(answer.locator(".response-col_status")).to_have_text("200", timeout=10_000)
    expect(answer.locator(".response-col_description")).to_contain_text(SEEDED_INVITE)
    expect(operation.locator(".request-url")).to_contain_text(
        f"{page.url.split('/mpdx/')[0]}/mpdx/api/v2/account_lists/{SEEDED_LIST}/invites")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    operation.screenshot(path=str(SCREENSHOTS / "mpdx-console-try-it-out.png"))
