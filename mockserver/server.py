"""Run the mock under uvicorn, with a startup banner and one log line per request."""

from __future__ import annotations

import ipaddress
import logging
import sys

import uvicorn

from mockserver.app import create_app, describe
from mockserver.config import MockConfig

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def quiet_parsers() -> None:
    """The multipart parser logs a warning per malformed form; the client already gets a 400 that says why."""
    logging.getLogger("python_multipart").setLevel(logging.ERROR)


def run(config: MockConfig, *, host: str = "127.0.0.1", port: int = 8080) -> None:
    """Serve until interrupted. Raises :class:`~mockserver.store.StoreError` for an unusable ``--db`` file."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout, force=True)
    quiet_parsers()
    app = create_app(config)
    display_host = f"[{host}]" if ":" in host else host
    print(f"mockserver listening on http://{display_host}:{port}", flush=True)
    for line in describe(config, f"http://{display_host}:{port}"):
        print("  " + line, flush=True)
    state = f"persisted in {config.db_path}" if config.db_path else "in memory"
    print(f"  state   {state}; seed data {'on' if config.seed else 'off'}", flush=True)
    if config.admin_token:
        print("  admin API needs the admin token (all but /__admin/health)", flush=True)
    if not is_loopback(host):
        advice = "" if config.admin_token else " Give --admin-token to protect /__admin at least."
        print(f"WARNING: listening on {host}, reachable from other machines: anyone who can reach it can "
              f"read and change the mock's data.{advice}", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="warning", lifespan="on")
