"""Run the proxy under uvicorn, with a startup banner, one log line per exchange and one per violation."""

from __future__ import annotations

import logging
import sys

import uvicorn

from mockserver.proxy.app import create_proxy_app
from mockserver.proxy.config import ProxyConfig
from mockserver.server import is_loopback


def describe(config: ProxyConfig, origin: str) -> list[str]:
    lines = [f"{config.api} {origin}{config.base_path} -> {config.target.rstrip('/')}",
             f"drift   {origin}/__admin/drift  (GET the report, DELETE to start again)"]
    if config.record is not None:
        lines.append(f"record  {config.record}  (secrets redacted; `mockserver serve --seed-from {config.record}`)")
    if config.fail_on_drift:
        lines.append("fail-on-drift: an answer that breaks the contract is replaced by a 502 in the vendor's format")
    return lines


def run(config: ProxyConfig, *, host: str = "127.0.0.1", port: int = 8090) -> None:
    """Serve until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout, force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the proxy logs each exchange itself, once
    app = create_proxy_app(config)
    display_host = f"[{host}]" if ":" in host else host
    origin = f"http://{display_host}:{port}"
    print(f"mockserver proxy listening on {origin}, checking traffic against the {config.api} contract", flush=True)
    for line in describe(config, origin):
        print("  " + line, flush=True)
    if not is_loopback(host):
        print(f"WARNING: listening on {host}, reachable from other machines: anyone who can reach it can use the "
              "proxy to call the target, with their own credentials or none.", file=sys.stderr, flush=True)
    # The target's own Date and Server headers pass through; uvicorn adds none of its own.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", lifespan="on",
                server_header=False, date_header=False)
