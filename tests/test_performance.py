"""What the performance work must not change: the crash guarantee under group commit, list pages, the console."""

from __future__ import annotations

import asyncio
import os
import random
import time

import httpx
import pytest

from mockserver import store as store_module
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.store import Store

PARENT = "f10a0678-541e-4ebc-bb33-bc9ede811be9"
INVITE = {"data": {"type": "account_list_invites", "attributes": {"recipient_email": "kept@example.com"}}}
JSONAPI = {"Content-Type": "application/vnd.api+json", "Authorization": "Bearer test-user-token"}


def storage_of(app):
    return app.state.runtime.store._db.storage


def test_with_db_no_answer_leaves_before_its_write_is_fsynced(serve, tmp_path):
    client = serve("mpdx", db_path=tmp_path / "state.json")
    storage = storage_of(client.app)
    for n in range(3):
        response = client.post(f"/api/v2/account_lists/{PARENT}/invites", json=INVITE, headers=JSONAPI)
        assert response.status_code == 201
        assert storage.appended > 0 and storage.synced == storage.appended, "answered before the fsync"


def test_concurrent_writes_share_fsyncs_and_each_answer_waits_for_its_own(tmp_path, monkeypatch):
    real_fsync, calls = os.fsync, []

    def slow_fsync(fd: int) -> None:  # a slow disk, so that writes pile up behind a running fsync
        calls.append(fd)
        time.sleep(0.02)
        real_fsync(fd)

    monkeypatch.setattr(store_module.os, "fsync", slow_fsync)
    app = create_app(MockConfig(apis=("mpdx",), db_path=tmp_path / "state.json"))
    storage = storage_of(app)
    unsynced_answers = []

    async def checked(scope, receive, send):
        async def send_checked(message):
            # Nothing else runs between the durability wait and here: everything written so far is on disk.
            if message["type"] == "http.response.start" and storage.synced < storage.appended:
                unsynced_answers.append((storage.synced, storage.appended))
            await send(message)

        await app(scope, receive, send_checked)

    async def create(client: httpx.AsyncClient) -> None:
        response = await client.post(f"/api/v2/account_lists/{PARENT}/invites", json=INVITE, headers=JSONAPI)
        assert response.status_code == 201

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=checked), base_url="http://mock") as client:
            await create(client)  # seeds the session
            calls.clear()
            await asyncio.gather(*(create(client) for _ in range(20)))

    asyncio.run(main())
    assert not unsynced_answers, "an answer left before the writes made before it were on disk"
    assert len(calls) < 20, f"{len(calls)} fsyncs for 20 concurrent writes: no grouping"
    app.state.runtime.store.close()
    reopened = Store(tmp_path / "state.json")
    assert len(reopened.session("default").table("mpdx.account_list_invites").where_equal("parent_id", PARENT)) == 21


def test_closing_the_store_fsyncs_what_is_pending(tmp_path):
    store = Store(tmp_path / "state.json", group_commit=True)
    store.session("s").table("t").insert("1", {"id": "1"})
    storage = store._db.storage
    assert storage.synced < storage.appended
    store.close()
    assert storage.synced == storage.appended


def test_a_page_is_the_slice_of_the_fully_sorted_matches(tmp_path):
    rnd = random.Random(5)
    records = Store().session("s").table("invites")
    for n in range(500):
        records.insert(str(n), {"id": str(n), "parent": rnd.choice("ab"), "seq": n, "active": rnd.random() < 0.8,
                                "created_at": f"2022-01-{rnd.randint(1, 28):02d}"})
    matching = [r for r in records.all() if r["parent"] == "a" and r["active"]]
    for reverse in (False, True):
        ordered = sorted(matching, key=lambda r: (r["created_at"], r["seq"]), reverse=reverse)
        for start, count in ((0, 25), (25, 25), (200, 50), (10_000, 25)):
            total, page = records.page_where_equal(
                "parent", "a", keep=lambda r: r["active"], order=lambda r: (r["created_at"], r["seq"]),
                reverse=reverse, start=start, count=count,
            )
            assert total == len(matching)
            assert page == ordered[start:start + count]


@pytest.mark.parametrize("alone", [False, True])
def test_the_console_and_the_spec_are_still_served(serve, alone):
    client = serve("mpdx", alone=alone, credentials=False)
    assert client.get("/openapi.json").json()["info"]["title"]
    assert "swagger" in client.get("/ui/").text.lower()
    assert client.get("/ui", follow_redirects=False).status_code in (301, 302, 307)
    assert client.post("/openapi.json").status_code == 405
