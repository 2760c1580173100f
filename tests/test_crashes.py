"""kill -9 in the middle of a write storm: the file loads again, and no acknowledged write is lost.

A bounded run of :func:`reliability.crash_loop` (``python -m reliability`` kills the server 20 times).
"""

from __future__ import annotations

import pytest

from reliability.crashes import CrashReport, crash_loop

ROUNDS = 3


@pytest.fixture(scope="module")
def crashes(tmp_path_factory) -> CrashReport:
    return crash_loop(tmp_path_factory.mktemp("crash") / "mock.json", rounds=ROUNDS, clients=16, seed=11)


def test_the_server_restarts_on_its_file_after_every_kill_9(crashes):
    assert crashes.kills == ROUNDS
    assert crashes.restarts == ROUNDS
    assert crashes.startup_failures == []


def test_no_acknowledged_write_is_lost_to_kill_9(crashes):
    assert crashes.acknowledged > 100
    assert crashes.lost == []
    assert crashes.found == crashes.acknowledged
