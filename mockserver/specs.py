"""The three APIs we mock: where their OpenAPI documents are, and where each is mounted.

The specs live at the top of the repository and are copied into the wheel as ``mockserver/openapi``, so an
installed package and a source checkout find them in different places; this module is the one place that
knows both.
"""

from __future__ import annotations

import functools
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


def find_operation(spec: dict[str, Any], operation_id: str) -> dict[str, Any]:
    for _, _, operation in iter_operations(spec):
        if operation["operationId"] == operation_id:
            return operation
    raise LookupError(f"no operation {operation_id!r} in {spec['info']['title']}")


def response_example(api: str, operation_id: str, status: int, name: str = "documented") -> Any:
    """The value of a named example of one documented answer (the seed data is made of these)."""
    spec = load_spec(api)
    response = resolve(spec, find_operation(spec, operation_id)["responses"][str(status)])
    [content] = response["content"].values()
    return resolve(spec, content["examples"][name])["value"]


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
