"""JSON Schemas of a spec as trees a reader can follow: ``$ref`` resolved, ``allOf`` merged, cycles cut.

A reader looking up a field wants to see the field, its type and its rules where it is used, not a
``$ref`` to chase; so every schema is flattened here into a :class:`SchemaNode` once, and the templates
only print nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SCHEMA_PREFIX = "#/components/schemas/"
MAX_DEPTH = 12
"""Deeper than any schema of ours; stops a pathological spec from running away."""


@dataclass
class Property:
    name: str
    required: bool
    node: "SchemaNode"


@dataclass
class SchemaNode:
    """One schema, ready to print."""

    name: str | None = None
    """The ``components.schemas`` name it came from, if it was a ``$ref``."""
    type: str = ""
    format: str | None = None
    description: str = ""
    nullable: bool = False
    enum: list[Any] = field(default_factory=list)
    default: Any = None
    has_default: bool = False
    constraints: list[str] = field(default_factory=list)
    properties: list[Property] = field(default_factory=list)
    items: "SchemaNode | None" = None
    additional: "SchemaNode | None" = None
    variants: list["SchemaNode"] = field(default_factory=list)
    variant_kind: str = ""
    pattern: str | None = None
    example: Any = None
    has_example: bool = False
    recursive: bool = False
    """True where the tree stops because the schema contains itself."""

    @property
    def label(self) -> str:
        """A short type such as ``string (uuid)``, ``array of InviteLink`` or ``map of string``."""
        if self.type == "array" and self.items is not None:
            return f"array of {self.items.name or self.items.label}"
        if self.type == "object" and self.additional is not None and not self.properties:
            return f"map of {self.additional.name or self.additional.label}"
        text = self.type or ("any of" if self.variant_kind == "anyOf" else "one of" if self.variants else "any")
        return f"{text} ({self.format})" if self.format else text

    @property
    def children(self) -> list[Property]:
        """The properties to print under this node: its own, or those of the objects of an array."""
        if self.properties:
            return self.properties
        if self.items is not None and self.items.properties:
            return self.items.properties
        return []


def ref_name(ref: str) -> str | None:
    return ref.removeprefix(SCHEMA_PREFIX) if ref.startswith(SCHEMA_PREFIX) else None


class SchemaReader:
    """Turns the schemas of one spec into :class:`SchemaNode` trees."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def _deref(self, node: Any) -> tuple[Any, str | None]:
        name = None
        seen = 0
        while isinstance(node, dict) and "$ref" in node and seen < MAX_DEPTH:
            ref = node["$ref"]
            name = ref_name(ref) or name
            target: Any = self.spec
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            node, seen = target, seen + 1
        return node, name

    def flatten(self, schema: Any) -> tuple[dict[str, Any], str | None, list[str]]:
        """The schema with its ``$ref`` followed and its ``allOf`` merged into one dict.

        Returns the merged dict, the component name when the whole schema stands for one named schema (a
        ``$ref``, or an ``allOf`` of a single ``$ref``), and the names of every schema merged in (to cut cycles).
        """
        resolved, name = self._deref(schema)
        if not isinstance(resolved, dict):
            return {}, name, [name] if name else []
        used = [name] if name else []
        if "allOf" not in resolved:
            return resolved, name, used
        merged: dict[str, Any] = {}
        parts = resolved["allOf"]
        part_names = []
        for part in parts:
            flat, part_name, part_used = self.flatten(part)
            used += part_used
            part_names.append(part_name)
            merged = _merge(merged, flat)
        own = {key: value for key, value in resolved.items() if key != "allOf"}
        merged = _merge(merged, own)
        if name is None and len(parts) == 1 and part_names[0] and not own.get("properties"):
            name = part_names[0]
        return merged, name, used

    def node(self, schema: Any, _stack: tuple[str, ...] = ()) -> SchemaNode:
        flat, name, used = self.flatten(schema)
        if any(ref in _stack for ref in used) or len(_stack) > MAX_DEPTH:
            return SchemaNode(name=name, type=flat.get("type", ""), description=flat.get("description", ""),
                              recursive=True)
        stack = _stack + tuple(used) if used else _stack + ("",)
        node = SchemaNode(
            name=name,
            type=flat.get("type") or ("object" if "properties" in flat else ""),
            format=flat.get("format"),
            description=flat.get("description", "") or "",
            nullable=bool(flat.get("nullable")),
            enum=list(flat.get("enum", [])),
            default=flat.get("default"),
            has_default="default" in flat,
            constraints=_constraints(flat),
            pattern=flat.get("pattern"),
            example=flat.get("example"),
            has_example="example" in flat,
        )
        required = set(flat.get("required", []))
        for prop_name, prop_schema in (flat.get("properties") or {}).items():
            node.properties.append(Property(prop_name, prop_name in required, self.node(prop_schema, stack)))
        if "items" in flat:
            node.items = self.node(flat["items"], stack)
            node.type = node.type or "array"
        if isinstance(flat.get("additionalProperties"), dict):
            node.additional = self.node(flat["additionalProperties"], stack)
        for kind in ("oneOf", "anyOf"):
            if kind in flat:
                node.variant_kind = kind
                node.variants = [self.node(variant, stack) for variant in flat[kind]]
        return node


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """``allOf`` semantics for reading: later keywords win, properties merge, required lists add up."""
    result = dict(base)
    for key, value in extra.items():
        if key == "properties":
            props = dict(result.get("properties") or {})
            for prop_name, prop_schema in (value or {}).items():
                known = props.get(prop_name)
                props[prop_name] = {"allOf": [known, prop_schema]} if known is not None else prop_schema
            result["properties"] = props
        elif key == "required":
            result["required"] = list(dict.fromkeys([*result.get("required", []), *value]))
        elif key == "description" and not value:
            continue
        else:
            result[key] = value
    return result


def _constraints(schema: dict[str, Any]) -> list[str]:
    """The validation keywords, in words a reader knows (``≥ 1``, ``length ≥ 1``, ``pattern …``)."""
    out = []
    bounds = (
        ("minimum", "≥"), ("maximum", "≤"), ("exclusiveMinimum", ">"), ("exclusiveMaximum", "<"),
    )
    for key, sign in bounds:
        if key in schema and not isinstance(schema[key], bool):
            out.append(f"{sign} {schema[key]}")
    if schema.get("exclusiveMinimum") is True and "minimum" in schema:
        out[out.index(f"≥ {schema['minimum']}")] = f"> {schema['minimum']}"
    if schema.get("exclusiveMaximum") is True and "maximum" in schema:
        out[out.index(f"≤ {schema['maximum']}")] = f"< {schema['maximum']}"
    for key, words in (("minLength", "length ≥"), ("maxLength", "length ≤"),
                       ("minItems", "items ≥"), ("maxItems", "items ≤")):
        if key in schema:
            out.append(f"{words} {schema[key]}")
    if schema.get("uniqueItems"):
        out.append("unique items")
    if schema.get("readOnly"):
        out.append("read-only")
    if schema.get("writeOnly"):
        out.append("write-only")
    return out
