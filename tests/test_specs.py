"""The OpenAPI documents are valid, complete for the seed pages, and their examples are true."""

from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import OpenAPIV30SpecValidator

from mockserver.specs import APIS, iter_operations, resolve, load_spec

# The twelve operations documented on the seed pages in ../shared/seeds/. Removing one from a spec fails.
SEED_OPERATIONS = {
    "rootfi": [("put", "/core/invite_links/{invite_link_id}")],
    "mpdx": [
        (method, f"/api/v2/{parent}/{{{parent_id}}}/invites{suffix}")
        for parent, parent_id in (("account_lists", "account_list_id"), ("organizations", "organization_id"))
        for method, suffix in (
            ("get", ""),
            ("post", ""),
            ("get", "/{id}"),
            ("delete", "/{id}"),
            ("put", "/{id}/accept"),
        )
    ],
    "torii": [("put", "/services/sync/custom")],
}

REAL_SERVERS = {
    "rootfi": "https://api.rootfi.dev/v4",
    "mpdx": "https://api.mpdx.org",
    "torii": "https://api.toriihq.com/v1.0",
}


def iter_examples(api: str) -> Iterator[tuple[str, dict[str, Any], Any, bool]]:
    """Every example in a spec as ``(where, schema, value, negative)``."""
    spec = load_spec(api)

    def named(where: str, holder: dict[str, Any], schema: dict[str, Any]):
        if "example" in holder:
            yield f"{where}:example", schema, holder["example"], False
        for name, example in (holder.get("examples") or {}).items():
            example = resolve(spec, example)
            yield f"{where}:{name}", schema, example["value"], bool(example.get("x-negative"))

    for method, path, operation in iter_operations(spec):
        op = f"{method.upper()} {path}"
        params = spec["paths"][path].get("parameters", []) + operation.get("parameters", [])
        for parameter in map(lambda p: resolve(spec, p), params):
            yield from named(f"{op} param {parameter['name']}", parameter, parameter["schema"])
        body = resolve(spec, operation.get("requestBody", {}))
        for media, content in body.get("content", {}).items():
            yield from named(f"{op} request {media}", content, content["schema"])
        for status, response in operation["responses"].items():
            for media, content in resolve(spec, response).get("content", {}).items():
                yield from named(f"{op} {status} {media}", content, content["schema"])
    for name, example in spec.get("components", {}).get("examples", {}).items():
        if "x-schema" in example:
            schema = {"$ref": example["x-schema"]}
            yield f"components.examples.{name}", schema, example["value"], bool(example.get("x-negative"))


def example_errors(api: str, schema: dict[str, Any], value: Any) -> list[str]:
    """Why ``value`` breaks ``schema`` (empty when it is valid). Text that is meant as JSON is parsed first."""
    spec = load_spec(api)
    if isinstance(value, str) and resolve(spec, schema).get("type") == "object":
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            return [f"not JSON: {exc}"]
    # Local $refs resolve against the document root, so give the validator the spec's components.
    root = {"allOf": [schema], "components": spec.get("components", {})}
    validator = OAS30Validator(root, format_checker=oas30_format_checker)
    return [error.message for error in validator.iter_errors(value)]


ALL_EXAMPLES = [
    pytest.param(api, schema, value, negative, id=f"{api}:{where}")
    for api in APIS
    for where, schema, value, negative in iter_examples(api)
]


@pytest.mark.parametrize("api", list(APIS))
def test_spec_is_valid_openapi_3_0_3(api):
    spec = load_spec(api)
    assert spec["openapi"] == "3.0.3"
    errors = [error.message for error in OpenAPIV30SpecValidator(spec).iter_errors()]
    assert errors == []


@pytest.mark.parametrize("api", list(APIS))
def test_first_server_is_the_vendors_real_url(api):
    assert load_spec(api)["servers"][0]["url"] == REAL_SERVERS[api]


@pytest.mark.parametrize("api", list(APIS))
def test_every_seed_operation_is_in_the_spec(api):
    spec = load_spec(api)
    present = {(method, path) for method, path, _ in iter_operations(spec)}
    missing = [op for op in SEED_OPERATIONS[api] if op not in present]
    assert missing == []


def test_the_seed_pages_document_twelve_operations():
    assert sum(map(len, SEED_OPERATIONS.values())) == 12


@pytest.mark.parametrize("api", list(APIS))
def test_every_operation_is_secured(api):
    spec = load_spec(api)
    schemes = spec["components"]["securitySchemes"]
    for method, path, operation in iter_operations(spec):
        requirements = operation.get("security", spec.get("security"))
        assert requirements, f"{method.upper()} {path} is not secured"
        for requirement in requirements:
            assert requirement, f"{method.upper()} {path} allows anonymous access"
            assert set(requirement) <= set(schemes)


@pytest.mark.parametrize("api", list(APIS))
def test_every_operation_documents_401_in_the_vendor_error_format(api):
    spec = load_spec(api)
    for method, path, operation in iter_operations(spec):
        response = resolve(spec, operation["responses"].get("401", {}))
        [content] = response.get("content", {}).values()
        assert content["schema"] == {"$ref": "#/components/schemas/Error"}, f"{method.upper()} {path}"


@pytest.mark.parametrize("api", list(APIS))
def test_every_operation_has_a_unique_operation_id_and_a_summary(api):
    ids = [op["operationId"] for _, _, op in iter_operations(load_spec(api))]
    assert len(ids) == len(set(ids))
    assert all(op.get("summary") for _, _, op in iter_operations(load_spec(api)))


@pytest.mark.parametrize("api", list(APIS))
def test_every_error_response_has_a_named_example(api):
    spec = load_spec(api)
    for method, path, operation in iter_operations(spec):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                for content in resolve(spec, response)["content"].values():
                    assert content.get("examples"), f"{method.upper()} {path} {status}"


@pytest.mark.parametrize("api", list(APIS))
def test_every_link_targets_an_existing_operation(api):
    spec = load_spec(api)
    ids = {op["operationId"] for _, _, op in iter_operations(spec)}
    for _, _, operation in iter_operations(spec):
        for response in operation["responses"].values():
            for link in resolve(spec, response).get("links", {}).values():
                assert link["operationId"] in ids


@pytest.mark.parametrize(("api", "schema", "value", "negative"), ALL_EXAMPLES)
def test_example_matches_its_schema(api, schema, value, negative):
    errors = example_errors(api, schema, value)
    if negative:
        assert errors, "an example marked x-negative must not validate"
    else:
        assert errors == []


def test_documented_mpdx_timestamps_validate():
    """A date-time format on these attributes would reject values the vendor really sends."""
    spec = load_spec("mpdx")
    attributes = {"$ref": "#/components/schemas/InviteAttributes"}
    create = {"$ref": "#/components/schemas/ClientTimestampAttributes"}
    assert example_errors("mpdx", attributes, {
        "accepted_at": "-4712-01-01T00:00:00Z", "code": "abc", "created_at": "2022-01-12T17:18:21Z",
        "invite_user_as": "coach", "recipient_email": "joe@example.com",
        "updated_at": "2022-01-12T17:18:21Z", "updated_in_db_at": "2022-01-12T17:18:21Z",
    }) == []
    assert example_errors("mpdx", create, {"updated_in_db_at": "2021-11-23 14:38:02 UTC"}) == []
    assert spec["components"]["schemas"]["InviteAttributes"]["properties"]["accepted_at"]["nullable"] is True


def test_the_format_checker_really_checks_formats():
    """Guards the example tests: without rfc3339-validator a date-time check silently passes anything."""
    assert example_errors("mpdx", {"$ref": "#/components/schemas/Timestamp"}, "yesterday")
    assert example_errors("mpdx", {"$ref": "#/components/schemas/Uuid"}, "not-a-uuid")


def test_the_torii_data_file_schema_is_a_named_component():
    schemas = load_spec("torii")["components"]["schemas"]
    data_file = schemas["CustomIntegrationData"]
    assert "users" in data_file["required"]
    examples = load_spec("torii")["components"]["examples"]
    assert any(e.get("x-negative") for e in examples.values())
    assert any(not e.get("x-negative") and "x-schema" in e for e in examples.values())
