"""``mockserver``: the command line. It only parses arguments and calls the library."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from mockserver import __version__
from mockserver.specs import APIS


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mockserver",
        description="Stateful mock servers and contract tests for the RootFi, MPDX and Torii APIs.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="run the mock server",
        description="Serve the APIs from their OpenAPI specs, with state, on loopback by default.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    serve.add_argument(
        "--api",
        choices=["all", *APIS],
        default="all",
        help="serve one API at the root (as on its real host), or all behind /rootfi/v4, /mpdx, /torii/v1.0",
    )
    serve.add_argument("--db", type=Path, metavar="PATH", help="persist state in this JSON file")
    seeding = serve.add_mutually_exclusive_group()
    seeding.add_argument("--no-seed", action="store_true", help="start without the documented example records")
    seeding.add_argument(
        "--seed-from", type=Path, action="append", default=[], metavar="PATH",
        help="start new sessions with the records of a `mockserver proxy --record` recording instead of the "
             "documented examples (repeat for recordings of several APIs)",
    )
    serve.add_argument("--latency", type=int, default=0, metavar="MS", help="add this delay to every answer")
    serve.add_argument(
        "--sync-seconds",
        type=_non_negative_float,
        default=2.0,
        metavar="S",
        help="how long a Torii sync runs, blocking a second one with 409 (default: %(default)s)",
    )
    limit = serve.add_mutually_exclusive_group()
    limit.add_argument(
        "--rate-limit", type=_positive_int, default=200, metavar="N",
        help="Torii requests per minute per token (default: %(default)s)",
    )
    limit.add_argument("--no-rate-limit", action="store_true", help="turn the Torii rate limit off")
    serve.add_argument(
        "--token", action="append", default=[], metavar="TOKEN",
        help="accept only this credential (repeat for several); any non-blank one by default",
    )
    serve.add_argument(
        "--admin-token", metavar="TOKEN", default=os.environ.get("MOCKSERVER_ADMIN_TOKEN") or None,
        help="require this token (Authorization: Bearer TOKEN, or X-Admin-Token) on /__admin, all but its "
             "health check; also read from $MOCKSERVER_ADMIN_TOKEN",
    )
    serve.add_argument(
        "--validate-responses", action="store_true", help="check every answer against the spec (slower)"
    )
    proxy = commands.add_parser(
        "proxy",
        help="check a real backend's live traffic against the contract",
        description="Forward every request to --target unchanged and return its answer unchanged, checking both "
        "against the contract on the side. Each violation is logged as one line and counted; GET /__admin/drift "
        "on the proxy returns the counts and the last violations.",
    )
    proxy.add_argument("--api", choices=list(APIS), required=True, help="whose contract the traffic follows")
    proxy.add_argument("--target", required=True, metavar="URL",
                       help="where the API's paths start on the backend, e.g. https://api.rootfi.dev/v4 or "
                            "http://127.0.0.1:8080/rootfi/v4; the proxy serves them at the real server's path "
                            "(/v4, /, /v1.0)")
    proxy.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    proxy.add_argument("--port", type=int, default=8090, help="port to listen on (default: %(default)s)")
    proxy.add_argument("--record", type=Path, metavar="PATH",
                       help="write every exchange to this file (JSON lines, secrets redacted; replaced if it "
                            "exists), for `mockserver serve --seed-from PATH`")
    proxy.add_argument("--fail-on-drift", action="store_true",
                       help="replace an answer that breaks the contract by a 502 in the vendor's error format "
                            "that explains the drift (for CI runs of an app's end-to-end tests)")
    contract = commands.add_parser(
        "contract",
        help="check an implementation (or the mock) against the contract",
        description="Run the Schemathesis contract suites against --base-url, or against the embedded mock. "
        "Exit 0 when the target keeps the contract, 1 when it does not, 2 for a usage error.",
    )
    contract.add_argument("--api", choices=["all", *APIS], required=True, help="which API's contract")
    contract.add_argument("--base-url", metavar="URL",
                          help="the implementation to check (one API), e.g. http://127.0.0.1:8080/mpdx; "
                               "without it the embedded mock is started on a free loopback port")
    contract.add_argument("--header", action="append", default=[], metavar="'Name: value'",
                          help="a header for every request, e.g. 'Authorization: Bearer ...' (repeatable)")
    contract.add_argument("--second-header", action="append", default=[], metavar="'Name: value'",
                          help="another user's credentials (repeatable), for the tests that need two callers; "
                               "without it they run only against the embedded mock")
    contract.add_argument("--junit-xml", type=Path, metavar="PATH", help="write a JUnit XML report")
    contract.add_argument("--max-examples", type=_positive_int, default=20, metavar="N",
                          help="generated cases per operation and phase (default: %(default)s)")
    contract.add_argument("--workers", type=_positive_int, default=1, metavar="N",
                          help="parallel pytest workers (default: %(default)s)")
    contract.add_argument("--exclude", action="append", default=[], metavar="TAG",
                          choices=["examples", "edge", "generated", "stateful", "rules"],
                          help="skip tests with this tag, e.g. 'rules' against a real service (repeatable)")
    contract.add_argument("-v", "--verbose", action="store_true", help="list every test as it runs")

    docs = commands.add_parser("docs", help="build the API documentation site")
    docs_commands = docs.add_subparsers(dest="docs_command", metavar="DOCS_COMMAND", required=True)
    build = docs_commands.add_parser(
        "build", help="write the static documentation site", description="Write the documentation site "
        "(works offline, opened from disk or served by any web server).",
    )
    build.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write the site into")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "serve":
        return _serve(args, parser)
    if args.command == "docs":
        return _docs(args)
    if args.command == "contract":
        return _contract(args, parser)
    if args.command == "proxy":
        return _proxy(args, parser)
    parser.error(f"unknown command {args.command}")
    return 2


def _serve(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mockserver.config import MockConfig
    from mockserver.server import run
    from mockserver.store import StoreError

    config = MockConfig(
        apis=tuple(APIS) if args.api == "all" else (args.api,),
        db_path=args.db,
        seed=not args.no_seed,
        latency_ms=max(args.latency, 0),
        sync_seconds=args.sync_seconds,
        rate_limit=None if args.no_rate_limit else args.rate_limit,
        validate_responses=args.validate_responses,
        tokens=frozenset(args.token),
        admin_token=args.admin_token,
        seed_from=tuple(args.seed_from),
    )
    if config.seed_from:
        from mockserver.recording import RecordingError, describe

        try:
            recorded = describe(config.seed_from)
        except RecordingError as exc:
            print(f"mockserver: error: {exc}", file=sys.stderr)
            return 2
        print(f"seed data from {', '.join(map(str, config.seed_from))}: {'; '.join(recorded) or 'no exchanges'}",
              flush=True)
    try:
        run(config, host=args.host, port=args.port)
    except StoreError as exc:
        print(f"mockserver: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _proxy(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from mockserver.proxy import ProxyConfig
    from mockserver.proxy.server import run

    try:
        config = ProxyConfig(api=args.api, target=args.target, record=args.record, fail_on_drift=args.fail_on_drift)
    except ValueError as exc:
        parser.error(str(exc))
    try:
        run(config, host=args.host, port=args.port)
    except OSError as exc:
        print(f"mockserver: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _contract(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from contracts.runner import ContractRun, run

    if args.base_url and args.api == "all":
        parser.error("--base-url names one implementation: give it with --api rootfi|mpdx|torii")
    return run(ContractRun(
        api=args.api, base_url=args.base_url, headers=tuple(args.header), second_headers=tuple(args.second_header),
        junit_xml=args.junit_xml,
        max_examples=args.max_examples, workers=args.workers, exclude=tuple(args.exclude), verbose=args.verbose,
    ))


def _docs(args: argparse.Namespace) -> int:
    from mockserver.docs import build_site

    written = build_site(args.out)
    print(f"wrote {len(written)} files to {args.out} (open {args.out / 'index.html'})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
