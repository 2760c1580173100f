"""An HTTP client for the explicit contract scenarios, and the assertion that names a broken contract.

A failed expectation raises :class:`ContractViolation` with what the runner's summary needs: the operation,
the request as a copy-pasteable curl command, what the contract expects, and what came back.
"""

from __future__ import annotations

import functools
import json
import shlex
import ssl
import uuid
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from contracts.target import Target
from mockserver.specs import APIS, find_operation, resolve


class ContractViolation(AssertionError):
    def __init__(self, operation: str, expected: str, response: httpx.Response) -> None:
        self.operation, self.expected, self.response = operation, expected, response
        body = response.text[:500] if response.content else "(empty body)"
        super().__init__(
            f"{operation}: the contract expects {expected}\n"
            f"got: {response.status_code} {response.headers.get('content-type', '')}\n    {body}\n"
            f"reproduce with:\n    {curl(response.request)}"
        )


def curl(request: httpx.Request) -> str:
    parts = ["curl", "-X", request.method]
    for name, value in request.headers.items():
        if name.lower() in ("host", "content-length", "accept-encoding", "connection", "user-agent", "accept"):
            continue
        parts += ["-H", f"{name}: {value}"]
    if request.content:
        parts += ["--data-binary", request.content.decode("utf-8", "replace")]
    parts.append(str(request.url))
    return " ".join(shlex.quote(part) for part in parts)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client: httpx builds a new one per client otherwise (~0.1 s each)."""
    return ssl.create_default_context()


class ContractClient:
    """Requests to one target, each with the target's headers and this client's own mock session."""

    def __init__(self, target: Target, *, credentials: bool = True, headers: dict[str, str] | None = None) -> None:
        self.target = target
        self.api = target.api
        self.spec = APIS[target.api].spec
        base = dict(target.headers) if credentials else {}
        base["X-Mock-Session"] = f"contract-{uuid.uuid4().hex[:12]}"
        base.update(headers or {})
        self.http = httpx.Client(base_url=target.base_url.rstrip("/"), headers=base, timeout=30, verify=_tls())

    def __enter__(self) -> ContractClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.http.close()

    def with_headers(self, **changes: str | None) -> ContractClient:
        """Another client on the same session: e.g. ``with_headers(Authorization=None)`` drops credentials."""
        other = ContractClient(self.target, credentials=False)
        headers = dict(self.http.headers)
        for name, value in changes.items():
            name = name.replace("_", "-")
            for existing in [key for key in headers if key.lower() == name.lower()]:
                del headers[existing]
            if value is not None:
                headers[name] = value
        other.http.headers = httpx.Headers(headers)
        return other

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, path, **kwargs)

    def send(self, method: str, path: str, *, headers: dict[str, str | None] | None = None,
             **kwargs: Any) -> httpx.Response:
        """One request; ``headers`` change this client's own for it, and a ``None`` value leaves that header out."""
        changes = dict(headers or {})
        request = self.http.build_request(method, path, **kwargs, headers={
            name: value for name, value in changes.items() if value is not None})
        for name, value in changes.items():
            if value is None and name in request.headers:
                del request.headers[name]
        return self.http.send(request)

    def expect(self, response: httpx.Response, operation_id: str, status: int | tuple[int, ...]) -> Any:
        """Check status, content type and schema against the spec's answer for ``operation_id``; the body."""
        statuses = (status,) if isinstance(status, int) else status
        label = f"{response.request.method} {response.request.url.path} ({operation_id})"
        if response.status_code not in statuses:
            raise ContractViolation(label, f"status {' or '.join(map(str, statuses))}", response)
        operation = find_operation(self.spec, operation_id)
        declared = resolve(self.spec, operation["responses"].get(str(response.status_code), {}))
        content = declared.get("content")
        if not content:
            if response.content:
                raise ContractViolation(label, "an empty body", response)
            return None
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in content:
            raise ContractViolation(label, f"content type {' or '.join(content)}", response)
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ContractViolation(label, "a JSON body", response) from None
        root = {"allOf": [content[media_type]["schema"]], "components": self.spec.get("components", {})}
        errors = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                  for e in OAS30Validator(root, format_checker=oas30_format_checker).iter_errors(body)]
        if errors:
            raise ContractViolation(label, f"a body matching the documented schema ({'; '.join(errors[:3])})", response)
        return body

    def expect_error(self, response: httpx.Response, operation_id: str, status: int | tuple[int, ...]) -> Any:
        """An error answer: the documented status and schema, in the vendor's error format."""
        from contracts.checks import error_format_problem

        body = self.expect(response, operation_id, status)
        problem = error_format_problem(self.api, response.status_code, body)
        if problem is not None:
            label = f"{response.request.method} {response.request.url.path} ({operation_id})"
            raise ContractViolation(label, f"the vendor's error format: {problem}", response)
        return body

    def require(self, condition: bool, response: httpx.Response, operation_id: str, expected: str) -> None:
        """A value the docs fix: fail with ``expected`` as the contract's words when it does not hold."""
        if not condition:
            label = f"{response.request.method} {response.request.url.path} ({operation_id})"
            raise ContractViolation(label, expected, response)
