"""Judges one exchange (a request and its answer) against an API's contract, and lists what breaks it.

The request side (the client's drift): an operation the contract knows, credentials, parameters and body as the
spec types them. The answer side (the backend's drift): a documented status, the documented content type and
schema, documented headers, the vendor's error format, and the values the docs fix
(:mod:`mockserver.rules`, shared with the contract suites). A 2xx answer to a request the contract says must be
refused is the backend's drift too.

The request checks use the validators the mock itself uses (:mod:`mockserver.validation`), so the proxy and the
mock agree on what a valid request is. Answers are checked against the spec with OpenAPI 3.0 semantics
(``nullable``, formats), as the contract suites check them; a compiled Rust validator (``jsonschema_rs``, which
Schemathesis ships) answers the common "it is valid" case in microseconds, and the Python validator only runs to
word the problems of an invalid answer.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft4Validator, ValidationError
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from mockserver.errors import schema_problems
from mockserver.recording import form_parts
from mockserver.rules import Exchange, documented_value_problem, error_format_problem
from mockserver.specs import Route, documented_methods, match_route, resolved_spec
from mockserver.validation import compiled, parameter_validator

try:  # a dependency of Schemathesis, so normally present; the Python validator alone is correct, only slower
    import jsonschema_rs
except ImportError:  # pragma: no cover
    jsonschema_rs = None

REQUEST_KINDS_A_BACKEND_MUST_REFUSE = ("request.credentials", "request.parameter", "request.body",
                                       "request.content_type")
"""Request problems the contract answers with a 4xx: a 2xx answer to such a request is the backend's drift."""
SHOWN_PROBLEMS = 3
"""Schema problems named in one violation line; the rest are counted."""


@dataclass(frozen=True)
class Violation:
    """One way an exchange departs from the contract."""

    kind: str
    """``request.*`` (the client's drift) or ``response.*`` (the backend's), e.g. ``response.status``."""
    expected: str
    """What the contract says, in words."""
    seen: str
    """What passed through instead."""

    @property
    def side(self) -> str:
        return self.kind.split(".", 1)[0]


@dataclass(frozen=True)
class Message:
    """One direction of an exchange as the proxy saw it."""

    headers: tuple[tuple[str, str], ...]
    """Lower-case names, in the order they came."""
    body: bytes | None
    """The whole body, or None when it was larger than the proxy keeps (then it is not checked)."""

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key == name), None)

    @property
    def media_type(self) -> str:
        return (self.header("content-type") or "").split(";")[0].strip().lower()


@dataclass
class RequestCheck:
    """The request side of an exchange: the operation it matched, its typed values and its problems."""

    api: str
    method: str
    path: str
    """Relative to the API's server URL, e.g. ``/core/invite_links/1``."""
    route: Route | None
    path_parameters: dict[str, Any] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    sent: Any = None
    """The request's JSON document, when it has one."""
    credential: str | None = None
    """The credential the request carried (for the recording's caller id; never logged or recorded)."""
    violations: list[Violation] = field(default_factory=list)

    @property
    def operation_id(self) -> str | None:
        return self.route.operation_id if self.route else None

    @property
    def must_be_refused(self) -> Violation | None:
        return next((v for v in self.violations if v.kind in REQUEST_KINDS_A_BACKEND_MUST_REFUSE), None)


class Contract:
    """One API's contract, ready to judge exchanges."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.spec = resolved_spec(api)
        self._schemes: dict[str, dict[str, Any]] = self.spec.get("components", {}).get("securitySchemes", {})

    # --- the request ------------------------------------------------------------------------------------------

    def check_request(self, method: str, path: str, query_string: str, request: Message) -> RequestCheck:
        # HTTP gives every GET resource a HEAD (the same answer without its body).
        route = match_route(self.api, "GET" if method.upper() == "HEAD" else method, path)
        check = RequestCheck(self.api, method.upper(), path, route)
        pairs = parse_qsl(query_string, keep_blank_values=True)
        check.credential = self._credential(route, request, pairs)
        if route is None:
            methods = documented_methods(self.api, path)
            expected = (f"one of the documented methods {', '.join(methods)} for this path" if methods
                        else "a path the contract documents")
            check.violations.append(Violation("request.undocumented_operation", expected, f"{method.upper()} {path}"))
            return check
        operation = route.operation
        if check.credential is None and self._requirements(operation):
            check.violations.append(Violation("request.credentials", f"credentials: {self._describe_security(operation)}",
                                              "none (or blank)"))
        raw_path = route.path_parameters(path)
        check.path_parameters.update(raw_path)
        for param in route.parameters:
            value, problem = self._parameter(param, raw_path, pairs, request)
            if problem:
                check.violations.append(Violation("request.parameter", f"{param['in']} parameter {param['name']} "
                                                  f"as documented", problem))
            elif value is not None:
                (check.path_parameters if param["in"] == "path" else check.query)[param["name"]] = value
        body = operation.get("requestBody")
        if body is not None:
            self._check_request_body(body, request, check)
        return check

    def _requirements(self, operation: dict[str, Any]) -> list[dict[str, Any]]:
        requirements = operation.get("security", self.spec.get("security", []))
        return [] if any(not requirement for requirement in requirements) else requirements

    def _describe_security(self, operation: dict[str, Any]) -> str:
        described = []
        for requirement in self._requirements(operation):
            described.append(" and ".join(self._describe_scheme(self._schemes.get(name, {})) for name in requirement))
        return " or ".join(described)

    @staticmethod
    def _describe_scheme(scheme: dict[str, Any]) -> str:
        if scheme.get("type") == "apiKey":
            where = {"query": "query parameter"}.get(scheme["in"], scheme["in"])
            return f"an {scheme['name']} {where}"
        if scheme.get("type") == "http":
            return f"Authorization: {scheme.get('scheme', '').capitalize()} <token>"
        return "Authorization: Bearer <token>"

    def _credential(self, route: Route | None, request: Message, pairs: list[tuple[str, str]]) -> str | None:
        """The credential of the first security requirement the request satisfies (any scheme for no route)."""
        if route is not None:
            requirements = self._requirements(route.operation)
        else:
            requirements = [{name: []} for name in self._schemes]
        for requirement in requirements:
            values = [self._scheme_value(self._schemes.get(name, {}), request, pairs) for name in requirement]
            if values and all(values):
                return values[0]
        return None

    @staticmethod
    def _scheme_value(scheme: dict[str, Any], request: Message, pairs: list[tuple[str, str]]) -> str | None:
        kind = scheme.get("type")
        if kind == "apiKey":
            where, name = scheme.get("in"), scheme.get("name", "")
            if where == "header":
                value = request.header(name)
            elif where == "query":
                value = next((v for k, v in pairs if k == name), None)
            else:
                value = _cookies(request).get(name)
            return value.strip() or None if value is not None else None
        if kind in ("http", "oauth2", "openIdConnect"):
            wanted = (scheme.get("scheme") or "bearer").lower() + " "
            authorization = request.header("authorization") or ""
            if authorization.lower().startswith(wanted):
                return authorization[len(wanted):].strip() or None
            return None
        return None

    def _parameter(self, param: dict[str, Any], raw_path: dict[str, str], pairs: list[tuple[str, str]],
                   request: Message) -> tuple[Any, str | None]:
        """The parameter's value typed as its schema says, and what is wrong with it (None when nothing)."""
        name, where, schema = param["name"], param["in"], param.get("schema", {})
        if where == "path":
            raw: Any = raw_path.get(name)
        elif where == "query":
            if param.get("style") == "deepObject":
                prefix = name + "["
                found = {key[len(prefix):-1]: value for key, value in pairs if key.startswith(prefix) and key.endswith("]")}
                raw = found or None
            elif schema.get("type") == "array":
                values = [value for key, value in pairs if key == name]
                if values and not param.get("explode", True):
                    values = values[0].split(",")
                raw = values or None
            else:
                raw = next((value for key, value in pairs if key == name), None)
        elif where == "header":
            raw = request.header(name)
        else:
            raw = _cookies(request).get(name)
        if raw is None:
            return None, ("missing (it is required)" if param.get("required") else None)
        value = _typed(raw, schema)
        try:
            parameter_validator(param).validate(value)
        except ValidationError as error:
            return value, f"{name}={_short(raw)}: {error.message.splitlines()[0]}"
        return value, None

    def _check_request_body(self, body: dict[str, Any], request: Message, check: RequestCheck) -> None:
        content = body.get("content", {})
        if request.body == b"":
            if body.get("required"):
                check.violations.append(Violation("request.body", "a request body (it is required)", "none"))
            return
        media = request.media_type
        if media not in content:
            check.violations.append(Violation("request.content_type", f"Content-Type {' or '.join(content)}",
                                              request.header("content-type") or "none"))
            return
        if request.body is None:
            return  # too large to keep: forwarded, not checked
        schema = content[media].get("schema")
        if "json" in media:
            try:
                document = json.loads(request.body) if request.body else None
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                check.violations.append(Violation("request.body", "a JSON document", f"unreadable JSON ({exc})"))
                return
            check.sent = document
        elif media == "multipart/form-data":
            document = _form_fields(request.header("content-type") or "", request.body)
            if document is None:
                check.violations.append(Violation("request.body", "a multipart form", "an unreadable form"))
                return
        else:
            return
        if schema is None:
            return
        if document is None:
            check.violations.append(Violation("request.body", "a request body (it is required)", "an empty body"))
            return
        problems = schema_problems(list(compiled(schema).iter_errors(document)))
        if problems:
            check.violations.append(Violation("request.body", "a body matching the documented schema",
                                              _summarise([p.detail for p in problems])))

    # --- the answer -------------------------------------------------------------------------------------------

    def check_response(self, request: RequestCheck, status: int, response: Message) -> list[Violation]:
        violations: list[Violation] = []
        body = None if request.method == "HEAD" else decoded_body(response)
        document, readable = None, False
        if body:
            try:
                document, readable = json.loads(body), True
            except (ValueError, UnicodeDecodeError, RecursionError):
                if "json" in response.media_type:
                    violations.append(Violation("response.body", "a JSON document", f"unreadable JSON: {_short(body)}"))
        route = request.route
        if route is None:
            if status >= 400 and body is not None:
                problem = error_format_problem(self.api, status, document)
                if problem:
                    violations.append(Violation("response.error_format", f"the vendor's error format: {problem}",
                                                _short(body)))
            return violations
        responses = route.operation["responses"]
        declared = responses.get(str(status)) or responses.get(f"{status // 100}XX") or responses.get("default")
        schema_ok = readable or not body
        if declared is None:
            documented = ", ".join(key for key in responses)
            violations.append(Violation("response.status", f"one of the documented statuses {documented}", str(status)))
            schema_ok = False
        else:
            content = declared.get("content")
            if not content:
                if body:
                    violations.append(Violation("response.body", f"no body (none is documented for {status})",
                                                _short(body)))
            elif response.media_type not in content:
                violations.append(Violation("response.content_type", f"Content-Type {' or '.join(content)}",
                                            response.header("content-type") or "none"))
                schema_ok = False
            elif body is not None and (readable or not body):  # unreadable JSON is reported above
                schema = content[response.media_type].get("schema")
                if schema is not None:
                    problems = _response_schema(schema).problems(document) if readable else ["an empty body"]
                    if problems:
                        schema_ok = False
                        violations.append(Violation("response.body", f"the documented schema of a {status} answer",
                                                    _summarise(problems)))
            violations.extend(self._check_headers(declared, response))
        if status >= 400 and body is not None:
            problem = error_format_problem(self.api, status, document)
            if problem:
                violations.append(Violation("response.error_format", f"the vendor's error format: {problem}", _short(body)))
        if schema_ok and (body is not None or status >= 300):
            exchange = Exchange(self.api, route.operation_id, status, document, dict(response.headers), request.sent
                                if isinstance(request.sent, dict) else None, request.path_parameters, request.query)
            try:
                problem = documented_value_problem(exchange)
            except (KeyError, TypeError, IndexError, AttributeError):
                problem = None  # a shape the schema allows but the rule does not expect: not the rule's to judge
            if problem:
                violations.append(Violation("response.vendor_rule", problem, _describe_answer(status, document)))
        refused = request.must_be_refused
        if refused is not None and 200 <= status < 300:
            violations.append(Violation("response.accepted_invalid_request",
                                        f"a 4xx refusal: the request breaks the contract ({refused.kind}: "
                                        f"{refused.expected}; seen {refused.seen})", str(status)))
        return violations

    @staticmethod
    def _check_headers(declared: dict[str, Any], response: Message) -> list[Violation]:
        violations = []
        for name, header in declared.get("headers", {}).items():
            value = response.header(name)
            if value is None:
                if header.get("required"):
                    violations.append(Violation("response.header", f"a {name} header", "none"))
                continue
            schema = header.get("schema")
            if schema is None:
                continue
            errors = list(_header_validator(schema).iter_errors(_typed(value, schema)))
            if errors:
                violations.append(Violation("response.header", f"{name} as documented ({errors[0].message})",
                                            f"{name}: {_short(value)}"))
        return violations


# --- values as the spec types them --------------------------------------------------------------------------------

_INTEGER = re.compile(r"^-?\d+$")


def _typed(raw: Any, schema: dict[str, Any]) -> Any:
    """A string (or list, or dict of strings) from the URL or a header, as the schema's type wants it.

    A string that is not of the wanted type stays a string, so the schema check names the problem.
    """
    kind = schema.get("type")
    if isinstance(raw, dict):
        properties = schema.get("properties", {})
        return {key: _typed(value, properties.get(key, {})) for key, value in raw.items()}
    if isinstance(raw, list):
        return [_typed(value, schema.get("items", {})) for value in raw]
    if kind == "integer" and _INTEGER.match(raw.strip()):
        return int(raw)
    if kind == "number":
        try:
            return float(raw)
        except ValueError:
            return raw
    if kind == "boolean" and raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


_header_validators: dict[int, tuple[dict[str, Any], Draft4Validator]] = {}


def _header_validator(schema: dict[str, Any]) -> Draft4Validator:
    entry = _header_validators.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER))
        _header_validators[id(schema)] = entry
    return entry[1]


def _cookies(request: Message) -> dict[str, str]:
    found = {}
    for part in (request.header("cookie") or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep:
            found[name] = value
    return found


def _form_fields(content_type: str, body: bytes) -> dict[str, Any] | None:
    """The fields of a multipart form: text fields as text, file parts as a placeholder string."""
    parts = form_parts(content_type, body)
    if parts is None:
        return None
    return {name: (part.text if part.filename is None and part.text is not None else f"<file {part.filename or ''}>")
            for name, part in parts.items()}


def decoded_body(response: Message) -> bytes | None:
    """The answer's body without its content coding (gzip, deflate); None when it cannot be had."""
    body = response.body
    coding = (response.header("content-encoding") or "identity").strip().lower()
    if body is None or coding in ("", "identity"):
        return body
    try:
        if coding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error:
        return None
    return None  # br, zstd...: passed on unchanged, not checked


def _short(value: str | bytes, limit: int = 160) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summarise(problems: list[str]) -> str:
    shown = "; ".join(problems[:SHOWN_PROBLEMS])
    return shown + (f" (and {len(problems) - SHOWN_PROBLEMS} more)" if len(problems) > SHOWN_PROBLEMS else "")


def _describe_answer(status: int, document: Any) -> str:
    return f"{status} {_short(json.dumps(document)) if document is not None else '(no body)'}"


# --- answer schemas ---------------------------------------------------------------------------------------------

_UUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class ResponseSchema:
    """An answer schema: a compiled fast check, and OpenAPI 3.0's own validator to word what is wrong."""

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self._fast = None
        if jsonschema_rs is not None:
            try:
                self._fast = jsonschema_rs.Draft4Validator(as_json_schema(schema), validate_formats=True)
            except Exception:  # pragma: no cover - a schema the Rust validator cannot compile: Python alone
                self._fast = None
        self._slow: OAS30Validator | None = None

    def fast_accepts(self, document: Any) -> bool | None:
        """The fast check's verdict alone (None without ``jsonschema_rs``)."""
        return self._fast.is_valid(document) if self._fast is not None else None

    def problems(self, document: Any) -> list[str]:
        """What is wrong with ``document``, most relevant first; empty when it follows the schema.

        The fast check is at least as strict as OpenAPI 3.0's validator (see :func:`as_json_schema`), so a
        document it accepts needs no second look.
        """
        if self._fast is not None:
            try:
                if self._fast.is_valid(document):
                    return []
            except (ValueError, TypeError):  # pragma: no cover - a value the Rust side cannot take
                pass
        if self._slow is None:
            self._slow = OAS30Validator(self.schema, format_checker=oas30_format_checker)
        return [problem.detail for problem in schema_problems(list(self._slow.iter_errors(document)))]


_response_schemas: dict[int, tuple[dict[str, Any], ResponseSchema]] = {}


def _response_schema(schema: dict[str, Any]) -> ResponseSchema:
    """Built once per schema object (schemas of :func:`resolved_spec` live as long as the process)."""
    entry = _response_schemas.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, ResponseSchema(schema))
        _response_schemas[id(schema)] = entry
    return entry[1]


_ANNOTATIONS = {"nullable", "example", "discriminator", "xml", "externalDocs", "readOnly", "writeOnly", "deprecated"}
_VALUES = {"enum", "default"}
_SCHEMA_MAPS = {"properties", "patternProperties"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "items"}


def as_json_schema(node: Any) -> Any:
    """An OpenAPI 3.0 schema as plain JSON Schema (draft 4) that accepts no document OpenAPI's validator refuses.

    ``nullable: true`` adds ``"null"`` to ``type`` (an ``enum`` still has to list ``null`` to allow it, as in
    OpenAPI's validator); ``format: uuid``, which draft 4 does not check, becomes the equivalent pattern.
    """
    if not isinstance(node, dict):
        return node
    converted: dict[str, Any] = {}
    for key, value in node.items():
        if key in _ANNOTATIONS or key.startswith("x-"):
            continue
        if key in _VALUES:
            converted[key] = value
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            converted[key] = {name: as_json_schema(schema) for name, schema in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            converted[key] = [as_json_schema(schema) for schema in value]
        elif isinstance(value, dict):  # items, additionalProperties, not
            converted[key] = as_json_schema(value)
        else:
            converted[key] = value
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        converted["type"] = [node["type"], "null"]
    if node.get("format") == "uuid" and "pattern" not in node:
        converted["pattern"] = _UUID
    return converted
