"""Schemathesis's per-operation phases against every API of the run.

For each operation: the documented examples, then the coverage phase (boundary and invalid values of every
parameter and field) and the fuzzing phase, each response checked by all of Schemathesis's checks plus the
vendor rules of :mod:`contracts.checks`. Against the mock each operation gets its own ``X-Mock-Session``.
"""

from __future__ import annotations

import uuid

import pytest
import schemathesis

from contracts.schemas import load_schema
from contracts.target import current_run

RUN = current_run()
SCHEMAS = {api: load_schema(target, max_examples=RUN.max_examples) for api, target in RUN.targets.items()}


_SESSIONS: dict[str, dict[str, str]] = {}


def _session_of(operation: str) -> dict[str, str]:
    """One ``X-Mock-Session`` per operation of this run (a fixture would be shared across Hypothesis inputs)."""
    return _SESSIONS.setdefault(operation, {"X-Mock-Session": f"contract-{uuid.uuid4().hex[:12]}"})


@pytest.mark.generated
@schemathesis.pytest.parametrize(**SCHEMAS)
def test_operation(case):
    case.call_and_validate(headers=_session_of(case.operation.label))
