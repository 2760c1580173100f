"""Connexion's request validators, changed to report every problem with its place.

Connexion's stock validators stop at the first schema failure and describe it in one string. A vendor's
error format wants each problem with a JSON pointer (MPDX's ``source.pointer``) or a readable path
(Torii's ``users[1].email is required``), so these subclasses keep Connexion's parsing and schema checks
and raise :class:`~mockserver.errors.ApiError` with all the problems instead. They also turn bodies that
crash the stock validators (invalid UTF-8, JSON nested too deep, broken multipart) into a 400.

The validators are compiled once per schema rather than once per request: Connexion's own parameter check
deep-copies each parameter and builds a new Draft 4 validator for it on every request, which was the largest
single cost of request validation.
"""

from __future__ import annotations

import json
import typing as t

from connexion.datastructures import MediaTypeDict
from connexion.json_schema import Draft4RequestValidator
from connexion.validators import (
    VALIDATOR_MAP,
    JSONRequestBodyValidator,
    MultiPartFormDataValidator,
    ParameterValidator,
)
from connexion.validators.form_data import FormDataValidator
from connexion.utils import is_null, is_nullable
from jsonschema import Draft4Validator, ValidationError
from starlette.formparsers import MultiPartException
from starlette.types import Receive, Scope

from mockserver.errors import ApiError, Problem, schema_problems

_compiled: dict[int, tuple[dict, Draft4RequestValidator]] = {}


def compiled(schema: dict) -> Draft4RequestValidator:
    """A validator for ``schema``, built on first use. Spec schemas live as long as the app, so ``id`` is a key."""
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        entry = (schema, Draft4RequestValidator(schema, format_checker=Draft4Validator.FORMAT_CHECKER))
        _compiled[id(schema)] = entry
    return entry[1]


_parameter_validators: dict[int, tuple[dict, Draft4Validator]] = {}


def parameter_validator(param: dict) -> Draft4Validator:
    """The validator Connexion builds for a parameter on every request (plain Draft 4), built once instead."""
    entry = _parameter_validators.get(id(param))
    if entry is None or entry[0] is not param:
        entry = (param, Draft4Validator(param.get("schema", param), format_checker=Draft4Validator.FORMAT_CHECKER))
        _parameter_validators[id(param)] = entry
    return entry[1]


def check_against(schema: dict, value: t.Any, *, prefix: t.Sequence[t.Any] = ()) -> None:
    """Raise a 400 naming every place where ``value`` breaks ``schema``."""
    errors = list(compiled(schema).iter_errors(value))
    if errors:
        raise ApiError(400, problems=schema_problems(errors, prefix=prefix))


class JSONBodyValidator(JSONRequestBodyValidator):
    async def wrap_receive(self, receive: Receive, *, scope: Scope) -> tuple[Receive, Scope]:
        # Connexion validates a body without Content-Type as the operation's first media type, but then hands
        # the handler the raw bytes; a client that forgot the header is told so instead.
        headers = dict(scope["headers"])
        if b"content-type" not in headers and headers.get(b"content-length", b"0") != b"0":
            raise ApiError(415, "Missing Content-type, expected a JSON document")
        return await super().wrap_receive(receive, scope=scope)

    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> t.Any:
        raw = b"".join([chunk async for chunk in stream])
        try:
            text = raw.decode(self._encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ApiError(400, f"The request body is not valid {self._encoding} text: {exc}") from None
        if not text:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ApiError(400, f"Malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        except RecursionError:
            raise ApiError(400, "Malformed JSON: the document is nested too deeply") from None
        except ValueError as exc:  # e.g. an integer of more than 4,300 digits (CPython's conversion limit)
            raise ApiError(400, f"Malformed JSON: {exc}") from None

    def _validate(self, body: t.Any) -> None:
        if body is None and not self._nullable:
            raise ApiError(400, "The request body must not be empty")
        check_against(self._schema, body)


class MultiPartBodyValidator(MultiPartFormDataValidator):
    async def _parse(self, stream: t.AsyncGenerator[bytes, None], scope: Scope) -> dict:
        try:
            return await super()._parse(stream, scope)
        except MultiPartException as exc:
            raise ApiError(400, f"Malformed multipart body: {exc.message}") from None

    def _validate(self, body: t.Any) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, "The form must be a set of fields")
        check_against(self._schema, body)


class FormBodyValidator(FormDataValidator):
    def _validate(self, body: t.Any) -> None:
        if not isinstance(body, dict):
            raise ApiError(400, "The form must be a set of fields")
        check_against(self._schema, body)


class ParametersValidator(ParameterValidator):
    """Reports the offending parameter by name (JSON:API's ``source.parameter``)."""

    @staticmethod
    def validate_parameter(parameter_type, value, param, param_name=None):
        """Connexion's check, with the parameter's validator compiled once (the same messages)."""
        if is_nullable(param) and is_null(value):
            return None
        if value is not None:
            try:
                parameter_validator(param).validate(value)
            except ValidationError as exception:
                return str(exception)
            return None
        if param.get("required"):
            return f"Missing {parameter_type} parameter '{param['name']}'"
        return None

    def validate_request(self, request) -> None:
        getters = {
            "query": self.validate_query_parameter,
            "path": self.validate_path_parameter,
            "header": self.validate_header_parameter,
            "cookie": self.validate_cookie_parameter,
        }
        problems = []
        for location, validate in getters.items():
            for param in self.parameters.get(location, []):
                error = validate(param, request)
                if error:
                    message = error.splitlines()[0]
                    problems.append(Problem(f"{param['name']}: {message}", parameter=param["name"]))
        if problems:
            raise ApiError(400, problems=problems)


class RememberingMediaTypeDict(MediaTypeDict):
    """Connexion's media-type-range lookup, remembered per media type.

    Connexion looks the body validator up on every request, and each lookup sorts the keys and runs an
    ``fnmatch`` per key. The answer depends only on the media type, and this map never changes.
    """

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._found: dict[str, t.Any] = {}

    def __getitem__(self, item: str) -> t.Any:
        try:
            return self._found[item]
        except KeyError:
            pass
        value = super().__getitem__(item)
        if len(self._found) < 256:  # media types come from the client: keep the memory bounded
            self._found[item] = value
        return value


VALIDATORS = {
    "parameter": ParametersValidator,
    "body": RememberingMediaTypeDict(
        {
            "*/*json": JSONBodyValidator,
            "application/x-www-form-urlencoded": FormBodyValidator,
            "multipart/form-data": MultiPartBodyValidator,
        }
    ),
    "response": VALIDATOR_MAP["response"],
}
