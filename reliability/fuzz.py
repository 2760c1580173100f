"""Fuzzing: Schemathesis's negative and fuzzing generation, and raw requests it cannot make, at a live mock.

Every answer is held to the same three rules: no 5xx, an error is in the vendor's own error document (the
check the contract runs, :func:`contracts.checks.error_format_problem`), and a rejected request leaves the
caller's stored state exactly as it was (the ``/__admin/state`` export before and after). After the run the
server must still answer.

Generated requests come from each operation's Hypothesis strategy in both generation modes; an operation
whose input space runs out before its share is drawn again with a new seed, so the count asked for is the
count sent. The raw cases (:mod:`reliability.raw_cases`) are sent over a plain socket, byte for byte.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import requests
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from contracts.checks import error_format_problem
from contracts.schemas import load_schema
from contracts.target import DEFAULT_CREDENTIALS, Target
from mockserver.specs import APIS
from reliability.raw_cases import RawCase, raw_cases, send_raw

MODES = (GenerationMode.NEGATIVE, GenerationMode.POSITIVE)


@dataclass
class FuzzReport:
    """What one API's fuzz run sent and saw."""

    api: str
    generated: int = 0
    raw: int = 0
    statuses: Counter = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    format_errors: list[str] = field(default_factory=list)
    state_changes: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    answering_afterwards: bool = False
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return self.generated + self.raw

    @property
    def problems(self) -> list[str]:
        return self.server_errors + self.format_errors + self.state_changes + self.transport_errors

    def as_dict(self) -> dict[str, Any]:
        return {
            "api": self.api, "requests": self.requests, "generated": self.generated, "raw": self.raw,
            "statuses": dict(sorted(self.statuses.items())), "5xx": len(self.server_errors),
            "not_in_vendor_format": len(self.format_errors), "state_changed_by_rejection": len(self.state_changes),
            "transport_errors": len(self.transport_errors), "answering_afterwards": self.answering_afterwards,
            "seconds": round(self.seconds, 1), "examples": self.problems[:10],
        }


class _Observer:
    """Checks each answer against the three rules, tracking the session's state between requests."""

    def __init__(self, report: FuzzReport, origin: str, session: str) -> None:
        self.report = report
        self.session = session
        self._admin = httpx.Client(base_url=origin, headers={"X-Mock-Session": session}, timeout=30)
        self.state = self.export()

    def export(self) -> Any:
        return self._admin.get("/__admin/state").json()["tables"]

    def observe(self, what: str, method: str, status: int, content_type: str, body: bytes, *,
                http_layer: bool = False) -> None:
        report = self.report
        report.statuses[status] += 1
        if status >= 500:
            report.server_errors.append(f"{what} -> {status} {body[:200]!r}")
        if http_layer:
            if status != 400:
                report.format_errors.append(f"{what} -> {status}, expected the HTTP server's own 400")
        elif status >= 400 and content_type.startswith(("application/json", "application/vnd.api+json")):
            try:
                document = json.loads(body)
            except ValueError:
                document = None
            problem = error_format_problem(report.api, status, document)
            if problem:
                report.format_errors.append(f"{what} -> {status}: expected {problem}")
        elif status >= 400:
            report.format_errors.append(f"{what} -> {status} with content type {content_type!r}")
        if status >= 400:
            now = self.export()
            if now != self.state:
                report.state_changes.append(f"{what} -> {status} changed the stored state")
            self.state = now
        elif method != "GET":
            self.state = self.export()

    def close(self) -> None:
        self._admin.close()


def fuzz_api(api: str, origin: str, *, generated: int, raw: bool = True, seed: int | None = None) -> FuzzReport:
    """Send at least ``generated`` Schemathesis cases (and the raw cases) to ``api`` of the mock at ``origin``."""
    started = time.monotonic()
    report = FuzzReport(api=api)
    session = f"fuzz-{api}-{uuid.uuid4().hex[:8]}"
    base_url = origin + APIS[api].base_path(alone=False)
    headers = {**DEFAULT_CREDENTIALS[api], "X-Mock-Session": session}
    observer = _Observer(report, origin, session)
    schema = load_schema(Target(api=api, base_url=base_url, headers=headers), max_examples=1)
    operations = [result.ok() for result in schema.get_all_operations()]
    http = requests.Session()
    try:
        # Operations whose input space runs dry leave their share to the others, round after round.
        for round_ in range(5):
            missing = generated - report.generated
            if missing <= 0:
                break
            share = -(-missing // (len(operations) * len(MODES)))
            before = report.generated
            for operation in operations:
                for mode in MODES:
                    _fuzz_operation(operation, mode, share, observer, http, headers, base_url,
                                    None if seed is None else seed + 1000 * round_)
            if report.generated == before:
                break
        if raw:
            for case in raw_cases(api, APIS[api].base_path(alone=False), headers):
                _send_raw_case(case, origin, observer)
        report.answering_afterwards = httpx.get(f"{origin}/__admin/health", timeout=10).status_code == 200
    finally:
        http.close()
        observer.close()
    report.seconds = time.monotonic() - started
    return report


def _fuzz_operation(operation, mode: GenerationMode, share: int, observer: _Observer, http: requests.Session,
                    headers: dict[str, str], base_url: str, seed: int | None) -> None:
    report = observer.report
    sent = 0

    def send(case) -> None:
        nonlocal sent
        if sent >= share:
            return
        what = f"{mode.value} {case.method} {case.formatted_path}"
        try:
            response = case.call(base_url=base_url, session=http, headers=headers, timeout=30)
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeError, ValueError):
            return  # not sendable as HTTP at all (e.g. a header value with a newline): nothing reached the mock
        except requests.RequestException as exc:
            report.transport_errors.append(f"{what}: {exc!r}")
            sent += 1
            report.generated += 1
            return
        sent += 1
        report.generated += 1
        content_type = (response.headers.get("content-type") or [""])[0]  # Schemathesis keeps lists of values
        observer.observe(what, case.method.upper(), response.status_code, content_type, response.content)

    strategy = operation.as_strategy(generation_mode=mode)
    for attempt in range(20):  # a small input space runs dry before its share: draw again with a new seed
        if sent >= share:
            return
        before = sent
        test = settings(max_examples=share - sent, database=None, deadline=None, phases=[Phase.generate],
                        suppress_health_check=list(HealthCheck), verbosity=hypothesis.Verbosity.quiet)(
            given(strategy)(send))
        if seed is not None:
            test = hypothesis.seed(seed + attempt)(test)
        try:
            test()
        except (hypothesis.errors.Unsatisfiable, hypothesis.errors.FailedHealthCheck):
            return
        except Exception as exc:  # Schemathesis could not build a request of this mode (e.g. nothing to negate)
            if type(exc).__name__ in ("SkipTest", "Skipped") or "negat" in str(exc).lower():
                return
            raise
        if sent == before:
            return


def _send_raw_case(case: RawCase, origin: str, observer: _Observer) -> None:
    report = observer.report
    report.raw += 1
    try:
        status, headers, body = send_raw(origin, case.request)
    except OSError as exc:
        report.transport_errors.append(f"raw {case.name}: {exc!r}")
        return
    observer.observe(f"raw {case.name}", case.method, status, headers.get("content-type", ""), body,
                     http_layer=case.http_layer)
