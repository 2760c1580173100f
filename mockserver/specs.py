"""The three APIs we mock: where their OpenAPI documents are, and where each is mounted.

The specs live at the top of the repository and are copied into the wheel as ``mockserver/openapi``, so an
installed package and a source checkout find them in different places; this module is the one place that
knows both.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml


def spec_dir() -> Path:
    """The folder holding ``rootfi.yaml``, ``mpdx.yaml`` and ``torii.yaml``."""
    packaged = Path(__file__).resolve().parent / "openapi"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "openapi"


@functools.cache
def load_spec(name: str) -> dict[str, Any]:
    """The parsed spec of one API. Parsed once per process: callers must not mutate it."""
    path = spec_dir() / API_SPEC_FILES[name]
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@dataclass(frozen=True)
class Api:
    """One vendor API as the mock serves it."""

    name: str
    title: str
    prefix: str
    """Where the API sits when all APIs share one server; its real server path follows it."""

    @property
    def spec_path(self) -> Path:
        return spec_dir() / API_SPEC_FILES[self.name]

    @property
    def spec(self) -> dict[str, Any]:
        return load_spec(self.name)

    @property
    def real_server_url(self) -> str:
        return self.spec["servers"][0]["url"]

    @property
    def server_path(self) -> str:
        """The path part of the real server URL, e.g. ``/v4`` for RootFi and ``""`` for MPDX."""
        return urlsplit(self.real_server_url).path.rstrip("/")

    def base_path(self, *, alone: bool) -> str:
        """Where the API's paths start on the mock: behind its prefix, or at the root when served alone."""
        return self.server_path if alone else self.prefix + self.server_path


API_SPEC_FILES = {"rootfi": "rootfi.yaml", "mpdx": "mpdx.yaml", "torii": "torii.yaml"}

APIS: dict[str, Api] = {
    api.name: api
    for api in (
        Api(name="rootfi", title="RootFi", prefix="/rootfi"),
        Api(name="mpdx", title="MPDX", prefix="/mpdx"),
        Api(name="torii", title="Torii", prefix="/torii"),
    )
}

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow local ``$ref`` chains (``#/components/...``) to the object they point at."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def find_route(spec: dict[str, Any], operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """``(METHOD, path template, operation)`` of one operation."""
    for method, path, operation in iter_operations(spec):
        if operation["operationId"] == operation_id:
            return method.upper(), path, operation
    raise LookupError(f"no operation {operation_id!r} in {spec['info']['title']}")


def find_operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    return find_route(spec, operation_id)[2]


def response_example(api: str, operation_id: str, status: int, name: str = "documented") -> Any:
    """The value of a named example of one documented answer (the seed data is made of these)."""
    spec = load_spec(api)
    response = resolve(spec, find_operation(spec, operation_id)["responses"][str(status)])
    [content] = response["content"].values()
    return resolve(spec, content["examples"][name])["value"]


def request_example_names(api: str, operation_id: str) -> list[str]:
    """The names of an operation's valid request body examples (``x-negative`` ones are left out)."""
    spec = load_spec(api)
    body = resolve(spec, find_operation(spec, operation_id)["requestBody"])
    [content] = body["content"].values()
    return [name for name, example in content["examples"].items() if not resolve(spec, example).get("x-negative")]


def request_example(api: str, operation_id: str, name: str = "documented") -> Any:
    """The value of a named example of an operation's request body."""
    spec = load_spec(api)
    body = resolve(spec, find_operation(spec, operation_id)["requestBody"])
    [content] = body["content"].values()
    return resolve(spec, content["examples"][name])["value"]


def iter_operations(spec: dict[str, Any]):
    """Yield ``(method, path, operation)`` for every operation of a spec, in document order."""
    for path, item in spec["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                yield method, path, item[method]


@functools.cache
def resolved_spec(name: str) -> dict[str, Any]:
    """The spec of one API with every local ``$ref`` replaced by what it points at (as Connexion sees it).

    Built once per process, so its schema objects keep their identity and validators compiled for them
    (:func:`mockserver.validation.compiled`) are reused. Callers must not mutate it.
    """
    spec = load_spec(name)

    def inline(node: Any, seen: frozenset[str]) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                ref = node["$ref"]
                if ref in seen:
                    raise ValueError(f"{name}: recursive $ref {ref}")
                return inline(resolve(spec, {"$ref": ref}), seen | {ref})
            return {key: inline(value, seen) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(item, seen) for item in node]
        return node

    return inline(spec, frozenset())


@dataclass(frozen=True)
class Route:
    """One operation of an API, with the pattern its path template matches (relative to the server URL)."""

    method: str
    """Lower case, as in the spec."""
    template: str
    pattern: re.Pattern[str]
    operation: dict[str, Any]
    """The operation of :func:`resolved_spec` (no ``$ref`` left)."""
    parameters: tuple[dict[str, Any], ...] = ()
    """The operation's parameters and those of its path item (the operation's win), resolved."""

    @property
    def operation_id(self) -> str:
        return self.operation["operationId"]

    def path_parameters(self, path: str) -> dict[str, str]:
        match = self.pattern.match(path)
        return dict(match.groupdict()) if match else {}


@functools.cache
def routes(name: str) -> tuple[Route, ...]:
    """Every operation of an API; templates with fewer parameters first, so ``/files/upload`` beats ``/files/{id}``."""
    found = []
    spec = resolved_spec(name)
    for method, template, operation in iter_operations(spec):
        regex = re.sub(r"\\\{([A-Za-z_][A-Za-z0-9_]*)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
        own = operation.get("parameters", [])
        shared = [p for p in spec["paths"][template].get("parameters", [])
                  if not any(o["name"] == p["name"] and o["in"] == p["in"] for o in own)]
        found.append(Route(method, template, re.compile(f"^{regex}$"), operation, tuple(shared + own)))
    return tuple(sorted(found, key=lambda route: route.template.count("{")))


def match_route(name: str, method: str, path: str) -> Route | None:
    """The operation answering ``method path`` (``path`` relative to the API's server URL), or None."""
    method = method.lower()
    for route in routes(name):
        if route.method == method and route.pattern.match(path):
            return route
    return None


def documented_methods(name: str, path: str) -> list[str]:
    """The methods the spec documents for ``path`` (upper case), empty when no path template matches."""
    return [route.method.upper() for route in routes(name) if route.pattern.match(path)]
