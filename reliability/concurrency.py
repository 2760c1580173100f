"""Concurrency: many clients writing at once, and what the store holds afterwards.

A storm of ``clients`` concurrent connections creates MPDX invites (spread over account lists and
organizations), reads each one back, lists pages, accepts some with their code and cancels others, while
RootFi links are created and updated by their owners and by everyone at once. Every acknowledged write is
remembered; afterwards the store's own export must hold exactly those (no lost, no duplicated write), every
id and code must be unique, and no read during the storm may have seen a half-made record.

The Torii rule is checked separately: concurrent syncs of one caller get exactly one 200 and 409 for all
the others while that sync runs.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from mockserver.specs import request_example

MPDX_AUTH = {"Authorization": "Bearer concurrency-user"}
ROOTFI_AUTH = {"api_key": "concurrency-key"}
TORII_AUTH = {"Authorization": "Bearer concurrency-torii"}
JSON_API = "application/vnd.api+json"
HEX64 = re.compile(r"^[0-9a-f]{64}$")
KINDS = (("account_lists", "account_list_invites"), ("organizations", "organization_invites"))


@dataclass
class StormReport:
    clients: int
    invites_asked: int
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)
    """Acknowledged invites: id -> code."""
    accepted: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    links_created: set[str] = field(default_factory=set)
    link_values: dict[str, list[str]] = field(default_factory=dict)
    """Per RootFi link, the company names of its acknowledged updates, in acknowledgement order."""
    torn_reads: list[str] = field(default_factory=list)
    stored_invites: int = 0
    lost: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    duplicate_ids: int = 0
    duplicate_codes: int = 0
    wrong_states: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def problems(self) -> list[str]:
        counts = []
        if self.duplicate_ids:
            counts.append(f"{self.duplicate_ids} duplicated ids")
        if self.duplicate_codes:
            counts.append(f"{self.duplicate_codes} duplicated codes")
        return (self.server_errors + self.torn_reads + [f"lost {i}" for i in self.lost]
                + [f"unexpected {i}" for i in self.unexpected] + self.wrong_states + counts)

    def as_dict(self) -> dict[str, Any]:
        return {
            "clients": self.clients, "requests": self.requests, "seconds": round(self.seconds, 1),
            "statuses": dict(sorted(self.statuses.items())), "5xx": len(self.server_errors),
            "invites_acknowledged": len(self.created), "invites_stored": self.stored_invites,
            "accepted": len(self.accepted), "cancelled": len(self.cancelled),
            "rootfi_links_created": len(self.links_created),
            "rootfi_updates_acknowledged": sum(len(v) for v in self.link_values.values()),
            "lost": len(self.lost), "unexpected": len(self.unexpected), "duplicate_ids": self.duplicate_ids,
            "duplicate_codes": self.duplicate_codes, "torn_reads": len(self.torn_reads),
            "wrong_final_states": len(self.wrong_states), "examples": self.problems[:10],
        }


class _Storm:
    def __init__(self, client: httpx.AsyncClient, report: StormReport, parents: int, session: str) -> None:
        self.client = client
        self.report = report
        self.session = session
        self.parents = [(kind, resource, str(uuid.uuid4())) for kind, resource in KINDS for _ in range(parents)]
        self.where: dict[str, tuple[str, str, str]] = {}
        self.open: list[str] = []
        self.remaining = report.invites_asked

    async def call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Mock-Session": self.session, **kwargs.pop("headers", {})}
        response = await self.client.request(method, url, headers=headers, **kwargs)
        self.report.requests += 1
        self.report.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.report.server_errors.append(f"{method} {url} -> {response.status_code} {response.text[:200]}")
        return response

    # --- MPDX --------------------------------------------------------------------------------------------

    async def create_invite(self, rng: random.Random) -> None:
        kind, resource, parent = rng.choice(self.parents)
        attributes: dict[str, Any] = {"recipient_email": f"{uuid.uuid4().hex[:10]}@example.com"}
        if kind == "organizations":
            attributes["invite_user_as"] = "admin"
        response = await self.call(
            "POST", f"/mpdx/api/v2/{kind}/{parent}/invites",
            json={"data": {"type": resource, "attributes": attributes}},
            headers={**MPDX_AUTH, "Content-Type": JSON_API},
        )
        if response.status_code != 201:
            return
        data = response.json()["data"]
        self.report.created[data["id"]] = data["attributes"]["code"]
        self.where[data["id"]] = (kind, resource, parent)
        self.open.append(data["id"])
        # Read your own write at once: it must be there, whole.
        again = await self.call("GET", f"/mpdx/api/v2/{kind}/{parent}/invites/{data['id']}", headers=MPDX_AUTH)
        if again.status_code != 200 or again.json()["data"]["attributes"]["code"] != data["attributes"]["code"]:
            self.report.torn_reads.append(f"invite {data['id']} read back as {again.status_code} {again.text[:120]}")

    async def list_page(self, rng: random.Random) -> None:
        kind, resource, parent = rng.choice(self.parents)
        response = await self.call("GET", f"/mpdx/api/v2/{kind}/{parent}/invites?per_page=50", headers=MPDX_AUTH)
        if response.status_code != 200:
            return
        items = response.json()["data"]
        ids = [item["id"] for item in items]
        if len(ids) != len(set(ids)):
            self.report.torn_reads.append(f"a page of {parent} lists an invite twice")
        for item in items:
            attributes = item.get("attributes", {})
            if item.get("type") != resource or not HEX64.match(attributes.get("code") or ""):
                self.report.torn_reads.append(f"listed invite {item.get('id')} is incomplete: {item!r:.200}")

    async def accept_or_cancel(self, rng: random.Random) -> None:
        if not self.open:
            return
        invite = self.open.pop(rng.randrange(len(self.open)))
        kind, resource, parent = self.where[invite]
        url = f"/mpdx/api/v2/{kind}/{parent}/invites/{invite}"
        if rng.random() < 0.5:
            body = {"data": {"type": resource, "attributes": {"code": self.report.created[invite]}}}
            response = await self.call("PUT", url + "/accept", json=body,
                                       headers={**MPDX_AUTH, "Content-Type": JSON_API})
            if response.status_code == 200:
                self.report.accepted.add(invite)
        else:
            response = await self.call("DELETE", url, headers=MPDX_AUTH)
            if response.status_code == 204:
                self.report.cancelled.add(invite)

    # --- RootFi --------------------------------------------------------------------------------------------

    async def rootfi_owner(self, worker: int, updates: int) -> None:
        body = {**request_example("rootfi", "create_invite_link"), "company_name": f"worker-{worker}"}
        response = await self.call("POST", "/rootfi/v4/core/invite_links", headers=ROOTFI_AUTH, json=body)
        if response.status_code != 200:
            return
        link = response.json()["data"]["invite_link_id"]
        self.report.links_created.add(link)
        for step in range(updates):
            for target in (link, "1"):  # its own link, and the seeded one everybody updates
                name = f"worker-{worker}-step-{step}"
                answer = await self.call("PUT", f"/rootfi/v4/core/invite_links/{target}", headers=ROOTFI_AUTH,
                                         json={"company_name": name, "integration_categories": ["ACCOUNTING"]})
                if answer.status_code == 200:
                    self.report.link_values.setdefault(target, []).append(name)

    # --- a client ----------------------------------------------------------------------------------------

    async def worker(self, number: int, seed: int, rootfi_updates: int) -> None:
        rng = random.Random(seed * 1000 + number)
        await self.rootfi_owner(number, rootfi_updates)
        while self.remaining > 0:
            self.remaining -= 1
            await self.create_invite(rng)
            roll = rng.random()
            if roll < 0.3:
                await self.list_page(rng)
            elif roll < 0.7:
                await self.accept_or_cancel(rng)


async def _storm(origin: str, report: StormReport, *, parents: int, seed: int, rootfi_updates: int) -> None:
    limits = httpx.Limits(max_connections=report.clients, max_keepalive_connections=report.clients)
    session = f"storm-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=origin, limits=limits, timeout=60) as client:
        storm = _Storm(client, report, parents, session)
        await asyncio.gather(*(storm.worker(n, seed, rootfi_updates) for n in range(report.clients)))
        state = (await client.get("/__admin/state", headers={"X-Mock-Session": session})).json()["tables"]
    _check_final_state(report, state, {parent for _, _, parent in storm.parents})


def _check_final_state(report: StormReport, state: dict[str, dict[str, dict[str, Any]]], parents: set[str]) -> None:
    invites: list[tuple[str, dict[str, Any]]] = []
    for table in ("mpdx.account_list_invites", "mpdx.organization_invites"):
        invites += list(state.get(table, {}).items())
    # The seeded example invites (in other parents) share documented placeholder codes: only the storm's count.
    invites = [(key, record) for key, record in invites if record.get("parent_id") in parents]
    ids = [key for key, _ in invites]
    codes = [record.get("code") for _, record in invites]
    report.stored_invites = len(invites)
    report.duplicate_ids = len(ids) - len(set(ids))
    report.duplicate_codes = len(codes) - len(set(codes))
    stored = dict(invites)
    report.lost = sorted(set(report.created) - set(stored))
    # Only the storm writes under its own (random) parents: anything there it was not told of is a phantom.
    report.unexpected = sorted(key for key, record in invites
                               if record.get("parent_id") in parents and key not in report.created)
    for invite in report.accepted:
        if not stored.get(invite, {}).get("accepted_by_user"):
            report.wrong_states.append(f"accepted invite {invite} is not accepted in the store")
    for invite in report.cancelled:
        if not stored.get(invite, {}).get("cancelled_by_user"):
            report.wrong_states.append(f"cancelled invite {invite} is not cancelled in the store")
    links = state.get("rootfi.invite_links", {})
    for link in report.links_created:
        if link not in links:
            report.lost.append(f"rootfi link {link}")
    for link, names in report.link_values.items():
        final = ((links.get(link) or {}).get("company") or {}).get("name")
        if link != "1" and names and final != names[-1]:
            report.wrong_states.append(f"link {link} ends as {final!r}, its owner's last update was {names[-1]!r}")
        if link == "1" and final not in names:
            report.wrong_states.append(f"the shared link ends as {final!r}, which no acknowledged update wrote")


def run_storm(origin: str, *, invites: int, clients: int = 64, parents: int = 50, seed: int = 0,
              rootfi_updates: int = 5) -> StormReport:
    """Create ``invites`` MPDX invites (and the rest of the mix) from ``clients`` concurrent connections."""
    report = StormReport(clients=clients, invites_asked=invites)
    started = time.monotonic()
    asyncio.run(_storm(origin, report, parents=parents, seed=seed, rootfi_updates=rootfi_updates))
    report.seconds = time.monotonic() - started
    return report


@dataclass
class SyncRaceReport:
    callers: int
    statuses: Counter = field(default_factory=Counter)

    @property
    def holds(self) -> bool:
        return self.statuses[200] == 1 and self.statuses[409] == self.callers - 1


def race_syncs(origin: str, *, callers: int = 32, base_path: str = "/torii/v1.0") -> SyncRaceReport:
    """``callers`` concurrent syncs of the same file by one caller, while the first one that wins runs."""
    report = SyncRaceReport(callers=callers)
    session = {"X-Mock-Session": f"race-{uuid.uuid4().hex[:8]}"}

    async def race() -> None:
        limits = httpx.Limits(max_connections=callers)
        async with httpx.AsyncClient(base_url=origin + base_path, limits=limits, timeout=60,
                                     headers={**TORII_AUTH, **session}) as client:
            barrier = asyncio.Event()

            async def one() -> int:
                await barrier.wait()
                response = await client.put("/services/sync/custom", json={"idFile": 1000, "idAppAccount": 1})
                return response.status_code

            tasks = [asyncio.create_task(one()) for _ in range(callers)]
            await asyncio.sleep(0.05)
            barrier.set()
            report.statuses.update(await asyncio.gather(*tasks))

    asyncio.run(race())
    return report
