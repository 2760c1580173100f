"""pytest options and hooks of the contract suites: ``pytest contracts --api NAME [--base-url URL]``.

``mockserver contract`` runs these same suites through pytest, so the two ways of running give the same
tests, the same failures and pytest's own JUnit XML (``--junitxml``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from contracts import checks  # noqa: F401  (registers the vendor checks with Schemathesis)
from contracts.client import ContractClient
from contracts.target import DEFAULT_CREDENTIALS, EmbeddedMock, Target, activate, active, current_run
from mockserver.specs import APIS

TAGS = {
    "examples": "replays the documented requests and checks the documented answers",
    "edge": "edge cases: invalid input and credentials get the documented 4xx in the vendor's format",
    "generated": "Schemathesis phases: examples, coverage and fuzzing of every operation",
    "stateful": "sequences: Schemathesis's link-driven state machine and explicit scenarios",
    "rules": "rules under load or timing (a second sync, the rate limit): cost quota on a real service",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contracts", "API contract suites")
    group.addoption("--api", default="all", choices=["all", *APIS], help="which API's contract to check")
    group.addoption("--base-url", default=None,
                    help="the implementation to check, replacing the spec's server URL (one API only); "
                         "without it the embedded mock is started on a free loopback port")
    group.addoption("--header", action="append", default=[], metavar="'Name: value'",
                    help="a header for every request, e.g. credentials of a real implementation")
    group.addoption("--second-header", action="append", default=[], metavar="'Name: value'",
                    help="another user's credentials, for the tests that need two callers (without it they run "
                         "only against the embedded mock)")
    group.addoption("--max-examples", type=int, default=20, help="generated cases per operation and phase")
    group.addoption("--exclude", action="append", default=[], choices=list(TAGS), metavar="TAG",
                    help=f"skip the tests with this tag ({', '.join(TAGS)})")


def _parse_headers(values: list[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, content = value.partition(":")
        if not sep or not name.strip():
            raise pytest.UsageError(f"--header must look like 'Name: value', got {value!r}")
        headers[name.strip()] = content.strip()
    return headers


def pytest_configure(config: pytest.Config) -> None:
    for tag, meaning in TAGS.items():
        config.addinivalue_line("markers", f"{tag}: {meaning}")
    apis = list(APIS) if config.getoption("api") == "all" else [config.getoption("api")]
    base_url = config.getoption("base_url")
    headers = _parse_headers(config.getoption("header"))
    if config.getoption("max_examples") < 1:
        raise pytest.UsageError("--max-examples must be at least 1")
    if base_url is not None:
        if len(apis) != 1:
            raise pytest.UsageError("--base-url names one implementation: give it with --api rootfi|mpdx|torii")
        targets = {apis[0]: Target(api=apis[0], base_url=base_url, headers=headers or DEFAULT_CREDENTIALS[apis[0]],
                                   second_headers=_parse_headers(config.getoption("second_header")))}
    else:
        mock = EmbeddedMock().start()
        config.stash[_MOCK] = mock
        targets = {api: mock.target(api) for api in apis}
        for target in targets.values():
            target.headers.update(headers)
    activate(targets, max_examples=config.getoption("max_examples"))


_MOCK = pytest.StashKey[EmbeddedMock]()


def pytest_unconfigure(config: pytest.Config) -> None:
    mock = config.stash.get(_MOCK, None)
    if mock is not None:
        mock.stop()


TAGGED_MODULES = {"test_generated.py": "generated", "test_stateful.py": "stateful"}
"""Modules whose every test has one tag: skipped whole when it is excluded (building them costs seconds)."""


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Suites of APIs outside this run, or of excluded tags, are not even imported."""
    name = collection_path.name
    if TAGGED_MODULES.get(name) in set(config.getoption("exclude")):
        return True
    if name.startswith("test_") and name.endswith(".py"):
        api = name.removeprefix("test_").split("_", 1)[0].removesuffix(".py")
        if api in APIS and api not in current_run().targets:
            return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    excluded = set(config.getoption("exclude"))
    if not excluded:
        return
    kept, dropped = [], []
    for item in items:
        (dropped if excluded & {mark.name for mark in item.iter_markers()} else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture
def client_for():
    """``client_for("mpdx")``: a :class:`ContractClient` for that API's target, on a fresh mock session."""
    clients: list[ContractClient] = []

    def make(api: str, **options) -> ContractClient:
        client = ContractClient(active(api), **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(request: pytest.FixtureRequest, client_for) -> ContractClient:
    """A client for the suite module's ``API``, on a fresh mock session: every test sees only its own records."""
    return client_for(request.module.API)


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    """Name each broken contract: the operation, what the contract expects and what came back, with curl."""
    failed = terminalreporter.stats.get("failed", [])
    if not failed:
        return
    terminalreporter.section("contract failures", sep="=", red=True, bold=True)
    for report in failed:
        terminalreporter.write_line(f"✗ {report.nodeid}", red=True, bold=True)
        text = getattr(report, "contract_message", None) or str(report.longrepr)
        for line in text.strip().splitlines()[:40]:
            terminalreporter.write_line("    " + line)
        terminalreporter.write_line("")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and call.excinfo is not None:
        report.contract_message = _describe(call.excinfo.value)
    return report


def _describe(exc: BaseException) -> str:
    """The failure as Schemathesis words it (title, expected vs received, curl), without a traceback."""
    if isinstance(exc, BaseExceptionGroup):
        parts = [str(exc).split(" (", 1)[0]] if "Reproduce with" in str(exc) else []
        if not parts:
            parts = [_describe(inner) for inner in exc.exceptions]
        return "\n".join(parts)
    return str(exc) or type(exc).__name__
