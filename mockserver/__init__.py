"""A stateful mock server for the RootFi, MPDX and Torii APIs, driven by the OpenAPI specs in ``openapi/``."""

__version__ = "0.1.0"
