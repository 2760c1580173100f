"""``python -m reliability``: the long runs, with their figures.

    python -m reliability                  # 5,000 fuzzed requests per API, 10,000 invites from 64 clients
                                           # (in memory and with --db), 20 kills mid-storm
    python -m reliability --only crashes --kills 50
    python -m reliability --quick          # the sizes the test suite uses

Prints a table per run and writes every figure to ``--out`` (JSON). Exit 1 when any run saw a 5xx, an error
outside the vendor's format, a state change by a rejected request, a lost or duplicated write, a torn read
or an acknowledged write missing after a crash.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from contracts.target import DEFAULT_CREDENTIALS
from mockserver.config import MockConfig
from mockserver.server import quiet_parsers
from mockserver.specs import APIS
from reliability.concurrency import race_syncs, run_storm
from reliability.crashes import crash_loop
from reliability.fuzz import fuzz_api
from reliability.servers import ServerProcess, ThreadedMock

RUNS = ("fuzz", "concurrency", "crashes")


def _fuzz(size: int, seed: int) -> tuple[list[dict[str, Any]], bool]:
    tokens = frozenset(v.removeprefix("Bearer ") for h in DEFAULT_CREDENTIALS.values() for v in h.values())
    rows = []
    with ThreadedMock(MockConfig(rate_limit=None, sync_seconds=0.2, tokens=tokens)) as mock:
        for api in APIS:
            report = fuzz_api(api, mock.base, generated=size, seed=seed)
            rows.append(report.as_dict())
            print(f"  {api:<7} {report.requests:>6} requests ({report.generated} generated, {report.raw} raw) "
                  f"in {report.seconds:5.1f} s: 5xx {len(report.server_errors)}, "
                  f"not in vendor format {len(report.format_errors)}, "
                  f"state changed by a rejection {len(report.state_changes)}, "
                  f"answering afterwards {'yes' if report.answering_afterwards else 'NO'}", flush=True)
            for problem in report.problems[:5]:
                print(f"      {problem[:160]}")
    ok = all(not row["examples"] and row["answering_afterwards"] for row in rows)
    return rows, ok


def _concurrency(invites: int, clients: int, seed: int, folder: Path) -> tuple[list[dict[str, Any]], bool]:
    rows, ok = [], True
    for mode, options in (("in memory", []), ("--db", ["--db", str(folder / "storm.json")])):
        server = ServerProcess("--no-rate-limit", *options, log=folder / f"storm-{len(rows)}.log")
        try:
            report = run_storm(server.base, invites=invites, clients=clients, seed=seed)
        finally:
            server.kill()
        row = {"mode": mode, **report.as_dict()}
        rows.append(row)
        ok = ok and not report.problems and len(report.created) == invites
        print(f"  {mode:<9} {clients} clients, {report.requests} requests in {report.seconds:5.1f} s: "
              f"invites acknowledged {len(report.created)}, stored {report.stored_invites}, "
              f"lost {len(report.lost)}, duplicated ids {report.duplicate_ids}, codes {report.duplicate_codes}, "
              f"torn reads {len(report.torn_reads)}, wrong final states {len(report.wrong_states)}, "
              f"5xx {len(report.server_errors)}", flush=True)
    server = ServerProcess("--no-rate-limit", "--sync-seconds", "5", log=folder / "race.log")
    try:
        race = race_syncs(server.base, callers=clients)
    finally:
        server.kill()
    rows.append({"mode": "torii sync race", "callers": clients, "statuses": dict(race.statuses)})
    ok = ok and race.holds
    print(f"  torii    {clients} concurrent syncs of one caller: {dict(race.statuses)} "
          f"({'one 200, the rest 409' if race.holds else 'RULE BROKEN'})", flush=True)
    return rows, ok


def _crashes(kills: int, seed: int, folder: Path) -> tuple[dict[str, Any], bool]:
    report = crash_loop(folder / "crash.json", rounds=kills, seed=seed)
    print(f"  {report.kills} kills, {report.restarts} restarts in {report.seconds:5.1f} s: "
          f"writes acknowledged {report.acknowledged}, found after restart {report.found}, "
          f"lost {len(report.lost)}, startup failures {len(report.startup_failures)}", flush=True)
    return report.as_dict(), not report.lost and not report.startup_failures and report.restarts == kills


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", choices=RUNS, help="run only this (repeatable)")
    parser.add_argument("--quick", action="store_true", help="the test suite's sizes")
    parser.add_argument("--fuzz-requests", type=int, help="generated requests per API (default 5000)")
    parser.add_argument("--invites", type=int, help="MPDX invites created in the storm (default 10000)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients (default 64)")
    parser.add_argument("--kills", type=int, help="kill -9 rounds (default 20)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("reliability/results.json"), help="JSON figures")
    args = parser.parse_args(argv)
    quiet_parsers()
    runs = args.only or list(RUNS)
    sizes = {"fuzz": 300, "invites": 600, "kills": 3} if args.quick else {"fuzz": 5000, "invites": 10000, "kills": 20}
    results: dict[str, Any] = {}
    ok = True
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        folder = Path(tmp)
        if "fuzz" in runs:
            print("fuzz: Schemathesis negative + fuzzing generation and raw broken requests, per API", flush=True)
            results["fuzz"], passed = _fuzz(args.fuzz_requests or sizes["fuzz"], args.seed)
            ok = ok and passed
        if "concurrency" in runs:
            print("concurrency: MPDX create/read/list/accept/cancel and RootFi create/update storm", flush=True)
            results["concurrency"], passed = _concurrency(args.invites or sizes["invites"], args.clients,
                                                          args.seed, folder)
            ok = ok and passed
        if "crashes" in runs:
            print("crashes: kill -9 mid-storm with --db, restart, count acknowledged writes", flush=True)
            results["crashes"], passed = _crashes(args.kills or sizes["kills"], args.seed, folder)
            ok = ok and passed
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'all properties held' if ok else 'SOME PROPERTY DID NOT HOLD'}; figures in {args.out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
