"""Schemathesis's stateful phase against every API of the run.

Hypothesis-driven sequences that follow the spec's OpenAPI links (create → get / accept / cancel,
upload → sync...), checking every step with Schemathesis's checks and the vendor rules. Against the mock each
scenario gets its own ``X-Mock-Session``, so scenarios never share state.
"""

from __future__ import annotations

import uuid

import hypothesis
import pytest

from contracts.schemas import load_schema
from contracts.target import current_run

RUN = current_run()


def _stateful_test(api: str, schema) -> type:
    class Scenario(schema.as_state_machine()):
        def setup(self) -> None:
            self._session = {"X-Mock-Session": f"contract-{uuid.uuid4().hex[:12]}"}

        def get_call_kwargs(self, case):
            return {"headers": self._session}

    test_case = Scenario.TestCase
    test_case.settings = hypothesis.settings(
        test_case.settings, max_examples=RUN.max_examples, stateful_step_count=8, deadline=None, database=None
    )
    test_case.pytestmark = [pytest.mark.stateful]
    test_case.__name__ = test_case.__qualname__ = f"TestStateful{api.title()}"
    return test_case


for _api, _target in RUN.targets.items():
    globals()[f"TestStateful{_api.title()}"] = _stateful_test(_api, load_schema(_target, max_examples=RUN.max_examples))
