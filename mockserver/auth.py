"""Credentials: any non-blank token is a caller, unless ``--token`` narrowed the list.

Connexion reads the credentials where the spec's security schemes say (RootFi's ``api_key`` header, a
bearer token, MPDX's ``access_token`` query parameter) and answers 401 when they are missing. We only decide
whether a present credential is accepted, so the specs need no ``x-*InfoFunc`` pointing into Python.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

from connexion.security import AbstractSecurityHandler, ApiKeySecurityHandler, BearerSecurityHandler

from mockserver.context import runtime


def accept_credential(credential: str, *_: Any, **__: Any) -> dict[str, str] | None:
    """Token info for an accepted credential (its ``sub`` is the credential itself), or None for a 401."""
    credential = credential.strip()
    if not credential:
        return None
    allowed = runtime().config.tokens
    if allowed and credential not in allowed:
        return None
    return {"sub": credential}


@functools.cache
def _accepts_kwarg(func: Callable, keyword: str) -> bool:
    """Connexion's answer, remembered: it inspects the function's signature twice on every request."""
    return AbstractSecurityHandler._accepts_kwarg(func, keyword)


class MockBearerHandler(BearerSecurityHandler):
    _accepts_kwarg = staticmethod(_accepts_kwarg)

    def _resolve_func(self, security_scheme):
        return accept_credential


class MockApiKeyHandler(ApiKeySecurityHandler):
    _accepts_kwarg = staticmethod(_accepts_kwarg)

    def _resolve_func(self, security_scheme):
        return accept_credential


SECURITY_MAP = {"bearer": MockBearerHandler, "apiKey": MockApiKeyHandler}
