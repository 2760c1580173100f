"""`mockserver contract`: the full suites pass against the embedded mock; usage errors exit 2.

The runs here are real: pytest runs the contract suites over HTTP against a mock on a loopback port.
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree

import pytest


def contract(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mockserver", "contract", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_the_full_contract_of_all_three_apis_holds_for_the_embedded_mock(tmp_path):
    report = tmp_path / "contract.xml"
    result = contract("--api", "all", "--junit-xml", str(report))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    suites = ElementTree.parse(report).getroot()
    tests = sum(int(suite.get("tests", 0)) for suite in suites.iter("testsuite"))
    assert tests > 0
    assert sum(int(suite.get("failures", 0)) for suite in suites.iter("testsuite")) == 0


@pytest.mark.parametrize("args", [
    ["--api", "all", "--base-url", "http://127.0.0.1:9"],
    ["--api", "nope"],
    ["--api", "mpdx", "--max-examples", "0"],
    ["--api", "mpdx", "--exclude", "everything"],
    ["--api", "mpdx", "--header", "no colon here"],
], ids=["base-url-with-all", "unknown-api", "no-examples", "unknown-tag", "malformed-header"])
def test_a_usage_error_exits_2(args):
    result = contract(*args, timeout=120)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]


def test_an_unreachable_target_breaks_the_contract():
    result = contract("--api", "torii", "--base-url", "http://127.0.0.1:9/v1.0", "--max-examples", "1",
                      "--exclude", "rules", timeout=300)
    assert result.returncode == 1
    assert "contract failures" in result.stdout


def second_user_run(base: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "contracts", "--rootdir", "contracts", "-p", "no:cacheprovider",
         "--api", "mpdx", "--base-url", base, "--header", "Authorization: Bearer first-user", *extra,
         "-k", "another_user_accepted", "-rs", "-q"],
        capture_output=True, text=True, timeout=300)


def test_the_two_user_rules_run_against_a_real_server_given_a_second_credential(start):
    server = start("--api", "mpdx")
    result = second_user_run(server.base, "--second-header", "Authorization: Bearer second-user")
    assert result.returncode == 0, result.stdout[-3000:]
    assert "2 passed" in result.stdout and "skipped" not in result.stdout


def test_without_a_second_credential_the_two_user_rules_skip_and_say_how_to_run_them(start):
    server = start("--api", "mpdx")
    result = second_user_run(server.base)
    assert "2 skipped" in result.stdout
    assert "--second-header" in result.stdout
