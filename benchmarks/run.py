#!/usr/bin/env python3
"""Benchmark the mock against Stoplight Prism and a bare Starlette app, side by side, on loopback.

    python benchmarks/run.py                  # the full run, a few minutes
    python benchmarks/run.py --quick          # a smoke run: 1 s per measurement, one repeat, up to 10k invites
    python benchmarks/run.py --contract       # also time the contract run of each API (about a minute more)
    python benchmarks/run.py --out results.json

Absolute numbers swing by tens of percent between runs on shared machines, so every figure that matters is
a ratio of two systems measured in the same round: the systems are interleaved, each round runs every
system once, and the table shows the median over the rounds (3 by default). Load comes from wrk (installed
from the distribution's packages when missing) at 32 keep-alive connections for a few seconds per
measurement; wrk and the servers are pinned to different CPUs when there are two or more. Nothing listens
beyond 127.0.0.1, and every process started here is stopped by its own process id.

Sections (see benchmarks/README.md for what each measures and why):

* ``main``: MPDX list (25 invites), get one, create, and RootFi update on the mock (``mockserver serve``,
  all APIs, default options), the ceiling (``benchmarks/ceiling.py``) and Prism (``prism mock`` on our
  own ``openapi/mpdx.yaml`` and ``openapi/rootfi.yaml``, installed with npm into a temporary folder).
* ``scaling``: get one, list page 1 and create with 100, 10,000 and 100,000 stored invites (the tested
  parent holds 100, the rest spread over 999 other parents), and 100,000 with 10,000 in the tested parent.
* ``startup``: time to the first answer and resident memory with 0 and 100,000 invites in a ``--db`` file.
* ``persistent``: create through ``--db`` (every write fsynced) as the file grows, next to json-server.
* ``contract`` (with ``--contract``): wall time of ``mockserver contract --api X`` per API.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
NPM_DIR = Path(tempfile.gettempdir()) / "mockserver-bench-npm"
NPM_PACKAGES = ["@stoplight/prism-cli@5", "json-server@0.17"]

LIST_PARENT = "5b6a4f4e-6c1d-4f9a-9a55-0d3cbf7a1a01"
"""The MPDX account list whose invites the list and get workloads read (25 of them in ``main``)."""
CREATE_PARENT = "5b6a4f4e-6c1d-4f9a-9a55-0d3cbf7a1a02"
"""Where ``main`` creates invites, so that the listed parent keeps its 25."""
TOKEN = "bench"
CREATE_BODY = {"data": {"type": "account_list_invites",
                        "attributes": {"invite_user_as": "user", "recipient_email": "bench@example.com"}}}
UPDATE_BODY = {"company_name": "RootFi", "integrations": ["XERO"], "integration_categories": ["ACCOUNTING"],
               "sync_config": [{"data_model": "ACCOUNTS", "category": "ACCOUNTING", "enabled": True,
                                "frequency": "DAILY", "interval": 1,
                                "scope_access": {"READ": True, "CREATE": True, "UPDATE": True, "DELETE": True},
                                "sync_from": "2023-01-01T00:00:00Z"}]}
MPDX_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/vnd.api+json"}
ROOTFI_HEADERS = {"api_key": TOKEN}


# --- small helpers ------------------------------------------------------------------------------------------


def say(text: str = "") -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def median(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def http(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None,
         timeout: float = 600) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def pinning() -> tuple[list[str], list[str]]:
    """``taskset`` prefixes putting servers on CPU 0 and wrk on CPU 1, when there are two CPUs to split."""
    if (os.cpu_count() or 1) >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", "0"], ["taskset", "-c", "1"]
    return [], []


SERVER_CPU, LOAD_CPU = pinning()


# --- processes ----------------------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    cmd: list[str]
    port: int
    workdir: Path
    env: dict[str, str] | None = None
    proc: subprocess.Popen | None = None
    started_at: float = 0.0
    log_path: Path | None = None

    def start(self) -> "Server":
        self.log_path = self.workdir / f"{self.name}.log"
        log = open(self.log_path, "wb")
        self.started_at = time.perf_counter()
        self.proc = subprocess.Popen(SERVER_CPU + self.cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=self.env, start_new_session=True)
        log.close()
        return self

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait(self, path: str = "/", timeout: float = 120, ok: Callable[[int], bool] = lambda s: s < 500,
             headers: dict[str, str] | None = None) -> float:
        """Seconds from start until ``path`` answers as ``ok`` wants."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                status, _ = http("GET", self.url(path), headers=headers, timeout=5)
                if ok(status):
                    return time.perf_counter() - self.started_at
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        if self.log_path and self.log_path.exists():
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-20:])
        return ""

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> None:
        """SIGINT (a graceful shutdown: the mock closes its database), then SIGKILL. Only this process."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, grace in ((signal.SIGINT, 15), (signal.SIGKILL, 5)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


class Servers:
    """Every process this run starts, stopped at the end whatever happens."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: list[Server] = []

    def start(self, name: str, cmd: list[str], port: int, env: dict[str, str] | None = None) -> Server:
        server = Server(name, cmd, port, self.workdir, env=env).start()
        self.running.append(server)
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.running:
            self.running.remove(server)

    def stop_all(self) -> None:
        for server in reversed(self.running):
            server.stop()
        self.running.clear()


def mock_cmd(port: int, *extra: str) -> list[str]:
    return [PYTHON, "-m", "mockserver", "serve", "--port", str(port), *extra]


# --- wrk ----------------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    say("wrk is missing: installing it from the distribution's packages (apt-get install -y wrk)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    if subprocess.run(sudo + ["apt-get", "install", "-y", "wrk"], env=env).returncode != 0:
        subprocess.run(sudo + ["apt-get", "update"], env=env, check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "wrk"], env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk could not be installed; install it (Debian/Ubuntu: apt-get install wrk) and run again")
    return found


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    expect: int = 200


def _lua(request: Request) -> str:
    lines = [f'wrk.method = "{request.method}"']
    for name, value in request.headers.items():
        lines.append(f'wrk.headers["{name}"] = [==[{value}]==]')
    if request.body is not None:
        lines.append(f"wrk.body = [==[{request.body.decode()}]==]")
    return "\n".join(lines) + "\n"


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * _UNITS[unit], 3)


def wrk(server: Server, request: Request, *, duration: float, connections: int, workdir: Path) -> dict[str, Any]:
    """One wrk run: requests per second, latency percentiles (ms), and how many answers were not 2xx/3xx."""
    script = workdir / "request.lua"
    script.write_text(_lua(request))
    cmd = LOAD_CPU + ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--latency",
                      "--timeout", "10s", "-s", str(script), server.url(request.path)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    result: dict[str, Any] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    result["requests"] = int(re.search(r"(\d+) requests in", out).group(1))
    transfer = re.search(r"Transfer/sec:\s+([\d.]+)(B|KB|MB|GB)", out)
    if transfer and result["rps"]:
        scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[transfer.group(2)]
        result["bytes_per_answer"] = round(float(transfer.group(1)) * scale / result["rps"])
    for pct in ("50", "90", "99"):
        found = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        result[f"p{pct}_ms"] = _ms(found.group(1)) if found else None
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non_2xx"] = int(bad.group(1)) if bad else 0
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": round(median([r["rps"] for r in runs]), 1),
        "p50_ms": median([r["p50_ms"] for r in runs]),
        "p99_ms": median([r["p99_ms"] for r in runs]),
        "non_2xx": sum(r["non_2xx"] for r in runs),
        "socket_errors": sum(r["socket_errors"] for r in runs),
        "bytes_per_answer": median([r.get("bytes_per_answer") for r in runs]),
        "runs": runs,
    }


def check(server: Server, request: Request) -> None:
    """One request before measuring: a benchmark of error answers would measure nothing."""
    status, body = http(request.method, server.url(request.path), request.body, request.headers, timeout=60)
    if status != request.expect:
        raise RuntimeError(f"{server.name}: {request.method} {request.path} answered {status}, "
                           f"expected {request.expect}: {body[:300]!r}")


# --- data ---------------------------------------------------------------------------------------------------


def invite(rnd: random.Random, parent: str, seq: int) -> dict[str, Any]:
    invite_id = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    stamp = f"2022-01-{1 + seq % 28:02d}T{seq % 24:02d}:{seq % 60:02d}:{seq // 60 % 60:02d}Z"
    return {"id": invite_id, "parent_id": parent, "seq": seq, "accepted_at": None,
            "code": "%064x" % rnd.getrandbits(256), "created_at": stamp, "invite_user_as": "user",
            "recipient_email": f"user{seq}@example.com", "updated_at": stamp,
            "accepted_by_user": None, "cancelled_by_user": None,
            "invited_by_user": str(uuid.UUID(int=rnd.getrandbits(128), version=4))}


def invites(total: int, in_parent: int, parent: str, seed: int = 1) -> list[dict[str, Any]]:
    """``in_parent`` invites in ``parent``, the rest spread evenly over 999 other parents."""
    rnd = random.Random(seed)
    others = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(999)]
    made = [invite(rnd, parent, seq) for seq in range(1, in_parent + 1)]
    made += [invite(rnd, others[i % 999], in_parent + 1 + i) for i in range(total - in_parent)]
    return made


def snapshot_with(server: Server, added: list[dict[str, Any]]) -> bytes:
    """The server's default session (its seed data) plus ``added`` invites, as a ``PUT /__admin/state`` body."""
    status, body = http("GET", server.url("/__admin/state"))
    assert status == 200, body[:200]
    snapshot = json.loads(body)
    table = snapshot["tables"].setdefault("mpdx.account_list_invites", {})
    table.update({record["id"]: record for record in added})
    counters = snapshot.setdefault("counters", {})
    counters["mpdx.invites"] = max([counters.get("mpdx.invites", 0)] + [r["seq"] for r in added])
    return json.dumps(snapshot).encode()


def load_state(server: Server, snapshot: bytes) -> float:
    started = time.perf_counter()
    status, body = http("PUT", server.url("/__admin/state"), snapshot, {"Content-Type": "application/json"})
    if status != 200:
        raise RuntimeError(f"PUT /__admin/state answered {status}: {body[:300]!r}")
    return time.perf_counter() - started


def mpdx_requests(prefix: str, invite_id: str, parent: str = LIST_PARENT,
                  create_parent: str = CREATE_PARENT) -> dict[str, Request]:
    invites_path = f"{prefix}/api/v2/account_lists/{parent}/invites"
    return {
        "mpdx_list": Request("GET", invites_path, MPDX_HEADERS),
        "mpdx_get": Request("GET", f"{invites_path}/{invite_id}", MPDX_HEADERS),
        "mpdx_create": Request("POST", f"{prefix}/api/v2/account_lists/{create_parent}/invites",
                               {**MPDX_HEADERS, "Content-Type": "application/vnd.api+json"},
                               json.dumps(CREATE_BODY).encode(), expect=201),
    }


def rootfi_update(prefix: str) -> Request:
    return Request("PUT", f"{prefix}/core/invite_links/1", {**ROOTFI_HEADERS, "Content-Type": "application/json"},
                   json.dumps(UPDATE_BODY).encode())


# --- npm: Prism and json-server -----------------------------------------------------------------------------


def npm_tools() -> dict[str, str] | None:
    """Paths of ``prism`` and ``json-server``, installed with npm into a temporary folder (reused next time)."""
    bins = {"prism": NPM_DIR / "node_modules/.bin/prism", "json-server": NPM_DIR / "node_modules/.bin/json-server"}
    if all(path.exists() for path in bins.values()):
        return {name: str(path) for name, path in bins.items()}
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        say("npm or node is not available: skipping Prism and json-server (the ratios against them are missing)")
        return None
    say(f"installing {' '.join(NPM_PACKAGES)} with npm into {NPM_DIR} (once; about a minute)")
    NPM_DIR.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix",
                             str(NPM_DIR), *NPM_PACKAGES], capture_output=True, text=True)
    if result.returncode != 0 or not all(path.exists() for path in bins.values()):
        say(f"npm install failed: skipping Prism and json-server\n{result.stderr[-2000:]}")
        return None
    return {name: str(path) for name, path in bins.items()}


def tool_version(path: str) -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    return None


# --- the sections -------------------------------------------------------------------------------------------


@dataclass
class Options:
    duration: float
    repeats: int
    connections: int
    quick: bool
    workdir: Path
    tools: dict[str, str] | None


def interleaved(opts: Options, cases: list[tuple[str, str, Server, Request]], *, duration: float | None = None,
                between: Callable[[str, str], None] | None = None) -> dict[tuple[str, str], list[dict]]:
    """Run every (group, system) case once per round, rotating the order of systems in each round."""
    runs: dict[tuple[str, str], list[dict]] = {(group, name): [] for group, name, _, _ in cases}
    groups: dict[str, list[tuple[str, Server, Request]]] = {}
    for group, name, server, request in cases:
        groups.setdefault(group, []).append((name, server, request))
    for round_ in range(opts.repeats):
        for group, members in groups.items():
            shift = round_ % len(members)
            for name, server, request in members[shift:] + members[:shift]:
                result = wrk(server, request, duration=duration or opts.duration, connections=opts.connections,
                             workdir=opts.workdir)
                runs[(group, name)].append(result)
                say(f"  round {round_ + 1}  {group:<14} {name:<14} {result['rps']:>9.0f} req/s  "
                    f"p50 {result['p50_ms']:>7.2f} ms  p99 {result['p99_ms']:>7.2f} ms"
                    + (f"  non-2xx {result['non_2xx']}" if result["non_2xx"] else ""))
                if between:
                    between(group, name)
    return runs


def per_round_ratio(a: list[dict], b: list[dict]) -> float | None:
    """The median over rounds of a's throughput divided by b's, each pair measured in the same round."""
    ratios = [x["rps"] / y["rps"] for x, y in zip(a, b) if y["rps"]]
    return round(median(ratios), 3) if ratios else None


def section_main(opts: Options, servers: Servers) -> dict[str, Any]:
    say("\n== main: the mock (all APIs, default options) vs the bare-Starlette ceiling vs Prism ==")
    listed = invites(25, 25, LIST_PARENT)
    port = free_port()
    mock = servers.start("mock", mock_cmd(port), port)
    mock.wait("/__admin/health")
    load_state(mock, snapshot_with(mock, listed))
    status, body = http("GET", mock.url("/rootfi/v4/core/invite_links/1"), headers=ROOTFI_HEADERS)
    link = json.loads(body)["data"]

    preload = opts.workdir / "ceiling.json"
    preload.write_text(json.dumps({"invites": listed, "link": link}))
    ceiling_port = free_port()
    ceiling = servers.start("ceiling", [PYTHON, str(ROOT / "benchmarks/ceiling.py"), "--port", str(ceiling_port),
                                        "--preload", str(preload)], ceiling_port)
    ceiling.wait("/")

    floor_port = free_port()
    floor = servers.start("connexion", [PYTHON, str(ROOT / "benchmarks/connexion_floor.py"), "--port", str(floor_port)],
                          floor_port)
    floor.wait("/")

    systems: dict[str, tuple[Server, dict[str, Request]]] = {
        "mock": (mock, {**mpdx_requests("/mpdx", listed[0]["id"]), "rootfi_update": rootfi_update("/rootfi/v4")}),
        "ceiling": (ceiling, {**mpdx_requests("/mpdx", listed[0]["id"]),
                              "rootfi_update": rootfi_update("/rootfi/v4")}),
        "connexion": (floor, {**{name: request for name, request in mpdx_requests("/mpdx", listed[0]["id"]).items()
                                 if name != "mpdx_list"}, "rootfi_update": rootfi_update("/rootfi/v4")}),
    }
    if opts.tools:
        prism_port, prism_rootfi_port = free_port(), free_port()
        prism = servers.start("prism-mpdx", [opts.tools["prism"], "mock", str(ROOT / "openapi/mpdx.yaml"),
                                             "-h", "127.0.0.1", "-p", str(prism_port)], prism_port)
        prism_rootfi = servers.start("prism-rootfi", [opts.tools["prism"], "mock", str(ROOT / "openapi/rootfi.yaml"),
                                                      "-h", "127.0.0.1", "-p", str(prism_rootfi_port)],
                                     prism_rootfi_port)
        prism.wait("/", timeout=180)
        prism_rootfi.wait("/", timeout=180)
        requests = mpdx_requests("", listed[0]["id"])
        systems["prism"] = (prism, {k: v for k, v in requests.items()})
        systems["prism-rootfi"] = (prism_rootfi, {"rootfi_update": rootfi_update("")})

    workloads = ["mpdx_list", "mpdx_get", "mpdx_create", "rootfi_update"]
    cases = []
    for workload in workloads:
        for name, (server, requests) in systems.items():
            if workload in requests:
                label = "prism" if name.startswith("prism") else name
                check(server, requests[workload])
                cases.append((workload, label, server, requests[workload]))
    say("warming up (1 s each)")
    for _, _, server, request in cases:
        wrk(server, request, duration=1, connections=opts.connections, workdir=opts.workdir)
    runs = interleaved(opts, cases)

    result: dict[str, Any] = {"mock_rss_mb": rss_mb(mock.pid), "workloads": {}}
    for workload in workloads:
        entry: dict[str, Any] = {"systems": {}, "ratios": {}}
        for (group, name), measured in runs.items():
            if group == workload:
                entry["systems"][name] = summarise(measured)
        if ("prism" in entry["systems"]):
            entry["ratios"]["mock/prism"] = per_round_ratio(runs[(workload, "mock")], runs[(workload, "prism")])
        entry["ratios"]["mock/ceiling"] = per_round_ratio(runs[(workload, "mock")], runs[(workload, "ceiling")])
        if "connexion" in entry["systems"]:
            entry["ratios"]["connexion/ceiling"] = per_round_ratio(runs[(workload, "connexion")],
                                                                   runs[(workload, "ceiling")])
            entry["ratios"]["mock/connexion"] = per_round_ratio(runs[(workload, "mock")], runs[(workload, "connexion")])
        result["workloads"][workload] = entry
    for server in list(servers.running):
        servers.stop(server)
    return result


SCALING_LEVELS = [("100", 100, 100), ("10k", 10_000, 100), ("100k", 100_000, 100), ("100k-hot", 100_000, 10_000)]


def section_scaling(opts: Options, servers: Servers) -> dict[str, Any]:
    levels = SCALING_LEVELS[:2] if opts.quick else SCALING_LEVELS
    say("\n== scaling: the same requests with more stored invites ==")
    say("   (the tested parent holds 100 invites, the rest are spread over 999 other parents; "
        "'100k-hot': 10,000 of the 100,000 in the tested parent)")
    result: dict[str, Any] = {"levels": {}, "workloads": {}}
    mocks: dict[str, tuple[Server, bytes]] = {}
    for label, total, in_parent in levels:
        port = free_port()
        mock = servers.start(f"mock-{label}", mock_cmd(port), port)
        mock.wait("/__admin/health")
        made = invites(total, in_parent, LIST_PARENT, seed=7)
        snapshot = snapshot_with(mock, made)
        seconds = load_state(mock, snapshot)
        mocks[label] = (mock, snapshot)
        result["levels"][label] = {"stored_invites": total, "in_tested_parent": in_parent,
                                   "snapshot_mb": round(len(snapshot) / 2**20, 1),
                                   "put_state_s": round(seconds, 2), "rss_mb_after_load": rss_mb(mock.pid)}
        say(f"  {label}: loaded {total} invites through PUT /__admin/state in {seconds:.1f} s "
            f"({len(snapshot) / 2**20:.0f} MB), RSS {rss_mb(mock.pid)} MB")
        result["levels"][label]["_probe"] = made[0]["id"]

    cases = []
    for label, (mock, _) in mocks.items():
        requests = mpdx_requests("/mpdx", result["levels"][label].pop("_probe"), create_parent=LIST_PARENT)
        for workload in ("mpdx_get", "mpdx_list", "mpdx_create"):
            if workload != "mpdx_create":  # a create now would change the level before it is measured
                check(mock, requests[workload])
            cases.append((workload, label, mock, requests[workload]))

    def restore(group: str, label: str) -> None:
        # A create run adds thousands of invites: put the level back to its size before the next run.
        if group == "mpdx_create":
            mock, snapshot = mocks[label]
            load_state(mock, snapshot)

    runs = interleaved(opts, cases, between=restore)
    for workload in ("mpdx_get", "mpdx_list", "mpdx_create"):
        entry: dict[str, Any] = {"levels": {}, "cost_vs_100": {}}
        for label, _, _ in levels:
            entry["levels"][label] = summarise(runs[(workload, label)])
            # Cost per request relative to the 100-invite level: its throughput over this level's, per round.
            entry["cost_vs_100"][label] = per_round_ratio(runs[(workload, "100")], runs[(workload, label)])
        result["workloads"][workload] = entry
    for label, (mock, _) in mocks.items():
        result["levels"][label]["rss_mb_at_end"] = rss_mb(mock.pid)
        servers.stop(mock)
    return result


def prepared_db(opts: Options, servers: Servers, total: int, name: str) -> Path:
    """A ``--db`` file holding ``total`` invites (100 in the tested parent), written by the mock itself."""
    db = opts.workdir / f"{name}.json"
    port = free_port()
    mock = servers.start(f"prepare-{name}", mock_cmd(port, "--db", str(db)), port)
    mock.wait("/__admin/health")
    if total:
        load_state(mock, snapshot_with(mock, invites(total, min(total, 100), LIST_PARENT, seed=11)))
    servers.stop(mock)
    # Start once more so that the journal of the load is folded into the snapshot, as after any restart.
    port = free_port()
    mock = servers.start(f"fold-{name}", mock_cmd(port, "--db", str(db)), port)
    mock.wait("/__admin/health")
    servers.stop(mock)
    return db


def section_startup(opts: Options, servers: Servers) -> dict[str, Any]:
    total = 10_000 if opts.quick else 100_000
    say(f"\n== startup: from launch to the first answer, with 0 and {total:,} invites in a --db file ==")
    result: dict[str, Any] = {}
    for label, count in (("0", 0), (f"{total // 1000}k", total)):
        db = prepared_db(opts, servers, count, f"startup-{label}")
        starts = []
        for _ in range(opts.repeats):
            copy = opts.workdir / f"startup-{label}-copy.json"
            shutil.copy(db, copy)
            port = free_port()
            mock = servers.start(f"startup-{label}", mock_cmd(port, "--db", str(copy)), port)
            health = mock.wait("/__admin/health", ok=lambda s: s == 200)
            probe = f"/mpdx/api/v2/account_lists/{LIST_PARENT}/invites?per_page=1"
            first_api = mock.wait(probe, ok=lambda s: s == 200, headers=MPDX_HEADERS)
            starts.append({"health_s": round(health, 3), "first_api_answer_s": round(first_api, 3),
                           "rss_mb": rss_mb(mock.pid)})
            servers.stop(mock)
            copy.unlink()
        result[label] = {
            "stored_invites": count, "db_mb": round(db.stat().st_size / 2**20, 1),
            "health_s": median([s["health_s"] for s in starts]),
            "first_api_answer_s": median([s["first_api_answer_s"] for s in starts]),
            "rss_mb": median([s["rss_mb"] for s in starts]), "runs": starts,
        }
        say(f"  {label:>5} invites ({result[label]['db_mb']} MB file): first answer after "
            f"{result[label]['first_api_answer_s']:.2f} s, RSS {result[label]['rss_mb']} MB")
    return result


def section_persistent(opts: Options, servers: Servers) -> dict[str, Any]:
    say("\n== persistent: create with --db (each write fsynced before its answer) as the file grows ==")
    sizes = [("0", 0), ("10k", 10_000)] + ([] if opts.quick else [("100k", 100_000)])
    result: dict[str, Any] = {"levels": {}}
    cases = []
    journals: dict[str, Path] = {}
    for label, count in sizes:
        db = prepared_db(opts, servers, count, f"persistent-{label}")
        port = free_port()
        mock = servers.start(f"db-{label}", mock_cmd(port, "--db", str(db)), port)
        mock.wait("/__admin/health")
        journals[label] = db.with_name(db.name + ".journal")
        request = mpdx_requests("/mpdx", "-", create_parent=CREATE_PARENT)["mpdx_create"]
        check(mock, request)
        cases.append(("create_c32", f"mock-{label}", mock, request))
        cases.append(("create_c1", f"mock-{label}", mock, request))
        result["levels"][label] = {"stored_invites": count, "snapshot_mb": round(db.stat().st_size / 2**20, 1)}
    if opts.tools:
        for label, count in sizes[:2]:
            port = free_port()
            db = opts.workdir / f"json-server-{label}.json"
            db.write_text(json.dumps({"invites": invites(count, min(count, 100), LIST_PARENT, seed=11)}))
            server = servers.start(f"json-server-{label}", [opts.tools["json-server"], "--host", "127.0.0.1",
                                                            "--port", str(port), "--quiet", str(db)], port)
            server.wait("/invites?_limit=1", timeout=120)
            request = Request("POST", "/invites", {"Content-Type": "application/json"},
                              json.dumps(CREATE_BODY["data"]["attributes"]).encode(), expect=201)
            check(server, request)
            cases.append(("create_c32", f"json-server-{label}", server, request))
    duration = opts.duration
    c32 = [case for case in cases if case[0] == "create_c32"]
    c1 = [case for case in cases if case[0] == "create_c1"]
    runs = interleaved(opts, c32, duration=duration)
    single = Options(**{**opts.__dict__, "connections": 1})
    runs.update(interleaved(single, c1, duration=duration))
    result["create_c32"] = {name: summarise(measured) for (group, name), measured in runs.items()
                            if group == "create_c32"}
    result["create_c1"] = {name: summarise(measured) for (group, name), measured in runs.items()
                           if group == "create_c1"}
    for label, journal in journals.items():
        result["levels"][label]["journal_mb_at_end"] = round(journal.stat().st_size / 2**20, 1) \
            if journal.exists() else 0
    if "json-server-0" in result["create_c32"]:
        result["ratios"] = {
            f"mock-{label}/json-server-{label}": per_round_ratio(runs[("create_c32", f"mock-{label}")],
                                                                 runs[("create_c32", f"json-server-{label}")])
            for label, _ in sizes if f"json-server-{label}" in result["create_c32"]
        }
    for server in list(servers.running):
        servers.stop(server)
    return result


def section_contract(opts: Options) -> dict[str, Any]:
    say("\n== contract: wall time of `mockserver contract --api X` against the embedded mock ==")
    result = {}
    for api in ("rootfi", "mpdx", "torii"):
        started = time.perf_counter()
        proc = subprocess.run([PYTHON, "-m", "mockserver", "contract", "--api", api], cwd=ROOT,
                              capture_output=True, text=True)
        seconds = round(time.perf_counter() - started, 1)
        result[api] = {"wall_s": seconds, "exit_code": proc.returncode}
        say(f"  {api:<7} {seconds:>6.1f} s  (exit {proc.returncode})")
    return result


# --- report -------------------------------------------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Issue 6's targets, each with the measured value and whether it is met."""
    found = []

    def add(name: str, value: float | None, limit: float, higher_is_better: bool) -> None:
        met = None if value is None else (value >= limit if higher_is_better else value <= limit)
        found.append({"target": name, "value": value, "limit": limit, "met": met})

    main = results.get("main", {}).get("workloads", {})
    for workload in ("mpdx_get", "mpdx_list", "mpdx_create", "rootfi_update"):
        if workload in main:
            ratios = main[workload]["ratios"]
            if "mock/prism" in ratios:
                add(f"{workload}: mock/Prism >= 1.5", ratios["mock/prism"], 1.5, True)
            add(f"{workload}: mock/ceiling >= 0.25", ratios["mock/ceiling"], 0.25, True)
            if workload != "rootfi_update":
                add(f"{workload}: p99 < 20 ms at 32 connections", main[workload]["systems"]["mock"]["p99_ms"], 20,
                    False)
    scaling = results.get("scaling", {}).get("workloads", {})
    for workload in ("mpdx_get", "mpdx_create"):
        for label in ("100k", "100k-hot"):
            value = scaling.get(workload, {}).get("cost_vs_100", {}).get(label)
            if value is not None:
                add(f"{workload} at {label}: cost <= 1.5x the cost at 100", value, 1.5, False)
    startup = results.get("startup", {})
    big = [key for key in startup if key != "0"]
    if big:
        add(f"startup with {startup[big[0]]['stored_invites']:,} invites < 3 s", startup[big[0]]["first_api_answer_s"],
            3.0, False)
    persistent = results.get("persistent", {})
    if "ratios" in persistent:
        add("persistent create: mock/json-server >= 5", persistent["ratios"]["mock-0/json-server-0"], 5, True)
    elif "create_c32" in persistent:
        add("persistent create >= 1,000 writes/s (5x json-server's ~200)",
            persistent["create_c32"].get("mock-0", {}).get("rps"), 1000, True)
    return found


def fmt(value: Any, spec: str = "") -> str:
    return "-" if value is None else format(value, spec)


def report(results: dict[str, Any]) -> None:
    main = results.get("main")
    if main:
        say("\nThroughput at 32 connections (median of rounds; ratios are medians of per-round ratios)")
        say(f"{'workload':<15}{'system':<10}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'bytes':>8}   {'mock/Prism':>10}"
            f"{'mock/ceiling':>13}")
        for workload, entry in main["workloads"].items():
            first = True
            for name, measured in entry["systems"].items():
                ratios = entry["ratios"] if first else {}
                say(f"{workload if first else '':<15}{name:<10}{measured['rps']:>9.0f}{fmt(measured['p50_ms'], '.2f'):>9}"
                    f"{fmt(measured['p99_ms'], '.2f'):>9}{fmt(measured['bytes_per_answer'], '.0f'):>8}"
                    f"   {fmt(ratios.get('mock/prism'), '.2f'):>10}"
                    f"{fmt(ratios.get('mock/ceiling'), '.2f'):>13}")
                first = False
        for workload, entry in main["workloads"].items():
            floor = entry["ratios"]
            if "connexion/ceiling" in floor:
                say(f"Connexion's floor on {workload} (a trivial handler; bodies validated against our schemas): "
                    f"connexion/ceiling {fmt(floor['connexion/ceiling'], '.2f')}, "
                    f"mock/connexion {fmt(floor['mock/connexion'], '.2f')}")
    scaling = results.get("scaling")
    if scaling:
        say("\nScaling (req/s, and cost per request relative to 100 stored invites)")
        labels = list(scaling["levels"])
        say(f"{'workload':<13}" + "".join(f"{label:>18}" for label in labels))
        for workload, entry in scaling["workloads"].items():
            cells = [f"{entry['levels'][l]['rps']:>8.0f} ({fmt(entry['cost_vs_100'][l], '.2f')}x)" for l in labels]
            say(f"{workload:<13}" + "".join(f"{cell:>18}" for cell in cells))
        say("RSS after loading: " + ", ".join(f"{l} {v['rss_mb_after_load']} MB" for l, v in scaling["levels"].items()))
    startup = results.get("startup")
    if startup:
        say("\nStartup (launch to first API answer, median) and resident memory")
        for label, entry in startup.items():
            say(f"  {entry['stored_invites']:>7,} invites, {entry['db_mb']:>5} MB --db file: "
                f"{entry['first_api_answer_s']:.2f} s (health {entry['health_s']:.2f} s), RSS {entry['rss_mb']} MB")
    persistent = results.get("persistent")
    if persistent:
        say("\nPersistent create (--db; req/s, p50/p99 ms at 32 connections; p50 at 1 connection = cost of a write)")
        for name, measured in persistent["create_c32"].items():
            single = persistent["create_c1"].get(name)
            say(f"  {name:<16}{measured['rps']:>8.0f} req/s  p50 {fmt(measured['p50_ms'], '.2f'):>7}  "
                f"p99 {fmt(measured['p99_ms'], '.2f'):>8}" +
                (f"   1 conn: {single['rps']:>6.0f} req/s, p50 {fmt(single['p50_ms'], '.2f')} ms" if single else ""))
        for name, ratio in persistent.get("ratios", {}).items():
            say(f"  {name}: {fmt(ratio, '.1f')}x (same number of stored invites, same round)")
    contract = results.get("contract")
    if contract:
        say("\nContract run wall time: " + ", ".join(f"{api} {v['wall_s']} s (exit {v['exit_code']})"
                                                    for api, v in contract.items()))
    say("\nTargets (issue 6)")
    for target in results["targets"]:
        mark = {True: "met", False: "NOT met", None: "n/a"}[target["met"]]
        say(f"  [{mark:^7}] {target['target']}: {fmt(target['value'])}")


# --- main ---------------------------------------------------------------------------------------------------

SECTIONS = ("main", "scaling", "startup", "persistent", "contract")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1 s per measurement, one round, "
                        "at most 10,000 invites (the numbers are not comparable)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results.json", help="write the results "
                        "here as JSON (default: %(default)s)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 5; 1 with --quick)")
    parser.add_argument("--repeats", type=int, help="rounds; medians are over them (default 3; 1 with --quick)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default: %(default)s)")
    parser.add_argument("--sections", default="main,scaling,startup,persistent",
                        help=f"comma-separated, from {', '.join(SECTIONS)} (default: %(default)s)")
    parser.add_argument("--contract", action="store_true", help="add the contract section (about a minute)")
    parser.add_argument("--no-npm", action="store_true", help="skip Prism and json-server")
    args = parser.parse_args(argv)
    sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    if args.contract and "contract" not in sections:
        sections.append("contract")
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")

    ensure_wrk()
    tools = None if args.no_npm else npm_tools()
    workdir = Path(tempfile.mkdtemp(prefix="mockserver-bench-"))
    opts = Options(duration=args.duration or (1 if args.quick else 5), repeats=args.repeats or (1 if args.quick else 3),
                   connections=args.connections, quick=args.quick, workdir=workdir, tools=tools)
    results: dict[str, Any] = {"meta": {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg(), "duration_s": opts.duration, "repeats": opts.repeats,
        "connections": opts.connections, "pinned": bool(SERVER_CPU), "quick": args.quick,
        "wrk": subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.splitlines()[0:1],
        "prism": tool_version(tools["prism"]) if tools else None,
        "mock": "mockserver serve (all APIs at /rootfi/v4, /mpdx, /torii/v1.0; default options)",
    }}
    servers = Servers(workdir)
    started = time.perf_counter()
    try:
        if "main" in sections:
            results["main"] = section_main(opts, servers)
        if "scaling" in sections:
            results["scaling"] = section_scaling(opts, servers)
        if "startup" in sections:
            results["startup"] = section_startup(opts, servers)
        if "persistent" in sections:
            results["persistent"] = section_persistent(opts, servers)
        if "contract" in sections:
            results["contract"] = section_contract(opts)
    finally:
        servers.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    results["meta"]["wall_s"] = round(time.perf_counter() - started, 1)
    results["meta"]["load_average_at_end"] = os.getloadavg()
    results["targets"] = targets(results)
    report(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    say(f"\nwrote {args.out} ({results['meta']['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
