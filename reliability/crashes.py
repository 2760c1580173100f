"""Crashes: kill -9 a persistent mock in the middle of a write storm, restart it, count what survived.

Each round starts ``mockserver serve --db PATH`` on the same file, lets concurrent clients create MPDX invites
and update a RootFi link, and kills the process with SIGKILL at a random moment. The next start must load the
file, and every write acknowledged with a 2xx in any round so far must be there (writes in flight at the kill
may or may not be: their clients never heard back).
"""

from __future__ import annotations

import asyncio
import random
import signal
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from reliability.servers import ServerProcess

AUTH = {"Authorization": "Bearer crash-user"}
JSON_API = "application/vnd.api+json"
SESSION = {"X-Mock-Session": "crash"}


@dataclass
class CrashReport:
    rounds: int
    kills: int = 0
    restarts: int = 0
    acknowledged: int = 0
    found: int = 0
    lost: list[str] = field(default_factory=list)
    startup_failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"kills": self.kills, "restarts": self.restarts, "writes_acknowledged": self.acknowledged,
                "acknowledged_found_after_restart": self.found, "acknowledged_lost": len(self.lost),
                "startup_failures": len(self.startup_failures), "seconds": round(self.seconds, 1),
                "examples": (self.lost + self.startup_failures)[:10]}


async def _write_until_killed(origin: str, parent: str, clients: int, acknowledged: dict[str, str],
                              renamed: list[str], attempted: list[str]) -> None:
    async with httpx.AsyncClient(base_url=origin, timeout=10,
                                 limits=httpx.Limits(max_connections=clients)) as client:
        async def writer(number: int) -> None:
            step = 0
            while True:
                step += 1
                try:
                    if number == 0:  # one client keeps renaming the RootFi link: its last ack must survive
                        name = f"crash-{uuid.uuid4().hex[:8]}"
                        attempted.append(name)
                        response = await client.put("/rootfi/v4/core/invite_links/1",
                                                    headers={"api_key": "crash-key", **SESSION},
                                                    json={"company_name": name, "integration_categories": ["ACCOUNTING"]})
                        if response.status_code == 200:
                            renamed.append(name)
                        continue
                    response = await client.post(
                        f"/mpdx/api/v2/account_lists/{parent}/invites",
                        headers={**AUTH, **SESSION, "Content-Type": JSON_API},
                        json={"data": {"type": "account_list_invites",
                                       "attributes": {"recipient_email": f"c{number}-{step}@example.com"}}},
                    )
                except httpx.TransportError:
                    return  # the server is gone
                if response.status_code == 201:
                    data = response.json()["data"]
                    acknowledged[data["id"]] = data["attributes"]["code"]

        await asyncio.gather(*(writer(n) for n in range(clients)))


def _storm_then_kill(server: ServerProcess, parent: str, clients: int, kill_after: float,
                     acknowledged: dict[str, str], renamed: list[str], attempted: list[str]) -> None:
    async def main() -> None:
        storm = asyncio.create_task(
            _write_until_killed(server.base, parent, clients, acknowledged, renamed, attempted))
        await asyncio.sleep(kill_after)
        server.kill(signal.SIGKILL)
        await storm

    asyncio.run(main())


def _stored(origin: str) -> dict[str, dict[str, Any]]:
    return httpx.get(f"{origin}/__admin/state", headers=SESSION, timeout=60).json()["tables"]


def crash_loop(db_path: Path, *, rounds: int = 20, clients: int = 16, seed: int = 0,
               max_storm_seconds: float = 1.5) -> CrashReport:
    """Kill the mock ``rounds`` times mid-storm; after each restart check every acknowledged write is there."""
    rng = random.Random(seed)
    report = CrashReport(rounds=rounds)
    acknowledged: dict[str, str] = {}
    renamed: list[str] = []
    attempted: list[str] = []
    parent = str(uuid.uuid4())
    started = time.monotonic()
    logs = db_path.parent
    server = ServerProcess("--db", str(db_path), "--no-rate-limit", log=logs / "crash-0.log")
    for round_ in range(1, rounds + 1):
        _storm_then_kill(server, parent, clients, rng.uniform(0.1, max_storm_seconds), acknowledged, renamed,
                         attempted)
        report.kills += 1
        try:
            server = ServerProcess("--db", str(db_path), "--no-rate-limit", log=logs / f"crash-{round_}.log")
        except RuntimeError as exc:
            report.startup_failures.append(f"round {round_}: {exc}")
            break
        report.restarts += 1
        tables = _stored(server.base)
        invites = tables.get("mpdx.account_list_invites", {})
        found = [key for key, code in acknowledged.items() if (invites.get(key) or {}).get("code") == code]
        report.lost = [f"invite {key}" for key in acknowledged.keys() - set(found)]
        link_name = ((tables.get("rootfi.invite_links", {}).get("1") or {}).get("company") or {}).get("name")
        # The last acknowledged name, or one sent after it whose answer the kill cut off: then every acknowledged
        # rename is accounted for (each overwrote the one before).
        link_kept = not renamed or (link_name in attempted
                                    and attempted.index(link_name) >= attempted.index(renamed[-1]))
        if not link_kept:
            report.lost.append(f"the RootFi link's last acknowledged name {renamed[-1]!r} (found {link_name!r})")
        report.acknowledged = len(acknowledged) + len(renamed)
        report.found = len(found) + (len(renamed) if link_kept else 0)
        if report.lost:
            break
    server.kill()
    report.seconds = time.monotonic() - started
    return report
