"""With --db, state survives a restart and a crash, and the file is always whole."""

from __future__ import annotations

import shutil

import pytest

from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.store import JournalStorage, StoreError

PARENT = "f10a0678-541e-4ebc-bb33-bc9ede811be9"
JSONAPI = {"Content-Type": "application/vnd.api+json"}


def create_invite(client, email: str = "kept@example.com") -> str:
    response = client.post(
        f"/api/v2/account_lists/{PARENT}/invites",
        json={"data": {"type": "account_list_invites", "attributes": {"recipient_email": email}}},
        headers=JSONAPI,
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def test_state_persists_across_a_restart(serve, tmp_path):
    db = tmp_path / "state.json"
    first = serve("mpdx", db_path=db)
    invite = create_invite(first)
    first.__exit__(None, None, None)
    second = serve("mpdx", db_path=db)
    response = second.get(f"/api/v2/account_lists/{PARENT}/invites/{invite}")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["recipient_email"] == "kept@example.com"


def test_every_acknowledged_write_is_already_on_disk(serve, tmp_path):
    """No flush at shutdown is needed: a 2xx means the write is on disk, so a crash cannot lose it."""
    db = tmp_path / "state.json"
    client = serve("mpdx", db_path=db)
    ids = [create_invite(client, f"n{i}@example.com") for i in range(3)]
    # Copy the files as they are while this mock still runs (as a kill -9 would leave them), and load the copy.
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("state.json", "state.json.journal"):
        shutil.copy(tmp_path / name, crashed / name)
    on_disk = JournalStorage(crashed / "state.json").read()
    stored = {key for table, records in on_disk.items() if table.endswith("account_list_invites") for key in records}
    assert set(ids) <= stored
    assert not list(tmp_path.glob("*.tmp")), "no temporary file is left behind"


def test_a_write_appends_one_line_instead_of_rewriting_the_file(serve, tmp_path):
    db = tmp_path / "state.json"
    client = serve("mpdx", db_path=db)
    snapshot = db.read_bytes()
    journal = (tmp_path / "state.json.journal")
    before = journal.read_bytes().count(b"\n")
    create_invite(client)
    assert db.read_bytes() == snapshot
    assert journal.read_bytes().count(b"\n") > before


def test_a_torn_last_journal_line_is_ignored(serve, tmp_path):
    db = tmp_path / "state.json"
    client = serve("mpdx", db_path=db)
    invite = create_invite(client)
    client.__exit__(None, None, None)
    with (tmp_path / "state.json.journal").open("ab") as journal:
        journal.write(b'{"t": "default/mpdx.account_list_invites", "set": {"x": {"id"')
    again = serve("mpdx", db_path=db)
    assert again.get(f"/api/v2/account_lists/{PARENT}/invites/{invite}").status_code == 200


def test_a_corrupt_journal_line_before_the_end_is_refused_by_name(tmp_path):
    db = tmp_path / "state.json"
    (tmp_path / "state.json.journal").write_bytes(b"garbage\n" + b'{"t": "a", "set": {}}\n')
    with pytest.raises(StoreError, match=r"state\.json\.journal is corrupt at line 1"):
        create_app(MockConfig(apis=("mpdx",), db_path=db))


def test_restarting_folds_the_journal_into_the_snapshot(serve, tmp_path):
    db = tmp_path / "state.json"
    client = serve("mpdx", db_path=db)
    invite = create_invite(client)
    client.__exit__(None, None, None)
    serve("mpdx", db_path=db)
    assert (tmp_path / "state.json.journal").read_bytes() == b""
    assert invite in db.read_text()


def test_sessions_persist_separately(serve, tmp_path):
    db = tmp_path / "state.json"
    client = serve("mpdx", db_path=db)
    invite = create_invite(client)
    client.__exit__(None, None, None)
    again = serve("mpdx", db_path=db)
    assert again.get(f"/api/v2/account_lists/{PARENT}/invites/{invite}", headers={"X-Mock-Session": "other"}).status_code == 404
    assert again.get(f"/api/v2/account_lists/{PARENT}/invites/{invite}").status_code == 200


def test_a_restarted_mock_does_not_reseed_over_changed_data(serve, tmp_path):
    db = tmp_path / "state.json"
    seeded = "/api/v2/account_lists/08d9120d-db44-48e0-b7b0-6ba37b18b130/invites/6be89230-020f-4381-8a11-1217598d89a0"
    client = serve("mpdx", db_path=db)
    assert client.delete(seeded).status_code == 204
    client.__exit__(None, None, None)
    again = serve("mpdx", db_path=db)
    assert again.get(seeded).json()["data"]["relationships"]["cancelled_by_user"]["data"] is not None


@pytest.mark.parametrize("content", ['{"default/mpdx.account_list_invites": {"a": ', "\x00\x01garbage", "[1, 2]"])
def test_a_corrupt_database_file_is_refused_by_name_and_left_untouched(tmp_path, content):
    db = tmp_path / "broken.json"
    db.write_text(content)
    with pytest.raises(StoreError, match="broken.json"):
        create_app(MockConfig(apis=("mpdx",), db_path=db))
    assert db.read_text() == content
