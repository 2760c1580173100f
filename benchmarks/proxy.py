#!/usr/bin/env python3
"""What the validating proxy costs: the same requests sent to the mock directly, and through `mockserver proxy`.

    python benchmarks/proxy.py                 # 3 rounds of 3 s per measurement, at 1 and 32 connections (~5 min)
    python benchmarks/proxy.py --quick         # one round of 1 s per measurement (a smoke run)
    python benchmarks/proxy.py --out my.json

The harness is ``benchmarks/run.py``'s: wrk on loopback, the systems interleaved and rotated round by round,
medians over rounds, servers on CPU 0 and wrk on CPU 1 when there are two CPUs. The mock (``mockserver serve``,
all APIs) is the target; a proxy per API sits in front of it (``mockserver proxy --api mpdx --target
http://127.0.0.1:PORT/mpdx``), once as it is and once with ``--fail-on-drift`` (each answer held until checked).
The proxies share CPU 0 with the mock, as they would share a developer's machine.

* At 1 connection the p50 difference is what the proxy adds to one request (forwarding plus checking).
* At 32 connections the CPU is saturated, so the throughput ratio is the proxy's whole cost on a shared CPU.
* The check alone (request and answer against the contract, in process, no network) is timed separately.

Every answer must keep the contract: the run fails if a proxy reports any drift.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as harness  # noqa: E402  (benchmarks/run.py: servers, wrk, data)

ROOT = harness.ROOT
SYSTEMS = ("direct", "proxy", "proxy-strict")


def proxy_cmd(api: str, target: str, port: int, *extra: str) -> list[str]:
    return [harness.PYTHON, "-m", "mockserver", "proxy", "--api", api, "--target", target, "--port", str(port), *extra]


def requests_for(system: str, invite_id: str) -> dict[str, harness.Request]:
    """The four workloads of ``run.py``'s main section, with the paths the mock or a proxy serves them at."""
    mpdx_prefix, rootfi_prefix = ("/mpdx", "/rootfi/v4") if system == "direct" else ("", "/v4")
    return {**harness.mpdx_requests(mpdx_prefix, invite_id), "rootfi_update": harness.rootfi_update(rootfi_prefix)}


def check_cost(mock: harness.Server, invite_id: str, repeats: int = 300) -> dict[str, float]:
    """Microseconds the contract check of one exchange takes, in process, per workload."""
    from mockserver.proxy.validator import Contract, Message

    found = {}
    for name, request in requests_for("direct", invite_id).items():
        if name == "mpdx_create":
            request = harness.Request(request.method, request.path.replace(harness.CREATE_PARENT, harness.LIST_PARENT),
                                      request.headers, request.body, request.expect)
        status, body = harness.http(request.method, mock.url(request.path), request.body, request.headers)
        api = "rootfi" if name.startswith("rootfi") else "mpdx"
        path = request.path.removeprefix("/mpdx").removeprefix("/rootfi/v4")
        contract = Contract(api)
        sent = Message(tuple((k.lower(), v) for k, v in request.headers.items()), request.body or b"")
        media = "application/vnd.api+json" if api == "mpdx" else "application/json"
        answer = Message((("content-type", media + "; charset=utf-8"),), body)
        started = time.perf_counter()
        for _ in range(repeats):
            check = contract.check_request(request.method, path, "", sent)
            violations = check.violations + contract.check_response(check, status, answer)
        found[name] = round((time.perf_counter() - started) / repeats * 1e6, 1)
        assert not violations, (name, violations)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one round of 1 s per measurement")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 3; 1 with --quick)")
    parser.add_argument("--repeats", type=int, help="rounds (default 3; 1 with --quick)")
    parser.add_argument("--connections", default="1,32", help="comma-separated (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/proxy-results.json")
    args = parser.parse_args(argv)
    harness.ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="mockserver-proxy-bench-"))
    opts = harness.Options(duration=args.duration or (1 if args.quick else 3),
                           repeats=args.repeats or (1 if args.quick else 3), connections=1, quick=args.quick,
                           workdir=workdir, tools=None)
    connections = [int(c) for c in args.connections.split(",") if c.strip()]
    servers = harness.Servers(workdir)
    results: dict[str, Any] = {"meta": {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "python": platform.python_version(), "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(), "duration_s": opts.duration, "repeats": opts.repeats,
        "pinned": bool(harness.SERVER_CPU)}, "workloads": {}}
    started = time.perf_counter()
    try:
        port = harness.free_port()
        mock = servers.start("mock", harness.mock_cmd(port), port)
        mock.wait("/__admin/health")
        listed = harness.invites(25, 25, harness.LIST_PARENT)
        harness.load_state(mock, harness.snapshot_with(mock, listed))
        invite_id = listed[0]["id"]
        proxies: dict[tuple[str, str], harness.Server] = {}
        for system, extra in (("proxy", ()), ("proxy-strict", ("--fail-on-drift",))):
            for api, base in (("mpdx", "/mpdx"), ("rootfi", "/rootfi/v4")):
                proxy_port = harness.free_port()
                proxies[(system, api)] = servers.start(f"{system}-{api}", proxy_cmd(api, mock.url(base), proxy_port,
                                                                                     *extra), proxy_port)
        for server in proxies.values():
            server.wait("/__admin/health")
        results["check_us"] = check_cost(mock, invite_id)
        harness.say("contract check alone, in process (µs per exchange): "
                    + ", ".join(f"{name} {us}" for name, us in results["check_us"].items()))

        cases = []
        for system in SYSTEMS:
            for workload, request in requests_for(system, invite_id).items():
                api = "rootfi" if workload.startswith("rootfi") else "mpdx"
                server = mock if system == "direct" else proxies[(system, api)]
                harness.check(server, request)
                cases.append((workload, system, server, request))
        for count in connections:
            harness.say(f"\n== {count} connection{'s' if count > 1 else ''} ==")
            level = harness.Options(**{**opts.__dict__, "connections": count})
            for _, _, server, request in cases:
                harness.wrk(server, request, duration=1, connections=count, workdir=workdir)
            runs = harness.interleaved(level, cases)
            for (workload, system), measured in runs.items():
                entry = results["workloads"].setdefault(workload, {}).setdefault(str(count), {})
                entry[system] = harness.summarise(measured)
            for workload, entry in results["workloads"].items():
                level_entry = entry[str(count)]
                direct = runs[(workload, "direct")]
                for system in SYSTEMS[1:]:
                    through = runs[(workload, system)]
                    added = [t["p50_ms"] - d["p50_ms"] for d, t in zip(direct, through)]
                    level_entry[system]["added_p50_ms"] = round(statistics.median(added), 2)
                    level_entry[system]["rps_ratio"] = harness.per_round_ratio(through, direct)
        drift = {name: json.loads(harness.http("GET", server.url("/__admin/drift"))[1])
                 for name, server in ((f"{s}-{a}", srv) for (s, a), srv in proxies.items())}
        results["drift"] = {name: {"total": report["total"], "exchanges": report["exchanges"]}
                            for name, report in drift.items()}
    finally:
        servers.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["wall_s"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_average_at_end"] = os.getloadavg()
    report(results, connections)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    harness.say(f"\nwrote {args.out} ({results['meta']['wall_s']:.0f} s)")
    bad = {name: entry for name, entry in results["drift"].items() if entry["total"]}
    if bad:
        harness.say(f"drift reported where none was expected: {bad}")
        return 1
    return 0


def report(results: dict[str, Any], connections: list[int]) -> None:
    harness.say("\nDirect to the mock vs through `mockserver proxy` (median of rounds; added p50 and req/s ratio are "
                "medians of per-round differences and ratios)")
    harness.say(f"{'workload':<15}{'conns':>6}{'direct p50':>12}{'proxy p50':>11}{'added':>8}{'strict p50':>12}"
                f"{'added':>8}{'direct rps':>12}{'proxy rps':>11}{'ratio':>7}")
    fmt = harness.fmt
    for workload, levels in results["workloads"].items():
        for count in connections:
            entry = levels.get(str(count))
            if not entry:
                continue
            direct, proxy, strict = entry["direct"], entry["proxy"], entry["proxy-strict"]
            harness.say(f"{workload:<15}{count:>6}{fmt(direct['p50_ms'], '.2f'):>12}{fmt(proxy['p50_ms'], '.2f'):>11}"
                        f"{fmt(proxy['added_p50_ms'], '+.2f'):>8}{fmt(strict['p50_ms'], '.2f'):>12}"
                        f"{fmt(strict['added_p50_ms'], '+.2f'):>8}{direct['rps']:>12.0f}{proxy['rps']:>11.0f}"
                        f"{fmt(proxy['rps_ratio'], '.2f'):>7}")
    harness.say("contract check alone (µs per exchange, in process): "
                + ", ".join(f"{name} {us}" for name, us in results["check_us"].items()))
    harness.say("drift reported by the proxies: " + ", ".join(f"{name} {entry['total']} of {entry['exchanges']}"
                                                             for name, entry in results["drift"].items()))


if __name__ == "__main__":
    sys.exit(main())
