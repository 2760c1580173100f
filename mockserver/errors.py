"""Every error the mock answers, in the error format of the API that was called.

Handlers raise :class:`ApiError`; Connexion raises its own problems (validation, security, routing). Both end
up in :func:`render`, which picks the vendor's format. Each vendor's format is one function here, so that a
401 from Connexion's security check and a 404 from a handler look alike to the client.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Callable, Mapping, Sequence

from jsonschema.exceptions import ValidationError


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request."""

    detail: str
    pointer: str | None = None
    """JSON pointer into the request body, e.g. ``/data/attributes/code``."""
    parameter: str | None = None
    """Name of the offending query or path parameter."""
    cause: ValidationError | None = field(default=None, compare=False)
    """The schema failure behind the problem, for vendor rules that depend on which keyword failed."""


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def status_title(status: int) -> str:
    """The reason phrase of a status, fixed here because Python's own phrases change between versions."""
    return _TITLES.get(status) or HTTPStatus(status).phrase


class ApiError(Exception):
    """An error answer, described independently of any vendor's format."""

    def __init__(
        self,
        status: int,
        detail: str | None = None,
        *,
        problems: Sequence[Problem] = (),
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.status = status
        self.problems: list[Problem] = list(problems) or [Problem(detail or status_title(status))]
        self.title = title or status_title(status)
        self.headers = dict(headers or {})
        super().__init__(self.problems[0].detail)

    @property
    def detail(self) -> str:
        return "; ".join(problem.detail for problem in self.problems)


def json_path(path: Sequence[Any]) -> str:
    """``("users", 1, "email")`` → ``users[1].email``: how people write a place in a JSON document."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def json_pointer(path: Sequence[Any]) -> str:
    """``("data", "attributes", "code")`` → ``/data/attributes/code`` (RFC 6901)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def describe_schema_error(error: ValidationError) -> tuple[tuple[Any, ...], str]:
    """Where a schema failure is and what it says, in plain words.

    A missing property is reported at the property's own place ("users[1].email is required") rather than
    at its parent's, which is what a person fixing the document needs.
    """
    path = tuple(error.absolute_path)
    if error.validator == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        return path + (missing,), "is required"
    if error.validator == "enum":
        allowed = ", ".join(json.dumps(value) for value in error.validator_value)
        return path, f"must be one of {allowed} (got {json.dumps(error.instance)[:80]})"
    if error.validator == "type":
        wanted = error.validator_value
        wanted = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return path, f"must be of type {wanted} (got {type(error.instance).__name__.replace('NoneType', 'null')})"
    if error.validator in ("minItems", "maxItems"):
        bound = "at least" if error.validator == "minItems" else "at most"
        count = error.validator_value
        return path, f"must have {bound} {count} item{'s' if count != 1 else ''}"
    return path, error.message


def schema_problems(errors: Sequence[ValidationError], *, prefix: Sequence[Any] = ()) -> list[Problem]:
    """Turn schema failures into problems, most relevant first, one per place."""
    problems: list[Problem] = []
    seen: set[tuple[Any, ...]] = set()
    for error in sorted(errors, key=lambda e: (list(map(str, e.absolute_path)), e.validator != "required")):
        path, text = describe_schema_error(error)
        path = tuple(prefix) + path
        if path in seen:
            continue
        seen.add(path)
        where = json_path(path)
        problems.append(
            Problem(detail=f"{where} {text}" if where else text, pointer=json_pointer(path), cause=error)
        )
    return problems


# --- the vendors' formats ---------------------------------------------------------------------------------

ErrorBody = tuple[dict[str, Any], int]
"""A rendered error: the body and the status it goes with (a vendor may change the status)."""


def mpdx_error(error: ApiError) -> ErrorBody:
    """MPDX (JSON:API): ``{"errors": [{"status": "404", "title", "detail", "source": {...}}]}``.

    MPDX answers a wrong or missing ``data.type`` with 409 Conflict, not 400: a schema failure at
    ``/data/type`` is therefore reported as the documented conflict. A schema failure of an accept's
    ``code`` (missing, null, empty, blank) reads as MPDX words it.
    """
    status, problems = error.status, error.problems
    conflict = next((p for p in problems if _is_resource_type_failure(p)), None)
    if status == 400 and conflict is not None:
        return _mpdx_type_conflict(conflict), 409
    items = []
    for problem in problems:
        detail = problem.detail
        if problem.pointer == "/data/attributes/code" and problem.cause is not None:
            detail = "'data/attributes/code' cannot be blank"  # MPDX's words for a missing or blank code
        item: dict[str, Any] = {"status": str(status), "title": error.title, "detail": detail}
        if problem.pointer:
            item["source"] = {"pointer": problem.pointer}
        elif problem.parameter:
            item["source"] = {"parameter": problem.parameter}
        items.append(item)
    return {"errors": items}, status


def _is_resource_type_failure(problem: Problem) -> bool:
    return problem.pointer == "/data/type" and problem.cause is not None


def _mpdx_type_conflict(problem: Problem) -> dict[str, Any]:
    cause = problem.cause
    assert cause is not None
    if cause.validator == "required":
        expected = cause.schema.get("properties", {}).get("type", {}).get("enum", ["?"])[0]
        detail = f"'type' is missing. Expected '{expected}'"
    else:
        expected = (cause.validator_value or ["?"])[0] if cause.validator == "enum" else "?"
        detail = (
            f"'{cause.instance}' is not a valid resource type for this endpoint. Expected '{expected}' instead"
        )
    return {"errors": [{"status": "409", "title": "Conflict", "detail": detail, "source": {"pointer": "/data/type"}}]}


def rootfi_error(error: ApiError) -> ErrorBody:
    """RootFi publishes no error body; ours is ``{"error": {"status", "code", "message", "details"}}``."""
    body: dict[str, Any] = {
        "status": error.status,
        "code": _ROOTFI_CODES.get(error.status, HTTPStatus(error.status).name),
        "message": error.problems[0].detail if len(error.problems) == 1 else error.detail,
    }
    located = [p for p in error.problems if p.pointer is not None or p.parameter is not None]
    if located:
        body["details"] = [
            {"path": p.parameter or _pointer_to_path(p.pointer or ""), "message": p.detail} for p in located
        ]
    return {"error": body}, error.status


_ROOTFI_CODES = {
    400: "INVALID_REQUEST",
    401: "UNAUTHORIZED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
}


def _pointer_to_path(pointer: str) -> str:
    parts: list[Any] = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    return json_path([int(p) if p.isdigit() else p for p in parts])


def torii_error(error: ApiError) -> ErrorBody:
    """Torii (hapi/Boom): ``{"statusCode": 400, "error": "Bad Request", "message": "..."}``."""
    return {"statusCode": error.status, "error": error.title, "message": error.detail}, error.status


def admin_error(error: ApiError) -> ErrorBody:
    """The mock's own admin API answers ``{"error": {"status", "message"}}``."""
    return {"error": {"status": error.status, "message": error.detail}}, error.status


ERROR_FORMATS: dict[str, tuple[Callable[[ApiError], ErrorBody], str]] = {
    "mpdx": (mpdx_error, "application/vnd.api+json"),
    "rootfi": (rootfi_error, "application/json"),
    "torii": (torii_error, "application/json"),
    "admin": (admin_error, "application/json"),
}


def render(vendor: str, error: ApiError) -> tuple[int, bytes, dict[str, str]]:
    """Status, body and headers of ``error`` as ``vendor`` would send it."""
    format_error, media_type = ERROR_FORMATS[vendor]
    body, status = format_error(error)
    headers = {**error.headers, "content-type": media_type}
    return status, json.dumps(body).encode(), headers
