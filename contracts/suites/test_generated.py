"""Schemathesis's phases against every API of the run.

* ``test_operation``: for each operation, the documented examples, then the coverage phase (boundary and
  invalid values of every parameter and field) and the fuzzing phase, each response checked by all of
  Schemathesis's checks plus the vendor rules of :mod:`contracts.checks`.
* ``TestStateful<Api>``: Hypothesis-driven sequences that follow the spec's OpenAPI links (create → get /
  accept / cancel, upload → sync...), checking every step the same way.

Against the mock each test and each scenario gets its own ``X-Mock-Session``, so they never share state.
"""

from __future__ import annotations

import uuid

import hypothesis
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


def _stateful_test(api: str, schema) -> type:
    class Scenario(schema.as_state_machine()):
        def setup(self) -> None:
            self._session = {"X-Mock-Session": f"contract-{uuid.uuid4().hex[:12]}"}

        def get_call_kwargs(self, case):
            return {"headers": self._session}

    test_case = Scenario.TestCase
    test_case.settings = hypothesis.settings(
        test_case.settings, max_examples=RUN.max_examples, stateful_step_count=8, deadline=None
    )
    test_case.pytestmark = [pytest.mark.stateful]
    test_case.__name__ = test_case.__qualname__ = f"TestStateful{api.title()}"
    return test_case


for _api, _schema in SCHEMAS.items():
    globals()[f"TestStateful{_api.title()}"] = _stateful_test(_api, _schema)
