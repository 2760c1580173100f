"""Fuzzing every operation of every API: generated negative and random requests, and raw broken ones.

A bounded run of :func:`reliability.fuzz.fuzz_api` per API (``python -m reliability`` runs 5,000 per API).
Each property is its own test over the same run.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from contracts.target import DEFAULT_CREDENTIALS
from mockserver.config import MockConfig
from mockserver.specs import APIS
from reliability.fuzz import FuzzReport, fuzz_api
from reliability.servers import ThreadedMock

GENERATED_PER_API = 300
TOKENS = frozenset(value.removeprefix("Bearer ") for headers in DEFAULT_CREDENTIALS.values()
                   for value in headers.values())


@pytest.fixture(scope="module")
def reports() -> Iterator[dict[str, FuzzReport]]:
    runs: dict[str, FuzzReport] = {}
    with ThreadedMock(MockConfig(rate_limit=None, sync_seconds=0.2, tokens=TOKENS)) as mock:
        for api in APIS:
            runs[api] = fuzz_api(api, mock.base, generated=GENERATED_PER_API, seed=7)
    yield runs


@pytest.fixture(params=list(APIS))
def report(request, reports) -> FuzzReport:
    return reports[request.param]


def test_the_whole_budget_is_sent_with_the_raw_cases(report):
    assert report.generated >= GENERATED_PER_API
    assert report.raw >= 60


def test_fuzzing_gets_no_server_error(report):
    assert report.server_errors == []
    assert report.transport_errors == []


def test_every_error_is_in_the_vendors_format(report):
    assert report.format_errors == []


def test_rejected_requests_leave_the_stored_state_unchanged(report):
    assert report.statuses[400] > 0
    assert report.state_changes == []


def test_the_server_still_answers_after_the_fuzzing(report):
    assert report.answering_afterwards
