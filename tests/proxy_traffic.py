"""Traffic an app's own end-to-end tests might send, to drive the validating proxy in tests and demos.

* :func:`documented_requests`: every documented request of an API (each named request example, the documented
  parameter values), as the vendor's pages show them.
* :data:`TRAFFIC`: per API, the documented requests followed by the requests a typical client makes that bring
  each kind of drift to light: reading back, filtering and paging, a wrong accept code, a cancelled invite, an
  unknown id, an invalid body, a missing credential, a burst over the rate limit. The ones that break the
  contract on purpose (the client's side) are marked ``invalid=True``.

``call(method, path, invalid=False, **httpx_options)`` sends one request (``path`` relative to the API's server
URL) with the API's credentials and returns the answer; ``headers={"Name": None}`` leaves a header out.

Run as a module, it shows the drift report of a faulty implementation (:mod:`tests.faulty`) behind the proxy::

    python -m tests.proxy_traffic rootfi_create_answers_201 [--fail-on-drift]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
import warnings
from typing import Any, Callable, Iterator, Sequence

import httpx

from contracts.target import DEFAULT_CREDENTIALS
from mockserver.specs import APIS, iter_operations, request_example, resolve, resolved_spec, routes

Call = Callable[..., httpx.Response]
JSONAPI = "application/vnd.api+json"
RATE_LIMIT = 20
"""The Torii rate limit of the targets in tests: the burst of :func:`torii_traffic` goes over it."""


def caller(client: httpx.Client, api: str, base: str = "") -> Call:
    """``call`` for ``client``: the API's default credentials (and JSON:API for MPDX), paths after ``base``."""

    def call(method: str, path: str, *, invalid: bool = False, headers: dict[str, str | None] | None = None,
             **options: Any) -> httpx.Response:
        sent = dict(DEFAULT_CREDENTIALS[api])
        if api == "mpdx":
            sent["Accept"] = JSONAPI
        sent.update({name: value for name, value in (headers or {}).items() if value is not None})
        request = client.build_request(method, base + path, headers=sent, **options)
        for name, value in (headers or {}).items():
            if value is None:
                for key in [key for key in request.headers if key.lower() == name.lower()]:
                    del request.headers[key]
        return client.send(request)

    return call


def fault_target(fault: Any) -> Any:
    """A fault's app (:mod:`tests.faulty`), with a rate limit the traffic's burst goes over (its own config wins)."""
    from tests.faulty import Drift, faithful_app

    app = faithful_app(fault.api, **{"rate_limit": RATE_LIMIT, **fault.config})
    return Drift(app, fault.handler) if fault.handler is not None else app


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def documented_requests(api: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(method, path, httpx options)`` for every documented request of ``api``, in document order."""
    spec = resolved_spec(api)
    by_id = {route.operation_id: route for route in routes(api)}
    for method, template, operation in iter_operations(spec):
        route = by_id[operation["operationId"]]
        path_values, query = {}, {}
        for param in route.parameters:
            examples = param.get("examples") or {}
            if not examples:
                continue
            value = (examples.get("documented") or next(iter(examples.values())))["value"]
            (path_values if param["in"] == "path" else query)[param["name"]] = value
        path = template.format(**path_values)
        options: dict[str, Any] = {"params": query} if query else {}
        body = operation.get("requestBody")
        if body is None:
            yield method.upper(), path, options
            continue
        for media_type, content in body["content"].items():
            for name, example in (content.get("examples") or {}).items():
                example = resolve(spec, example)
                if example.get("x-negative"):
                    continue
                yield method.upper(), path, {**options, **_body(media_type, content, example["value"])}


def _body(media_type: str, content: dict[str, Any], value: Any) -> dict[str, Any]:
    if media_type == "multipart/form-data":
        properties = content["schema"].get("properties", {})
        files = {}
        for name, part in value.items():
            if properties.get(name, {}).get("format") == "binary":
                files[name] = ("data.json", str(part).encode(), "application/octet-stream")
            else:
                files[name] = (None, str(part))
        return {"files": files}
    return {"content": json.dumps(value).encode(), "headers": {"Content-Type": media_type}}


def replay_documented(call: Call, api: str) -> None:
    for method, path, options in documented_requests(api):
        call(method, path, **options)


# --- RootFi ------------------------------------------------------------------------------------------------------


def rootfi_traffic(call: Call) -> None:
    replay_documented(call, "rootfi")
    documented = request_example("rootfi", "update_invite_link")
    only_categories = request_example("rootfi", "create_invite_link", "only_categories")
    created = [call("POST", "/core/invite_links", json=only_categories) for _ in range(6)]
    link_id = ((_json(created[0]) or {}).get("data") or {}).get("invite_link_id") or "2"
    call("GET", f"/core/invite_links/{link_id}")
    call("PUT", f"/core/invite_links/{link_id}", json=documented)  # sets integrations the link did not have
    first = call("GET", "/core/invite_links", params={"limit": 5})
    cursor = (_json(first) or {}).get("next")
    if isinstance(cursor, str):
        call("GET", "/core/invite_links", params={"limit": 5, "next": cursor})
    call("GET", "/core/invite_links/no-such-link")
    call("POST", "/core/invite_links", json={"company_name": "No categories"}, invalid=True)
    call("GET", "/core/invite_links/1", headers={"api_key": None}, invalid=True)


# --- MPDX --------------------------------------------------------------------------------------------------------


def _invite(role: str, email: str) -> dict[str, Any]:
    return {"data": {"type": "account_list_invites", "attributes": {"recipient_email": email, "invite_user_as": role}}}


def mpdx_traffic(call: Call) -> None:
    replay_documented(call, "mpdx")
    parent = str(uuid.uuid4())
    invites = f"/api/v2/account_lists/{parent}/invites"
    jsonapi = {"Content-Type": JSONAPI}
    made = [call("POST", invites, content=json.dumps(_invite(role, f"{role}@example.com")).encode(), headers=jsonapi)
            for role in ("user", "coach", "user")]
    ids = [((_json(response) or {}).get("data") or {}).get("id") or str(uuid.uuid4()) for response in made]
    call("GET", f"{invites}/{ids[0]}")
    call("GET", invites, params={"filter[invite_user_as]": "coach"})
    call("GET", invites, params={"per_page": 1})
    call("GET", invites, params={"per_page": 1, "page": 2, "sort": "-created_at"})
    call("GET", f"/api/v2/account_lists/{uuid.uuid4()}/invites")  # an empty parent
    wrong = {"data": {"type": "account_list_invites", "attributes": {"code": "0" * 64}}}
    call("PUT", f"{invites}/{ids[1]}/accept", content=json.dumps(wrong).encode(), headers=jsonapi)
    call("DELETE", f"{invites}/{ids[2]}")
    call("GET", f"{invites}/{ids[2]}")
    call("GET", invites)
    call("GET", f"{invites}/{uuid.uuid4()}")
    call("GET", invites, headers={"Authorization": None}, invalid=True)


# --- Torii -------------------------------------------------------------------------------------------------------


def torii_traffic(call: Call) -> None:
    replay_documented(call, "torii")
    data_file = json.dumps(APIS["torii"].spec["components"]["examples"]["CustomIntegrationDataFile"]["value"])
    uploaded = call("POST", "/files/upload", files={"file": ("users.json", data_file.encode(), "application/json"),
                                                     "type": (None, "customIntegrationData")})
    file_id = (_json(uploaded) or {}).get("id")
    call("GET", f"/files/{file_id if isinstance(file_id, int) else 1000}")
    broken = call("POST", "/files/upload", files={"file": ("broken.json", b"{not json", "application/json"),
                                                   "type": (None, "customIntegrationData")})
    broken_id = (_json(broken) or {}).get("id")
    call("PUT", "/services/sync/custom", json={"idFile": broken_id if isinstance(broken_id, int) else 1000,
                                               "idAppAccount": 2})
    call("GET", "/files/999999")
    call("POST", "/files/upload", files={"file": ("x.json", b"{}", "application/json"), "type": (None, "nonsense")},
         invalid=True)
    call("GET", "/files/1000", headers={"Authorization": None}, invalid=True)
    for _ in range(RATE_LIMIT + 1):  # a session of its own, so the rate limit leaves the requests above alone
        call("GET", "/files/1000", headers={"X-Mock-Session": "burst"})


TRAFFIC: dict[str, Callable[[Call], None]] = {"rootfi": rootfi_traffic, "mpdx": mpdx_traffic, "torii": torii_traffic}


def main(argv: Sequence[str] | None = None) -> int:
    """The drift report of one faulty implementation behind the proxy, with the proxy's drift lines on stderr."""
    from mockserver.proxy import ProxyConfig, create_proxy_app
    from tests.faulty import FAULTS_BY_NAME

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("fault", choices=sorted(FAULTS_BY_NAME), metavar="FAULT",
                        help="a fault of tests/faulty.py, e.g. rootfi_create_answers_201")
    parser.add_argument("--fail-on-drift", action="store_true")
    parser.add_argument("--last", type=int, default=5, help="violations to show (default: %(default)s)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    fault = FAULTS_BY_NAME[args.fault]
    base = APIS[fault.api].base_path(alone=True)
    proxy = create_proxy_app(ProxyConfig(api=fault.api, target="http://target" + base, fail_on_drift=args.fail_on_drift,
                                         keep_last=args.last),
                             transport=httpx.ASGITransport(app=fault_target(fault)))
    print(f"{fault.name}: {fault.drift}", file=sys.stderr)
    with TestClient(proxy, base_url="http://proxy") as client:
        TRAFFIC[fault.api](caller(client, fault.api, base))
        print(json.dumps(client.get("/__admin/drift").json(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
