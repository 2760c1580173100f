"""Proof of power: ``mockserver contract`` fails every deliberately faulty implementation and passes the mock.

Each fault of :mod:`tests.faulty` is served by uvicorn on a free loopback port, and the contract command runs
against it as a subprocess, exactly as a team runs it against their own server. It must exit 1 and name a
failed check. The faithful mock, served the same way and checked with every suite, must exit 0. The kill rate
(faults caught / faults), with each fault and whether it was caught, is printed in pytest's terminal summary.

To keep the file within the test suite's budget, a fault's run keeps only the contract tags whose checks its
drift breaks (:attr:`Fault.tags`) and one generated example per operation, and two runs go at a time.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import httpx
import pytest
from starlette.types import ASGIApp

from contracts.target import DEFAULT_CREDENTIALS
from mockserver.specs import APIS
from tests.contract_helpers import ContractResult, ServedApp, run_contract
from tests.faulty import FAULTS, TAGS, Drift, Fault, faithful_app

WORKERS = 2
"""Contract runs at a time. A run keeps about one core busy (its subprocess, then the app serving it)."""
FAITHFUL_MAX_EXAMPLES = 2
RUN_TIMEOUT = 180
"""Seconds one contract run may take before it counts as a failure to run."""


@dataclass(frozen=True)
class Job:
    key: str
    api: str
    build: Callable[[], ASGIApp]
    exclude: tuple[str, ...]
    max_examples: int

    def run(self, workdir: Path) -> ContractResult:
        with ServedApp(self.build(), name=f"contract-{self.key}") as origin:
            return run_contract(self.api, origin + APIS[self.api].base_path(alone=True), workdir=workdir,
                                max_examples=self.max_examples, exclude=self.exclude, timeout=RUN_TIMEOUT)


def fault_job(fault: Fault) -> Job:
    return Job(fault.name, fault.api, fault.app, fault.exclude, fault.max_examples)


def faithful_job(api: str) -> Job:
    return Job(f"faithful-{api}", api, lambda: faithful_app(api), (), FAITHFUL_MAX_EXAMPLES)


class ContractRuns:
    """The contract runs of the selected tests, all started at once on a pool of :data:`WORKERS`.

    Under pytest-xdist each worker runs its own tests' contracts one by one, as they come: xdist is then the
    parallelism. Also a pytest plugin, for the kill rate in the terminal summary.
    """

    def __init__(self, jobs: list[Job], *, workdir: Path, prefetch: bool) -> None:
        self._jobs = {job.key: job for job in jobs}
        self._workdir = workdir
        self._pool = ThreadPoolExecutor(WORKERS if prefetch else 1, thread_name_prefix="contract-run")
        self._futures: dict[str, Future[ContractResult]] = {}
        self.outcomes: dict[str, tuple[Fault, bool, ContractResult]] = {}
        if prefetch:
            for job in sorted(jobs, key=lambda job: not job.key.startswith("faithful-")):  # longest runs first
                self._submit(job.key)

    def _submit(self, key: str) -> Future[ContractResult]:
        if key not in self._futures:
            self._futures[key] = self._pool.submit(self._jobs[key].run, self._workdir)
        return self._futures[key]

    def result(self, key: str) -> ContractResult:
        return self._submit(key).result(timeout=(RUN_TIMEOUT + 30) * len(self._jobs))

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if not self.outcomes:
            return
        caught = sum(hit for _, hit, _ in self.outcomes.values())
        total = len(self.outcomes)
        terminalreporter.section("contract kill rate", sep="=", bold=True)
        for api in APIS:
            rows = [outcome for outcome in self.outcomes.values() if outcome[0].api == api]
            if rows:
                terminalreporter.write_line(f"{APIS[api].title}: {sum(hit for _, hit, _ in rows)}/{len(rows)} caught")
            for fault, hit, result in rows:
                tags = f"[{','.join(fault.tags)}]"
                terminalreporter.write_line(
                    f"  {'caught' if hit else 'MISSED':6}  {fault.name:36} {tags:11} {len(result.failures):3} failed "
                    f"tests {result.seconds:5.1f}s  {fault.drift}", red=not hit)
        terminalreporter.write_line(f"kill rate: {caught}/{total} faults caught ({100 * caught / total:.0f}%)",
                                    bold=True, green=caught == total, red=caught != total)


@pytest.fixture(scope="session")
def contract_runs(request, tmp_path_factory):
    jobs = []
    for item in request.session.items:
        params = getattr(item, "callspec", None) and item.callspec.params
        if not params or item.module.__name__ != __name__:
            continue
        if item.originalname == test_the_contract_catches.__name__:
            jobs.append(fault_job(params["fault"]))
        elif item.originalname == test_the_faithful_mock_keeps_the_contract.__name__:
            jobs.append(faithful_job(params["api"]))
    runs = ContractRuns(jobs, workdir=tmp_path_factory.mktemp("contract-runs"),
                        prefetch=not hasattr(request.config, "workerinput"))
    request.config.pluginmanager.register(runs, "contract-kill-rate")
    yield runs
    runs.close()


def _tail(result: ContractResult, lines: int = 60) -> str:
    return "\n".join(result.output.strip().splitlines()[-lines:])


@pytest.mark.parametrize("api", list(APIS))
def test_the_faithful_mock_keeps_the_contract(api, contract_runs):
    result = contract_runs.result(f"faithful-{api}")
    print(f"\nfaithful {api}: exit {result.returncode} in {result.seconds:.1f}s")
    assert result.returncode == 0, (
        f"the contract fails the faithful mock:\n$ {' '.join(result.command)}\n{_tail(result)}"
    )


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_the_contract_catches(fault, contract_runs):
    result = contract_runs.result(fault.name)
    caught = result.returncode == 1 and bool(result.failures)
    contract_runs.outcomes[fault.name] = (fault, caught, result)
    print(f"\n{fault.name}: {'caught' if caught else 'MISSED'} (exit {result.returncode}, {result.seconds:.1f}s, "
          f"{len(result.failures)} failed): {', '.join(result.failures[:5])}")
    assert result.returncode == 1, (
        f"the contract does not catch {fault.name}: {fault.drift}\n$ {' '.join(result.command)}\n{_tail(result)}"
    )
    assert result.failures, f"exit 1, but the summary names no failed check:\n{_tail(result)}"


def test_the_faults_are_many_distinct_and_well_formed():
    for api in APIS:
        assert sum(fault.api == api for fault in FAULTS) >= 8, f"fewer than 8 faults of {api}"
    assert len({fault.name for fault in FAULTS}) == len(FAULTS)
    for fault in FAULTS:
        assert fault.tags and set(fault.tags) <= set(TAGS), fault.name
        assert fault.drift and fault.name.startswith(fault.api + "_"), fault.name
        assert (fault.handler is None) == bool(fault.config), f"{fault.name}: a middleware or a configuration"


# --- the plumbing alone changes nothing, so that every catch is the fault's -------------------------------------

PARENT = "68683b2d-3585-42f2-94f3-e1c366cf8177"
PROBES = {
    "rootfi": [
        ("GET", "/v4/core/invite_links", {}),
        ("GET", "/v4/core/invite_links?limit=1", {}),
        ("GET", "/v4/core/invite_links/1", {}),
        ("GET", "/v4/core/invite_links/999", {}),
        ("PUT", "/v4/core/invite_links/1", {"json": {}}),
        ("GET", "/v4/core/invite_links", {"headers": {"api_key": "wrong"}}),
    ],
    "mpdx": [
        ("GET", f"/api/v2/account_lists/{PARENT}/invites", {}),
        ("GET", f"/api/v2/account_lists/{PARENT}/invites?per_page=1&page=2&filter[invite_user_as]=user", {}),
        ("GET", "/api/v2/account_lists/not-a-uuid/invites", {}),
        ("POST", f"/api/v2/organizations/{PARENT}/invites",
         {"content": b"{", "headers": {"Content-Type": "application/vnd.api+json"}}),
        ("GET", f"/api/v2/account_lists/{PARENT}/invites", {"headers": {"Authorization": "Bearer wrong"}}),
    ],
    "torii": [
        ("GET", "/v1.0/files/1000", {}),
        ("GET", "/v1.0/files/5", {}),
        ("PUT", "/v1.0/services/sync/custom", {"json": {"idFile": "x"}}),
        ("GET", "/v1.0/files/1000", {"headers": {"Authorization": "Bearer wrong"}}),
    ],
}


@pytest.mark.parametrize("api", list(APIS))
def test_a_drift_that_only_forwards_answers_as_the_mock(api):
    """Byte for byte, status and content type, successes and errors alike."""

    async def forward(request, mock):
        return await mock.forward(request)

    async def probe(app: ASGIApp) -> list[tuple[int, str | None, bytes]]:
        headers = {**DEFAULT_CREDENTIALS[api], "X-Mock-Session": "probe"}
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1",
                                     headers=headers) as client:
            answers = []
            for method, path, options in PROBES[api]:
                response = await client.request(method, path, **options)
                answers.append((response.status_code, response.headers.get("content-type"), response.content))
            return answers

    bare = asyncio.run(probe(faithful_app(api, rate_limit=None)))
    wrapped = asyncio.run(probe(Drift(faithful_app(api, rate_limit=None), forward)))
    assert wrapped == bare
    assert {200, 401} <= {status for status, _, _ in bare}
