"""Checks that an answer is one the spec documents: status, content type and body schema.

Every client the tests use runs each response through :func:`check_response`, so every behaviour test also
proves that what the mock said matches its contract, error answers included (Connexion's own response
validation does not see answers produced by error handlers).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import httpx
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from mockserver.specs import APIS, iter_operations, resolve


@cache
def _routes(api: str) -> list[tuple[str, re.Pattern[str], dict[str, Any]]]:
    routes = []
    for method, path, operation in iter_operations(APIS[api].spec):
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(path))
        routes.append((method, re.compile(f"^{pattern}$"), operation))
    return routes


def find_operation(api: str, method: str, path: str) -> dict[str, Any] | None:
    for route_method, pattern, operation in _routes(api):
        if route_method == method.lower() and pattern.match(path):
            return operation
    return None


class ContractViolation(AssertionError):
    pass


def check_response(api: str, base_path: str, response: httpx.Response) -> None:
    """Raise :class:`ContractViolation` unless ``response`` is documented for the request it answers."""
    request = response.request
    path = request.url.path
    if not path.startswith(base_path):
        return
    operation = find_operation(api, request.method, path[len(base_path):] or "/")
    if operation is None:
        return  # routing errors (404/405 for unknown paths) have no operation to conform to
    spec = APIS[api].spec
    where = f"{request.method} {path} -> {response.status_code}"
    declared = operation["responses"].get(str(response.status_code)) or operation["responses"].get("default")
    if declared is None:
        raise ContractViolation(f"{where}: status not documented ({', '.join(operation['responses'])})")
    content = resolve(spec, declared).get("content")
    response.read()
    if not content:
        if response.content:
            raise ContractViolation(f"{where}: documented without a body, but got {response.content[:100]!r}")
        return
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type not in content:
        raise ContractViolation(f"{where}: content type {media_type!r}, documented {list(content)}")
    schema = content[media_type]["schema"]
    root = {"allOf": [schema], "components": spec.get("components", {})}
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in OAS30Validator(root, format_checker=oas30_format_checker).iter_errors(response.json())
    ]
    if errors:
        raise ContractViolation(f"{where}: body breaks the schema: {errors[:5]}")
