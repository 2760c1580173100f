"""Where the mock plugs into Connexion to take work that does not depend on the request out of each request.

Connexion 3.3 redoes per request some work whose result never changes (profiles in benchmarks/README.md):

* ``AsyncApp`` wraps the handler in its parameter and response decorators again on every request:
  ``AsyncOperation.fn`` builds a new ``StarletteDecorator``, whose wrapper re-runs ``decorate()`` (three
  ``functools.wraps`` and an ``inspect.signature`` of the handler), builds a new URI parser, and maps each
  parameter name through ``inflection``'s regular expressions. That was a third of the time of a request
  reading one record. Here the decorated handler is built once per operation, the URI parser is kept per
  operation and the pythonic names are remembered; Connexion's decorators still do all the work they did.
  The subclasses plug in where Connexion chooses its classes (``AsyncASGIApp.api_cls``,
  ``AsyncApi.make_operation``, the decorator's ``_parameter_decorator_cls``), and :func:`api_app`
  assembles them as ``connexion.AsyncApp`` does: a ``ConnexionMiddleware`` around the framework app.
* ``SwaggerUIMiddleware`` runs every request through a router of its own (each API's spec and console
  routes) before passing it on. :class:`SwaggerUIOnlyWhereServed` passes on at once the requests whose path
  none of those routes can match, and leaves the others to Connexion's router as before.
* ``ResponseValidationMiddleware`` is only put in the middleware list when responses are validated.
* An operation's body definition is looked up six times per request with a body (request validation, the URI
  parser, the parameter decorator), each time building a media-type table, sorting it and matching it with
  ``fnmatch``: about a sixth of a create. The answer depends only on the content type (it is the spec's own
  dict every time), so each operation remembers it (:func:`remember_body_definitions`), on the app side
  (``AsyncApi.make_operation``) and in request validation (a subclass in the middleware list).
"""

from __future__ import annotations

import functools
import typing as t

from connexion.apps.asynchronous import AsyncApi, AsyncASGIApp, AsyncOperation
from connexion.context import operation, receive, scope
from connexion.decorators import StarletteDecorator
from connexion.decorators.parameter import AsyncParameterDecorator
from connexion.middleware import ConnexionMiddleware
from connexion.middleware.request_validation import (
    RequestValidationAPI,
    RequestValidationMiddleware,
    RequestValidationOperation,
)
from connexion.middleware.response_validation import ResponseValidationMiddleware
from connexion.middleware.swagger_ui import SwaggerUIMiddleware
from starlette.types import Receive, Scope, Send


class _RememberedNamesParameterDecorator(AsyncParameterDecorator):
    """Connexion's parameter decorator; the sanitized (pythonic) form of each name is computed once."""

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        # A pure function of the name; bounded, since query parameter names come from the client.
        self.sanitize_fn = functools.lru_cache(maxsize=1024)(self.sanitize_fn)


class _DecorateOnce(StarletteDecorator):
    """``StarletteDecorator`` whose wrapper reuses one decorated handler and one URI parser."""

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self._uri_parser: t.Any = None
        self._uri_parser_for: t.Any = None

    @property
    def _parameter_decorator_cls(self) -> type[AsyncParameterDecorator]:
        return _RememberedNamesParameterDecorator

    @property
    def uri_parser(self):
        # A URI parser only holds the operation's parameter definitions: one per operation is enough.
        current = operation._get_current_object()
        if self._uri_parser_for is not current:
            self._uri_parser = super().uri_parser
            self._uri_parser_for = current
        return self._uri_parser

    def __call__(self, function: t.Callable) -> t.Callable:
        decorated_function = self.decorate(function)

        @functools.wraps(function)
        async def wrapper(*args: t.Any, **kwargs: t.Any) -> t.Any:
            request = self.framework.get_request(uri_parser=self.uri_parser, scope=scope, receive=receive)
            return await decorated_function(request)

        return wrapper


class _Operation(AsyncOperation):
    @functools.cached_property
    def fn(self) -> t.Callable:
        return _DecorateOnce(pythonic_params=self.pythonic_params, jsonifier=self.jsonifier)(self._fn)


def remember_body_definitions(operation: t.Any) -> t.Any:
    """``operation`` with ``body_definition`` remembered per content type (bounded: content types come from clients)."""
    look_up = operation.body_definition
    found: dict[str | None, dict] = {}

    def body_definition(content_type: str | None = None) -> dict:
        try:
            return found[content_type]
        except KeyError:
            definition = look_up(content_type)
            if len(found) < 64:
                found[content_type] = definition
            return definition

    operation.body_definition = body_definition
    return operation


class _Api(AsyncApi):
    def make_operation(self, operation) -> _Operation:
        return _Operation.from_operation(remember_body_definitions(operation), pythonic_params=self.pythonic_params,
                                         jsonifier=self.jsonifier)


class _RequestValidationApi(RequestValidationAPI):
    def make_operation(self, operation) -> RequestValidationOperation:
        return super().make_operation(remember_body_definitions(operation))


class RequestValidationRemembering(RequestValidationMiddleware):
    """Connexion's request validation, over operations that remember their body definitions."""

    api_cls = _RequestValidationApi


class _ASGIApp(AsyncASGIApp):
    api_cls = _Api


class SwaggerUIOnlyWhereServed(SwaggerUIMiddleware):
    """Connexion's spec and console middleware, consulted only for paths it may serve.

    Its routes are each API's ``openapi.json`` / ``openapi.yaml`` (``swagger.*`` for Swagger 2) and the
    console under ``/ui``; a path with neither can only fall through its router to the next app, which is
    what it is sent to directly.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if "/ui" not in path and not path.endswith(_SPEC_FILES):
                await self.app(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


_SPEC_FILES = ("/openapi.json", "/openapi.yaml", "/swagger.json", "/swagger.yaml")


def api_app(import_name: str, *, validate_responses: bool = False, **options: t.Any) -> ConnexionMiddleware:
    """What ``connexion.AsyncApp(import_name, **options)`` builds, with the classes above."""
    replaced = {SwaggerUIMiddleware: SwaggerUIOnlyWhereServed, RequestValidationMiddleware: RequestValidationRemembering}
    middlewares = [replaced.get(m, m) for m in ConnexionMiddleware.default_middlewares
                   if validate_responses or m is not ResponseValidationMiddleware]
    return ConnexionMiddleware(_ASGIApp(), import_name=import_name, middlewares=middlewares,
                               validate_responses=validate_responses, **options)
