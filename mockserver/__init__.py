"""A stateful mock server for the RootFi, MPDX and Torii APIs, driven by the OpenAPI specs in ``openapi/``."""

import warnings

__version__ = "0.1.0"

# Connexion 3.3 imports starlette.testclient at import time, which warns about httpx on every start of the CLI.
warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient` is deprecated")
