"""The validating proxy (``mockserver proxy``) and recordings (``--record``, ``serve --seed-from``).

The proxy runs in process in front of a target app (``httpx.ASGITransport``), or under uvicorn where the network
matters (streaming, an unreachable target, the command line). Targets are the faithful mock and the deliberately
faulty implementations of :mod:`tests.faulty`, driven by :mod:`tests.proxy_traffic`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import uuid
import warnings
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from contracts.target import DEFAULT_CREDENTIALS
from mockserver.app import create_app
from mockserver.config import MockConfig
from mockserver.errors import schema_problems
from mockserver.proxy import ProxyConfig, create_proxy_app
from mockserver.proxy.validator import ResponseSchema
from mockserver.recording import read_recording, recorded_states
from mockserver.rules import error_format_problem
from mockserver.specs import APIS, iter_operations, request_example, resolved_spec
from tests.contract_helpers import ServedApp
from tests.faulty import FAULTS, faithful_app
from tests.proxy_traffic import JSONAPI, RATE_LIMIT, TRAFFIC, caller, documented_requests, fault_target

ROOT = Path(__file__).resolve().parent.parent
ERROR_MEDIA_TYPES = {"rootfi": "application/json", "mpdx": "application/vnd.api+json", "torii": "application/json"}

NOT_OBSERVABLE = {
    "rootfi_update_not_persisted": "the update's own answer is right; only a later read shows it was not kept",
    "rootfi_cursor_ignored": "a page for an opaque cursor is a valid page; only the previous page shows it repeats",
    "mpdx_reaccept_gone": "410 is documented for accept; only the earlier accept by the same user makes it wrong",
    "mpdx_cancel_not_effective": "the cancel's 204 is right; only a later list or accept shows nothing changed",
    "mpdx_any_token_accepted": "the proxy cannot know which credentials the backend should refuse",
    "torii_second_sync_accepted": "a 200 sync is right alone; only a sync running at the time makes it a 409",
    "torii_rate_limit_off": "the absence of a 429 shows only over many requests, never in one",
    "torii_invalid_file_synced": "the sync's answer depends on the content of a file uploaded earlier",
    "torii_upload_not_kept": "the upload's answer is right; only a later read or sync shows the file is gone",
}
"""Faults no single exchange can reveal (a write that does not stick, state across requests): the proxy judges
each exchange alone, so they must show no drift at all (which also proves it raises no false alarm)."""

CAUGHT = {
    "rootfi_create_answers_201": "response.status",
    "rootfi_list_without_next": "response.body",
    "rootfi_id_as_string": "response.body",
    "rootfi_updated_at_never_advances": "response.vendor_rule",
    "rootfi_api_key_optional": "response.accepted_invalid_request",
    "rootfi_404_plain_text": "response.content_type",
    "rootfi_invalid_body_is_500": "response.status",
    "rootfi_limit_ignored": "response.vendor_rule",
    "rootfi_update_ignores_integrations": "response.vendor_rule",
    "mpdx_create_answers_200": "response.status",
    "mpdx_delete_answers_200_with_body": "response.status",
    "mpdx_recipient_email_renamed": "response.body",
    "mpdx_error_status_integer": "response.error_format",
    "mpdx_plain_json_content_type": "response.content_type",
    "mpdx_filter_ignored": "response.vendor_rule",
    "mpdx_total_pages_off_by_one": "response.vendor_rule",
    "mpdx_per_page_ignored": "response.vendor_rule",
    "mpdx_any_code_accepted": "response.vendor_rule",
    "mpdx_cancelled_still_listed": "response.vendor_rule",
    "torii_upload_id_string": "response.body",
    "torii_errors_flat": "response.error_format",
    "torii_file_name_renamed": "response.body",
    "torii_sync_answers_202_empty": "response.status",
    "torii_bad_token_403": "response.status",
    "torii_429_without_retry_after": "response.vendor_rule",
    "torii_invalid_upload_is_500": "response.status",
}
"""Each fault a single exchange reveals, with the kind of drift the proxy must report for it."""


# --- plumbing --------------------------------------------------------------------------------------------------


class ProxyRun:
    """A proxy for ``api`` in front of ``target`` (an ASGI app serving the API at ``target_base``), in process."""

    def __init__(self, api: str, target: Any, *, target_base: str | None = None, transport: Any = None,
                 **options: Any) -> None:
        self.api = api
        self.base = APIS[api].base_path(alone=True)
        target_base = self.base if target_base is None else target_base
        self.target = target
        self.app = create_proxy_app(ProxyConfig(api=api, target=options.pop("target_url", "http://target" + target_base),
                                                **options),
                                    transport=transport or (httpx.ASGITransport(app=target) if target else None))
        self.client = TestClient(self.app, base_url="http://proxy")
        self.invalid = 0

    def __enter__(self) -> ProxyRun:
        self.client.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.__exit__(*exc)

    def call(self, method: str, path: str, *, invalid: bool = False, **options: Any) -> httpx.Response:
        """One request as an app would send it to the API: its credentials, and JSON:API for MPDX."""
        self.invalid += invalid
        return caller(self.client, self.api, self.base)(method, path, **options)

    def report(self) -> dict[str, Any]:
        response = self.client.get("/__admin/drift")
        assert response.status_code == 200
        return response.json()


def response_side(report: dict[str, Any]) -> dict[str, int]:
    return {kind: count for kind, count in report["by_kind"].items() if kind.startswith("response.")}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- no drift in front of the faithful mock -----------------------------------------------------------------------


@pytest.mark.parametrize("api", list(APIS))
def test_every_documented_request_passes_without_drift(api, tmp_path):
    recording = tmp_path / f"{api}.jsonl"
    with ProxyRun(api, faithful_app(api), record=recording) as run:
        for method, path, options in documented_requests(api):
            response = run.call(method, path, **options)
            assert response.status_code < 300, (method, path, response.text[:300])
        report = run.report()
    assert report["total"] == 0, report["last"]
    assert report["exchanges"] > 0 and report["bodies_not_checked"] == 0
    seen = {exchange.operation for exchange in read_recording(recording)}
    assert seen == {operation["operationId"] for _, _, operation in iter_operations(resolved_spec(api))}


@pytest.mark.parametrize("api", list(APIS))
def test_client_traffic_through_the_faithful_mock_shows_only_the_clients_own_drift(api):
    with ProxyRun(api, faithful_app(api, rate_limit=RATE_LIMIT)) as run:
        TRAFFIC[api](run.call)
        report = run.report()
    assert response_side(report) == {}, report["last"]
    assert report["drifting_exchanges"] == run.invalid  # exactly the requests that break the contract on purpose
    assert set(report["by_kind"]) <= {"request.credentials", "request.body"}


# --- every fault a single exchange can show, shown ------------------------------------------------------------


def test_every_fault_is_either_caught_or_explained():
    names = {fault.name for fault in FAULTS}
    assert names == set(CAUGHT) | set(NOT_OBSERVABLE) and not set(CAUGHT) & set(NOT_OBSERVABLE)


@pytest.mark.parametrize("fault", FAULTS, ids=lambda fault: fault.name)
def test_a_faulty_target_shows_up_as_drift(fault):
    with ProxyRun(fault.api, fault_target(fault)) as run:
        TRAFFIC[fault.api](run.call)
        report = run.report()
    drift = response_side(report)
    if fault.name in NOT_OBSERVABLE:
        assert drift == {}, f"{fault.name} is not observable on one exchange, yet: {report['last']}"
        return
    assert drift.get(CAUGHT[fault.name], 0) > 0, f"{fault.name} ({fault.drift}): drift {drift}"
    drifting = [entry for entry in report["last"] if entry["kind"] == CAUGHT[fault.name]]
    assert all(entry["expected"] and entry["seen"] and entry["operation"] for entry in drifting)


def test_the_drift_report_counts_by_kind_and_operation_and_can_be_reset():
    fault = next(fault for fault in FAULTS if fault.name == "rootfi_create_answers_201")
    with ProxyRun("rootfi", fault_target(fault)) as run:
        body = request_example("rootfi", "create_invite_link")
        assert run.call("POST", "/core/invite_links", json=body).status_code == 201  # passed on unchanged
        run.call("GET", "/core/invite_links/1")
        report = run.report()
        assert report["total"] == 1 and report["exchanges"] == 2 and report["drifting_exchanges"] == 1
        assert report["by_kind"] == {"response.status": 1}
        assert report["by_operation"] == {"create_invite_link": 1}
        [entry] = report["last"]
        assert entry["method"] == "POST" and entry["path"] == "/v4/core/invite_links" and entry["status"] == 201
        assert "200" in entry["expected"] and entry["seen"] == "201"
        assert run.client.delete("/__admin/drift").status_code == 204
        assert run.report()["total"] == 0 and run.report()["last"] == []
        assert run.client.get("/__admin/health").json()["api"] == "rootfi"
        missing = run.client.get("/__admin/nothing")
        assert missing.status_code == 404 and missing.json()["error"]["status"] == 404


def test_each_violation_is_one_log_line(caplog):
    fault = next(fault for fault in FAULTS if fault.name == "torii_upload_id_string")
    with caplog.at_level("WARNING", logger="mockserver.drift"), ProxyRun("torii", fault_target(fault)) as run:
        run.call("POST", "/files/upload", files={"file": ("a.json", b"{}", "application/json"),
                                                 "type": (None, "customIntegrationData")})
    [line] = [record.getMessage() for record in caplog.records if record.name == "mockserver.drift"]
    assert line.startswith("drift: POST /v1.0/files/upload (upload_file) -> 200 | response.body | contract: ")
    assert "id must be of type integer (got str)" in line and "\n" not in line


# --- --fail-on-drift ---------------------------------------------------------------------------------------------

FAIL_ON_DRIFT = {"rootfi": "rootfi_create_answers_201", "mpdx": "mpdx_create_answers_200",
                 "torii": "torii_upload_id_string"}


@pytest.mark.parametrize("api", list(APIS))
def test_fail_on_drift_answers_a_drifting_answer_with_a_502_in_the_vendor_format(api):
    fault = next(fault for fault in FAULTS if fault.name == FAIL_ON_DRIFT[api])
    with ProxyRun(api, fault_target(fault), fail_on_drift=True) as run:
        drifting = {
            "rootfi": lambda: run.call("POST", "/core/invite_links", json=request_example("rootfi", "create_invite_link")),
            "mpdx": lambda: run.call("POST", f"/api/v2/account_lists/{uuid.uuid4()}/invites", headers={
                "Content-Type": JSONAPI}, content=json.dumps(request_example("mpdx", "create_account_list_invite")).encode()),
            "torii": lambda: run.call("POST", "/files/upload", files={"file": ("a.json", b"{}", "application/json"),
                                                                      "type": (None, "customIntegrationData")}),
        }[api]()
        faithful = run.call("GET", {"rootfi": "/core/invite_links/1", "torii": "/files/1000",
                                    "mpdx": f"/api/v2/account_lists/{uuid.uuid4()}/invites"}[api])
        report = run.report()
    assert drifting.status_code == 502
    assert drifting.headers["content-type"].startswith(ERROR_MEDIA_TYPES[api])
    assert error_format_problem(api, 502, drifting.json()) is None
    assert "response." in drifting.text and "breaks the API contract" in drifting.text
    assert drifting.headers["x-contract-drift"].startswith("response.")
    assert faithful.status_code == 200  # an answer that keeps the contract passes as it was
    assert response_side(report)


# --- forwarding --------------------------------------------------------------------------------------------------


async def echo_target(scope, receive, send):
    """A target that answers what it received, as JSON, with headers a proxy must pass on as they are."""
    body, chunks = b"", 0
    while True:
        message = await receive()
        body += message.get("body", b"")
        chunks += 1
        if not message.get("more_body"):
            break
    seen = {"method": scope["method"], "raw_path": scope["raw_path"].decode(), "query": scope["query_string"].decode(),
            "headers": [[k.decode("latin-1"), v.decode("latin-1")] for k, v in scope["headers"]],
            "body": body.decode("latin-1"), "chunks": chunks}
    payload = json.dumps(seen).encode()
    await send({"type": "http.response.start", "status": 418, "headers": [
        (b"content-type", b"application/x-echo"), (b"x-target", b"yes"), (b"set-cookie", b"a=1; Path=/"),
        (b"set-cookie", b"b=2; Path=/"), (b"connection", b"close"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def test_headers_body_and_status_pass_both_ways_unchanged():
    body = bytes(range(256)) * 4
    with ProxyRun("rootfi", echo_target, target_base="/base/v4") as run:
        response = run.client.request(
            "PUT", "/v4/core/invite_links/a%2Fb?x=1&x=2&sp=a%20b", content=body,
            headers={"api_key": "k", "Content-Type": "application/octet-stream", "X-Custom": "kept",
                     "Connection": "keep-alive, x-hop", "X-Hop": "dropped", "Keep-Alive": "timeout=5", "TE": "trailers"})
    seen = response.json()
    headers = {name: value for name, value in seen["headers"]}
    assert response.status_code == 418  # undocumented, so drift, but passed on as it came
    assert response.headers["x-target"] == "yes" and response.headers["content-type"] == "application/x-echo"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/"]
    assert seen["method"] == "PUT"
    assert seen["raw_path"] == "/base/v4/core/invite_links/a%2Fb" and seen["query"] == "x=1&x=2&sp=a%20b"
    assert seen["body"].encode("latin-1") == body
    assert headers["host"] == "target" and headers["x-custom"] == "kept" and headers["api_key"] == "k"
    assert headers["content-type"] == "application/octet-stream" and headers["content-length"] == str(len(body))
    assert not {"connection", "keep-alive", "te", "x-hop"} & set(headers)  # hop-by-hop stays on its hop


def test_a_path_outside_the_api_goes_to_the_target_as_it_is():
    with ProxyRun("rootfi", echo_target, target_base="/v4") as run:
        response = run.client.get("/core/invite_links/1", headers={"api_key": "k"})
    assert response.json()["raw_path"] == "/v4/core/invite_links/1"


def test_compressed_answers_pass_compressed_and_are_checked_uncompressed():
    link = {"data": {"rootfi_id": "1"}}  # breaks the schema, inside gzip

    async def gzip_target(scope, receive, send):
        payload = gzip.compress(json.dumps(link).encode())
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"), (b"content-encoding", b"gzip"),
            (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})

    with ProxyRun("rootfi", gzip_target) as run:
        response = run.call("GET", "/core/invite_links/1", headers={"Accept-Encoding": "gzip"})
        report = run.report()
    assert response.headers["content-encoding"] == "gzip" and response.json() == link
    assert report["by_kind"].get("response.body") == 1


@pytest.mark.parametrize("api", list(APIS))
def test_an_unreachable_target_is_a_502_in_the_vendor_format(api):
    target = f"http://127.0.0.1:{closed_port()}{APIS[api].base_path(alone=True)}"
    with ProxyRun(api, None, target_url=target) as run:
        response = run.call("GET", {"rootfi": "/core/invite_links/1", "torii": "/files/1000",
                                    "mpdx": f"/api/v2/account_lists/{uuid.uuid4()}/invites"}[api])
        report = run.report()
    assert response.status_code == 502
    assert response.headers["content-type"].startswith(ERROR_MEDIA_TYPES[api])
    assert error_format_problem(api, 502, response.json()) is None
    assert "could not reach the target" in response.text
    assert report["target_errors"] == 1 and report["total"] == 0


class ClientPorts:
    """ASGI middleware noting the client port of each request (one port per TCP connection to the target)."""

    def __init__(self, app: Any) -> None:
        self.app, self.ports = app, []

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            self.ports.append(scope["client"][1])
        await self.app(scope, receive, send)


def test_connections_to_the_target_are_kept_alive_and_shared_under_load():
    target = ClientPorts(faithful_app("rootfi"))
    with ServedApp(target, name="pooled-target") as origin:
        proxy = create_proxy_app(ProxyConfig(api="rootfi", target=origin + "/v4"))

        async def traffic() -> list[int]:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxy), base_url="http://proxy/v4",
                                         headers=DEFAULT_CREDENTIALS["rootfi"]) as client:
                for _ in range(5):
                    assert (await client.get("/core/invite_links/1")).status_code == 200
                answers = await asyncio.gather(*(client.get("/core/invite_links/1") for _ in range(20)))
                await proxy.state.proxy.aclose()
                return [answer.status_code for answer in answers]

        statuses = asyncio.run(traffic())
    assert statuses == [200] * 20
    assert len(set(target.ports[:5])) == 1  # one kept-alive connection for requests one after another
    assert len(set(target.ports)) <= 21


def test_a_connection_the_target_closed_is_not_reused():
    closing = {"count": 0}

    async def closes_after_answering(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        closing["count"] += 1
        body = json.dumps({"error": {"status": 404, "code": "NOT_FOUND", "message": "gone"}}).encode()
        await send({"type": "http.response.start", "status": 404, "headers": [
            (b"content-type", b"application/json"), (b"connection", b"close"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    with ServedApp(closes_after_answering, name="closing-target") as origin, \
            ProxyRun("rootfi", None, target_url=origin + "/v4") as run:
        statuses = [run.call("GET", "/core/invite_links/x").status_code for _ in range(3)]
    assert statuses == [404, 404, 404] and closing["count"] == 3


def test_a_browsers_preflight_is_forwarded_and_not_judged():
    with ProxyRun("mpdx", faithful_app("mpdx")) as run:
        response = run.client.options("/api/v2/account_lists/x/invites", headers={
            "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
        report = run.report()
    assert response.status_code == 200 and report["total"] == 0 and report["exchanges"] == 1


class CountingChunks:
    """ASGI middleware counting the request body messages that reach the app (how the body arrived)."""

    def __init__(self, app: Any) -> None:
        self.app, self.chunks = app, []

    async def __call__(self, scope, receive, send):
        async def counting():
            message = await receive()
            if message["type"] == "http.request":
                self.chunks.append(len(message.get("body", b"")))
            return message

        await self.app(scope, counting if scope["type"] == "http" else receive, send)


@pytest.mark.parametrize("capture_limit", [4 * 1024 * 1024, 64 * 1024], ids=["checked", "too-large-to-check"])
def test_a_large_upload_streams_through_to_the_target(tmp_path, capture_limit):
    mock = faithful_app("torii")
    target = CountingChunks(mock)
    users = [{"id": str(n), "email": f"user{n}@example.com", "firstName": "A" * 40, "lastName": "B" * 40,
              "status": "active", "roles": ["Member"]} for n in range(14000)]
    content = json.dumps({"users": users, "licenses": []}).encode()
    assert 2.5 * 2**20 < len(content) < 3 * 2**20
    recording = tmp_path / "upload.jsonl"
    proxy = create_proxy_app(ProxyConfig(api="torii", target="http://target/v1.0", record=recording,
                                         capture_limit=capture_limit), transport=httpx.ASGITransport(app=target))
    with ServedApp(proxy, name="proxy-under-test") as origin, httpx.Client(base_url=origin + "/v1.0", headers={
            "Authorization": DEFAULT_CREDENTIALS["torii"]["Authorization"]}, timeout=30) as client:
        uploaded = client.post("/files/upload", files={"file": ("big.json", content, "application/json"),
                                                       "type": (None, "customIntegrationData")})
        assert uploaded.status_code == 200, uploaded.text
        file_id = uploaded.json()["id"]
        assert client.get(f"/files/{file_id}").json()["file"]["fileName"] == "big.json"
        synced = client.put("/services/sync/custom", json={"idFile": file_id, "idAppAccount": 1})
        report = client.get(origin + "/__admin/drift").json()
    assert synced.status_code == 200, synced.text  # the whole file arrived: it parses and follows the schema
    assert len(target.chunks) > 1 and max(target.chunks) < len(content)  # forwarded as it came, not whole
    assert report["total"] == 0
    [upload] = [exchange for exchange in read_recording(recording) if exchange.operation == "upload_file"]
    if capture_limit > len(content):
        assert report["bodies_not_checked"] == 0 and upload.form()["file"].content == content
    else:
        assert report["bodies_not_checked"] == 1 and upload.request["body_encoding"] == "omitted"


# --- recording -------------------------------------------------------------------------------------------------


def test_a_recording_redacts_every_secret(tmp_path):
    recording = tmp_path / "secrets.jsonl"
    token = "sup3r-s3cret-jwt"
    with ProxyRun("mpdx", faithful_app("mpdx", tokens=frozenset({token})), record=recording) as run:
        parent = f"/api/v2/account_lists/{uuid.uuid4()}/invites"
        assert run.call("GET", parent, headers={"Authorization": f"Bearer {token}",
                                                "Cookie": "session=cookie-s3cret; theme=dark"}).status_code == 200
        assert run.call("GET", parent, headers={"Authorization": None},
                        params={"access_token": token, "page": 1}).status_code == 200
    with ProxyRun("rootfi", faithful_app("rootfi"), record=tmp_path / "rootfi.jsonl") as run:
        run.call("GET", "/core/invite_links/1", headers={"api_key": "rootfi-s3cret"})
    text = recording.read_text() + (tmp_path / "rootfi.jsonl").read_text()
    for secret in (token, "cookie-s3cret", "rootfi-s3cret", DEFAULT_CREDENTIALS["rootfi"]["api_key"]):
        assert secret not in text
    first, second = read_recording(recording)
    assert first.request_header("authorization") == "Bearer [REDACTED]"
    assert first.request_header("cookie") == "session=[REDACTED]; theme=[REDACTED]"
    assert second.query == "access_token=[REDACTED]&page=1"
    assert first.caller == second.caller and uuid.UUID(first.caller)  # who it was, without the secret
    assert read_recording(tmp_path / "rootfi.jsonl")[0].request_header("api_key") == "[REDACTED]"


def _record(api: str, target: Any, path: Path) -> None:
    with ProxyRun(api, target, target_base=APIS[api].base_path(alone=False), record=path) as run:
        TRAFFIC[api](run.call)


def test_seeding_from_a_recording_reproduces_the_recorded_state(tmp_path):
    original = create_app(MockConfig(rate_limit=RATE_LIMIT))
    recordings = {api: tmp_path / f"{api}.jsonl" for api in APIS}
    for api, path in recordings.items():
        _record(api, original, path)
    seeded = create_app(MockConfig(rate_limit=RATE_LIMIT, seed_from=tuple(recordings.values())))
    exchanges = {api: read_recording(path) for api, path in recordings.items()}
    with TestClient(original) as before, TestClient(seeded) as after:
        def same(path: str, api: str, **options: Any) -> Any:
            headers = {**DEFAULT_CREDENTIALS[api], "Accept": JSONAPI if api == "mpdx" else "*/*"}
            url = APIS[api].base_path(alone=False) + path
            was, now = before.get(url, headers=headers, **options), after.get(url, headers=headers, **options)
            assert (now.status_code, now.json()) == (was.status_code, was.json()), path
            return now.json()

        links = same("/core/invite_links", "rootfi", params={"limit": 100})["data"]
        assert len(links) == 1 + 2 + 6  # the documented link, the two documented creates, six more
        for link in links:
            same(f"/core/invite_links/{link['invite_link_id']}", "rootfi")
        parents = {exchange.path for exchange in exchanges["mpdx"] if exchange.operation.startswith("list_")}
        for parent in parents:
            listed = same(parent, "mpdx", params={"per_page": 100})["data"]
            for invite in listed:
                same(f"{parent}/{invite['id']}", "mpdx")
        cancelled = [e for e in exchanges["mpdx"] if e.method == "DELETE"]
        assert len(cancelled) == 3
        for exchange in cancelled:  # cancelled: gone from their parent's list
            parent = exchange.path.rsplit("/", 1)[0]
            listed = same(parent, "mpdx", params={"per_page": 100})["data"]
            assert exchange.path_parameters["id"] not in {invite["id"] for invite in listed}
        files = sorted({e.response_json["id"] for e in exchanges["torii"] if e.operation == "upload_file"
                        and e.status == 200} | {1000})
        for file_id in files:
            same(f"/torii/v1.0/files/{file_id}", "torii")
        upload = {"file": ("next.json", b"{}", "application/json"), "type": (None, "customIntegrationData")}
        headers = DEFAULT_CREDENTIALS["torii"]
        next_ids = [client.post("/torii/v1.0/files/upload", files=upload, headers=headers).json()["id"]
                    for client in (before, after)]
        assert next_ids[0] == next_ids[1] == max(files) + 1  # later uploads get the ids after the recorded ones


def test_drifting_answers_are_left_out_of_the_seed(tmp_path):
    fault = next(fault for fault in FAULTS if fault.name == "rootfi_id_as_string")
    recording = tmp_path / "drifting.jsonl"
    with ProxyRun("rootfi", fault_target(fault), record=recording) as run:
        run.call("POST", "/core/invite_links", json=request_example("rootfi", "create_invite_link"))
        run.call("GET", "/core/invite_links/1", headers={"api_key": None})  # a 401: kept out as well
    assert {exchange.drifted for exchange in read_recording(recording)} == {True, False}
    assert recorded_states([recording])["rootfi"].record_count == 0


def test_a_torn_last_line_is_skipped_and_a_corrupt_one_refused(tmp_path):
    good = tmp_path / "good.jsonl"
    _record("rootfi", create_app(MockConfig()), good)
    torn = tmp_path / "torn.jsonl"
    torn.write_bytes(good.read_bytes() + b'{"time": "2026-')
    assert len(read_recording(torn)) == len(read_recording(good))
    corrupt = tmp_path / "corrupt.jsonl"
    corrupt.write_bytes(b"not json\n" + good.read_bytes())
    from mockserver.recording import RecordingError

    with pytest.raises(RecordingError, match="line 1"):
        read_recording(corrupt)


# --- answers are checked as OpenAPI 3.0 says ----------------------------------------------------------------------


def test_the_fast_answer_check_never_accepts_what_openapis_validator_refuses():
    checked = rejected = 0
    for api in APIS:
        for _, _, operation in iter_operations(resolved_spec(api)):
            for response in operation["responses"].values():
                for content in (response.get("content") or {}).values():
                    documents = [example["value"] for example in (content.get("examples") or {}).values()]
                    mutated = [{**document, key: value} for document in documents if isinstance(document, dict)
                               for key in document for value in (None, 12345, "text", [])]
                    schema = ResponseSchema(content["schema"])
                    openapi = OAS30Validator(content["schema"], format_checker=oas30_format_checker)
                    for document in documents + mutated:
                        checked += 1
                        if schema.fast_accepts(document):
                            assert not list(openapi.iter_errors(document)), (api, operation["operationId"], document)
                        else:
                            rejected += 1
                            assert schema.problems(document) == [
                                p.detail for p in schema_problems(list(openapi.iter_errors(document)))]
    assert checked > 300 and rejected > 100


# --- the command line ------------------------------------------------------------------------------------------


def _wait_for(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code < 500:
                return
        time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {seconds} s")


@contextlib.contextmanager
def _command(*args: str) -> Iterator[subprocess.Popen]:
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    process = subprocess.Popen([sys.executable, "-m", "mockserver", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, cwd=ROOT, env=env)
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_proxy_and_seed_from_commands_end_to_end(tmp_path):
    fault = next(fault for fault in FAULTS if fault.name == "rootfi_create_answers_201")
    recording = tmp_path / "cli.jsonl"
    port, mock_port = closed_port(), closed_port()
    with ServedApp(fault_target(fault), name="faulty-rootfi") as target, _command(
            "proxy", "--api", "rootfi", "--target", target + "/v4", "--port", str(port),
            "--record", str(recording)) as proxy:
        origin = f"http://127.0.0.1:{port}"
        _wait_for(origin + "/__admin/health", proxy)
        with httpx.Client(base_url=origin + "/v4", headers=DEFAULT_CREDENTIALS["rootfi"]) as client:
            created = client.post("/core/invite_links", json=request_example("rootfi", "create_invite_link"))
            assert created.status_code == 201
            assert client.get("/core/invite_links/1").status_code == 200
            report = client.get(origin + "/__admin/drift").json()
    output = proxy.stdout.read()
    assert report["by_kind"] == {"response.status": 1} and report["by_operation"] == {"create_invite_link": 1}
    assert "drift: POST /v4/core/invite_links (create_invite_link) -> 201 | response.status" in output
    assert [exchange.status for exchange in read_recording(recording)] == [201, 200]
    with _command("serve", "--api", "rootfi", "--port", str(mock_port), "--seed-from", str(recording)) as mock:
        origin = f"http://127.0.0.1:{mock_port}"
        _wait_for(origin + "/__admin/health", mock)
        listed = httpx.get(origin + "/v4/core/invite_links", headers=DEFAULT_CREDENTIALS["rootfi"]).json()
    assert [link["invite_link_id"] for link in listed["data"]] == ["1"]  # the drifting create is left out
    assert "seed data from" in mock.stdout.read()


# --- review fixes: secrets in the log, broken answers, encoded base paths, HEAD ---------------------------------


def test_the_log_line_of_an_exchange_never_shows_a_query_string_credential(caplog):
    with caplog.at_level("INFO", logger="mockserver.proxy"), ProxyRun("mpdx", faithful_app("mpdx")) as run:
        run.client.get(f"/api/v2/account_lists/{uuid.uuid4()}/invites?access_token=SUPERSECRET&page=1")
    lines = [record.getMessage() for record in caplog.records if record.name == "mockserver.proxy"]
    assert any("/invites?" in line and "page=1" in line for line in lines)
    assert not any("SUPERSECRET" in line for line in lines)


class _BreakingStream(httpx.AsyncByteStream):
    async def __aiter__(self):
        yield b'{"data": '
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


class BreakingTarget(httpx.AsyncBaseTransport):
    """A target that announces 100 bytes and breaks the connection after 9."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json", "content-length": "100"},
                              stream=_BreakingStream())


def test_with_fail_on_drift_a_target_that_breaks_off_its_answer_is_a_502_in_the_vendor_format():
    with ProxyRun("rootfi", None, transport=BreakingTarget(), fail_on_drift=True) as run:
        response = run.call("GET", "/core/invite_links/1")
        report = run.report()
    assert response.status_code == 502
    assert error_format_problem("rootfi", 502, response.json()) is None
    assert "broke off its answer" in response.text
    assert report["target_errors"] == 1


def test_a_target_that_breaks_off_a_streaming_answer_cuts_the_clients_connection_and_is_counted():
    from mockserver.proxy.forward import TargetBrokeOff

    with ProxyRun("rootfi", None, transport=BreakingTarget()) as run:
        with pytest.raises(TargetBrokeOff):  # the in-process client sees what a socket would: no complete answer
            run.call("GET", "/core/invite_links/1")
        report = run.report()
    assert report["target_errors"] == 1


def test_a_percent_encoded_base_path_is_forwarded_as_the_path_that_was_checked():
    with ProxyRun("rootfi", echo_target, target_base="/v4") as run:
        response = run.client.get("/%76%34/core/invite_links/1", headers={"api_key": "k"})
        report = run.report()
    assert response.json()["raw_path"] == "/v4/core/invite_links/1"
    assert "request.undocumented_operation" not in report["by_kind"]


def test_head_of_a_documented_get_is_not_drift():
    with ProxyRun("rootfi", faithful_app("rootfi")) as run:
        response = run.client.head("/v4/core/invite_links/1", headers=DEFAULT_CREDENTIALS["rootfi"])
        report = run.report()
    assert response.status_code == 200 and response.content == b""
    assert report["total"] == 0
