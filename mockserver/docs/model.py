"""What the documentation says about one API, read from its spec: operations, parameters, bodies, answers.

The templates never touch the raw spec: everything a page prints is read here once, with every ``$ref``
resolved, so that a page shows the same thing the mock enforces (both come from the same document).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mockserver.docs.schema import SchemaNode, SchemaReader, ref_name
from mockserver.specs import APIS, iter_operations, load_spec, resolve


@dataclass
class Example:
    name: str
    summary: str
    description: str
    value: Any
    negative: bool = False
    """Kept on purpose although it does not validate (``x-negative``)."""
    schema: str | None = None
    """For a standalone example of ``components.examples``: the schema it illustrates (``x-schema``)."""

    @property
    def documented(self) -> bool:
        """The example the vendor's own page shows (the specs' naming convention)."""
        return self.name == "documented"


@dataclass
class Content:
    """A body in one media type: its schema and examples."""

    media_type: str
    schema: SchemaNode | None
    examples: list[Example]
    encoding: dict[str, str] = field(default_factory=dict)


@dataclass
class Parameter:
    name: str
    location: str
    required: bool
    description: str
    schema: SchemaNode | None
    examples: list[Example]
    style: str | None = None
    deprecated: bool = False


@dataclass
class Header:
    name: str
    description: str
    schema: SchemaNode | None


@dataclass
class Link:
    name: str
    operation_id: str
    description: str


@dataclass
class Response:
    status: str
    description: str
    contents: list[Content]
    headers: list[Header]
    links: list[Link]

    @property
    def kind(self) -> str:
        """``success``, ``redirect``, ``client-error``, ``server-error`` or ``other``, for colouring."""
        kinds = {"2": "success", "3": "redirect", "4": "client-error", "5": "server-error"}
        return kinds.get(self.status[:1], "other")

    @property
    def is_error(self) -> bool:
        return self.status[:1] in "45"


@dataclass
class RequestBody:
    required: bool
    description: str
    contents: list[Content]


@dataclass
class Operation:
    api: str
    operation_id: str
    method: str
    path: str
    summary: str
    description: str
    tags: list[str]
    parameters: list[Parameter]
    request_body: RequestBody | None
    responses: list[Response]
    security: list[list[str]]
    deprecated: bool = False

    @property
    def search_text(self) -> str:
        """What the search box matches an operation against."""
        return " ".join([self.method.upper(), self.path, self.operation_id, self.summary, *self.tags]).lower()


@dataclass
class SecurityScheme:
    key: str
    type: str
    description: str
    scheme: str | None = None
    bearer_format: str | None = None
    location: str | None = None
    param_name: str | None = None

    @property
    def how(self) -> str:
        """How a request carries the credential, as a line of HTTP a reader can copy."""
        if self.type == "http" and (self.scheme or "").lower() == "bearer":
            return f"Authorization: Bearer <{self.bearer_format or 'token'}>"
        if self.type == "http" and (self.scheme or "").lower() == "basic":
            return "Authorization: Basic <base64 user:password>"
        if self.type == "apiKey" and self.location == "header":
            return f"{self.param_name}: <key>"
        if self.type == "apiKey" and self.location == "query":
            return f"?{self.param_name}=<token>"
        if self.type == "apiKey" and self.location == "cookie":
            return f"Cookie: {self.param_name}=<key>"
        return self.type

    @property
    def label(self) -> str:
        if self.type == "http":
            return f"HTTP {self.scheme}" + (f" ({self.bearer_format})" if self.bearer_format else "")
        if self.type == "apiKey":
            return f"API key in {self.location} `{self.param_name}`"
        return self.type


@dataclass
class Tag:
    name: str
    description: str
    operations: list[Operation]

    @property
    def slug(self) -> str:
        return "tag-" + slug(self.name)


@dataclass
class ApiModel:
    """Everything the pages say about one API."""

    name: str
    title: str
    spec_title: str
    version: str
    description: str
    real_url: str
    server_path: str
    prefix: str
    contact_url: str | None
    security: list[list[str]]
    schemes: list[SecurityScheme]
    tags: list[Tag]
    operations: list[Operation]
    schemas: dict[str, SchemaNode]
    examples: list[Example]
    """The standalone examples of ``components.examples`` (those naming the schema they illustrate)."""
    spec_file: str

    @property
    def error_schema(self) -> SchemaNode | None:
        return self.schemas.get("Error")

    def operation(self, operation_id: str) -> Operation:
        return next(op for op in self.operations if op.operation_id == operation_id)

    @property
    def error_examples(self) -> list[tuple[Operation, Response, Example]]:
        """One example of each distinct error status, to show the error format at a glance."""
        seen: dict[str, tuple[Operation, Response, Example]] = {}
        for op in self.operations:
            for response in op.responses:
                if response.is_error and response.status not in seen:
                    for content in response.contents:
                        if content.examples:
                            seen[response.status] = (op, response, content.examples[0])
                            break
        return [seen[status] for status in sorted(seen)]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class ApiReader:
    """Reads one spec into an :class:`ApiModel`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.spec = load_spec(name)
        self.schemas = SchemaReader(self.spec)

    def read(self) -> ApiModel:
        spec, api = self.spec, APIS[self.name]
        info = spec.get("info", {})
        operations = [self._operation(method, path, op) for method, path, op in iter_operations(spec)]
        components = spec.get("components", {})
        return ApiModel(
            name=self.name,
            title=api.title,
            spec_title=info.get("title", api.title),
            version=str(info.get("version", "")),
            description=info.get("description", ""),
            real_url=api.real_server_url,
            server_path=api.server_path,
            prefix=api.prefix,
            contact_url=(info.get("contact") or {}).get("url"),
            security=[list(requirement) for requirement in spec.get("security", [])],
            schemes=[self._scheme(key, scheme) for key, scheme in components.get("securitySchemes", {}).items()],
            tags=self._tags(operations),
            operations=operations,
            schemas={name: self.schemas.node({"$ref": f"#/components/schemas/{name}"})
                     for name in components.get("schemas", {})},
            examples=[
                self._example(name, example)
                for name, example in components.get("examples", {}).items()
                if "x-schema" in resolve(spec, example)
            ],
            spec_file=api.spec_path.name,
        )

    def _tags(self, operations: list[Operation]) -> list[Tag]:
        declared = {tag["name"]: tag.get("description", "") for tag in self.spec.get("tags", [])}
        names = list(declared)
        for op in operations:
            for tag in op.tags or ["Other"]:
                if tag not in names:
                    names.append(tag)
        tags = [Tag(name, declared.get(name, ""), [op for op in operations if name in (op.tags or ["Other"])])
                for name in names]
        return [tag for tag in tags if tag.operations]

    def _scheme(self, key: str, scheme: dict[str, Any]) -> SecurityScheme:
        scheme = resolve(self.spec, scheme)
        return SecurityScheme(
            key=key,
            type=scheme.get("type", ""),
            description=scheme.get("description", ""),
            scheme=scheme.get("scheme"),
            bearer_format=scheme.get("bearerFormat"),
            location=scheme.get("in"),
            param_name=scheme.get("name"),
        )

    def _operation(self, method: str, path: str, op: dict[str, Any]) -> Operation:
        path_item = self.spec["paths"][path]
        params: dict[tuple[str, str], Parameter] = {}
        for raw in [*path_item.get("parameters", []), *op.get("parameters", [])]:
            param = self._parameter(raw)
            params[(param.name, param.location)] = param
        body = op.get("requestBody")
        return Operation(
            api=self.name,
            operation_id=op["operationId"],
            method=method,
            path=path,
            summary=op.get("summary", ""),
            description=op.get("description", ""),
            tags=list(op.get("tags", [])),
            parameters=list(params.values()),
            request_body=self._request_body(body) if body else None,
            responses=[self._response(str(status), raw) for status, raw in op.get("responses", {}).items()],
            security=[list(req) for req in op.get("security", self.spec.get("security", []))],
            deprecated=bool(op.get("deprecated")),
        )

    def _parameter(self, raw: dict[str, Any]) -> Parameter:
        param = resolve(self.spec, raw)
        examples = self._examples(param)
        return Parameter(
            name=param["name"],
            location=param["in"],
            required=bool(param.get("required")),
            description=param.get("description", ""),
            schema=self.schemas.node(param["schema"]) if "schema" in param else None,
            examples=examples,
            style=param.get("style"),
            deprecated=bool(param.get("deprecated")),
        )

    def _request_body(self, raw: dict[str, Any]) -> RequestBody:
        body = resolve(self.spec, raw)
        return RequestBody(
            required=bool(body.get("required")),
            description=body.get("description", ""),
            contents=self._contents(body.get("content", {})),
        )

    def _response(self, status: str, raw: dict[str, Any]) -> Response:
        response = resolve(self.spec, raw)
        headers = []
        for name, header in (response.get("headers") or {}).items():
            header = resolve(self.spec, header)
            schema = self.schemas.node(header["schema"]) if "schema" in header else None
            headers.append(Header(name, header.get("description", ""), schema))
        links = []
        for name, link in (response.get("links") or {}).items():
            link = resolve(self.spec, link)
            if "operationId" in link:
                links.append(Link(name, link["operationId"], link.get("description", "")))
        return Response(
            status=status,
            description=response.get("description", ""),
            contents=self._contents(response.get("content") or {}),
            headers=headers,
            links=links,
        )

    def _contents(self, content: dict[str, Any]) -> list[Content]:
        out = []
        for media_type, media in content.items():
            media = resolve(self.spec, media)
            encoding = {name: enc.get("contentType", "") for name, enc in (media.get("encoding") or {}).items()}
            out.append(Content(
                media_type=media_type,
                schema=self.schemas.node(media["schema"]) if "schema" in media else None,
                examples=self._examples(media),
                encoding=encoding,
            ))
        return out

    def _examples(self, holder: dict[str, Any]) -> list[Example]:
        """The named ``examples`` of a parameter or media type, or its single ``example``."""
        if "examples" in holder:
            return [self._example(name, raw) for name, raw in holder["examples"].items()]
        if "example" in holder:
            return [Example(name="example", summary="", description="", value=holder["example"])]
        return []

    def _example(self, name: str, raw: dict[str, Any]) -> Example:
        example = resolve(self.spec, raw)
        schema = example.get("x-schema")
        return Example(
            name=name,
            summary=example.get("summary", ""),
            description=example.get("description", ""),
            value=example.get("value"),
            negative=bool(example.get("x-negative")),
            schema=ref_name(schema) if schema else None,
        )


def read_api(name: str) -> ApiModel:
    """The documentation model of one API (``rootfi``, ``mpdx`` or ``torii``)."""
    return ApiReader(name).read()
