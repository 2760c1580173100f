"""Run the contract suites: ``mockserver contract`` is pytest over ``contracts/`` with our options.

Running through pytest keeps one set of suites for both ways of running them (the CLI and a team's own
``pytest contracts``), and gives progress, JUnit XML and ``-n`` workers (pytest-xdist) for free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

SUITES = Path(__file__).resolve().parent

EXIT_OK, EXIT_BROKEN, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class ContractRun:
    api: str = "all"
    base_url: str | None = None
    headers: tuple[str, ...] = ()
    second_headers: tuple[str, ...] = ()
    junit_xml: Path | None = None
    max_examples: int = 20
    workers: int = 1
    exclude: tuple[str, ...] = ()
    verbose: bool = False
    extra_args: tuple[str, ...] = field(default_factory=tuple)

    def pytest_args(self) -> list[str]:
        args = [str(SUITES), "--rootdir", str(SUITES), "--api", self.api, "--max-examples", str(self.max_examples)]
        if self.base_url:
            args += ["--base-url", self.base_url]
        for header in self.headers:
            args += ["--header", header]
        for header in self.second_headers:
            args += ["--second-header", header]
        for tag in self.exclude:
            args += ["--exclude", tag]
        if self.junit_xml:
            args += ["--junitxml", str(self.junit_xml)]
        if self.workers > 1:
            args += ["-n", str(self.workers)]
        args += ["-v" if self.verbose else "-q", "--tb=no", "-W", "ignore::DeprecationWarning"]
        return args + list(self.extra_args)


def run(contract: ContractRun) -> int:
    """0 when the target keeps the contract, 1 when it does not, 2 when the run itself could not happen."""
    code = pytest.main(contract.pytest_args())
    if code == pytest.ExitCode.OK:
        return EXIT_OK
    if code == pytest.ExitCode.TESTS_FAILED:
        return EXIT_BROKEN
    return EXIT_USAGE
