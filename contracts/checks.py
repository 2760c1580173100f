"""Vendor rules as Schemathesis checks: what each vendor documents that its OpenAPI schema cannot say.

They run on every response of every phase, next to Schemathesis's own checks:

* ``vendor_error_format``: a 4xx/5xx body is the vendor's error document and repeats the HTTP status
  (MPDX as a string in every ``errors[]`` item, RootFi in ``error.status``, Torii in ``statusCode`` with
  the matching reason phrase).
* ``documented_values``: an answer carries the values the docs fix: what was sent is echoed back,
  a new MPDX invite has a 64-hex code and nobody accepted or cancelled it, an accepted one says when and
  by whom, a RootFi update keeps its id and creation time, a Torii sync says ``success: true``.

The rules themselves live in :mod:`mockserver.rules`, shared with the validating proxy (``mockserver proxy``),
so that the contract suites and the proxy judge an answer alike; here they are adapted to Schemathesis.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis

from mockserver.rules import Exchange, documented_value_problem, error_format_problem, has_value_rule
from mockserver.specs import APIS

__all__ = ["documented_values", "error_format_problem", "vendor_error_format"]

API_BY_SERVER = {api.real_server_url: name for name, api in APIS.items()}


def api_of(case) -> str | None:
    servers = case.operation.schema.raw_schema.get("servers") or [{}]
    return API_BY_SERVER.get(servers[0].get("url"))


def _json(response) -> Any:
    try:
        return json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        raise AssertionError(f"the body is not JSON: {response.content[:200]!r}") from None


def _sent_body(case) -> Any:
    body = case.body
    return body if isinstance(body, dict) else None


def _headers(response) -> dict[str, str]:
    """Schemathesis keeps each header as a list of values; the rules want one string per header."""
    return {name: ", ".join(values) if isinstance(values, list) else values for name, values in response.headers.items()}


@schemathesis.check
def vendor_error_format(ctx, response, case) -> None:
    """An error answer is the vendor's error document and names the same status as the HTTP status line."""
    api, status = api_of(case), response.status_code
    if status < 400 or api is None:
        return
    problem = error_format_problem(api, status, _json(response))
    assert problem is None, f"the vendor's error format expects {problem}"


@schemathesis.check
def documented_values(ctx, response, case) -> None:
    """An answer carries the values the documentation fixes for it (:func:`mockserver.rules.documented_value_problem`)."""
    api, status = api_of(case), response.status_code
    if api is None:
        return
    operation_id = case.operation.definition.raw.get("operationId", "")
    body = None
    if status < 300 and response.content and has_value_rule(api, operation_id):
        body = _json(response)
    problem = documented_value_problem(Exchange(
        api=api, operation_id=operation_id, status=status, body=body, headers=_headers(response),
        sent=_sent_body(case), path_parameters=case.path_parameters or {}, query=case.query or {},
    ))
    assert problem is None, problem
