"""Many clients at once against a real server process: no lost, duplicated or half-seen write.

A bounded run of :func:`reliability.concurrency.run_storm` (``python -m reliability`` creates 10,000
invites): 64 concurrent connections creating, reading, listing, accepting and cancelling MPDX invites and
creating and updating RootFi links, in memory and with ``--db``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from reliability.concurrency import StormReport, race_syncs, run_storm
from reliability.servers import ServerProcess

CLIENTS = 64
INVITES = 600


@pytest.fixture(scope="module", params=["in memory", "--db"])
def storm(request, tmp_path_factory) -> Iterator[StormReport]:
    folder: Path = tmp_path_factory.mktemp("storm")
    options = ["--db", str(folder / "mock.json")] if request.param == "--db" else []
    server = ServerProcess("--no-rate-limit", *options, log=folder / "server.log")
    try:
        yield run_storm(server.base, invites=INVITES, clients=CLIENTS, seed=3)
    finally:
        server.kill()


def test_a_storm_of_64_clients_gets_no_server_error(storm):
    assert storm.requests > INVITES
    assert storm.server_errors == []


def test_every_acknowledged_invite_is_stored_once_and_nothing_else(storm):
    assert len(storm.created) == INVITES
    assert storm.stored_invites == INVITES
    assert (storm.lost, storm.unexpected, storm.duplicate_ids) == ([], [], 0)


def test_invite_codes_stay_unique_under_concurrency(storm):
    assert storm.duplicate_codes == 0
    assert len(set(storm.created.values())) == len(storm.created)


def test_no_read_during_the_storm_sees_a_missing_or_half_made_record(storm):
    assert storm.torn_reads == []


def test_accepts_cancels_and_rootfi_updates_end_as_acknowledged(storm):
    assert storm.accepted and storm.cancelled and len(storm.links_created) == CLIENTS
    assert storm.wrong_states == []


def test_concurrent_syncs_of_one_caller_get_exactly_one_200_and_409_for_the_rest(tmp_path):
    server = ServerProcess("--no-rate-limit", "--sync-seconds", "5", log=tmp_path / "server.log")
    try:
        report = race_syncs(server.base, callers=32)
    finally:
        server.kill()
    assert report.statuses == {200: 1, 409: 31}
