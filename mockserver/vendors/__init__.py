"""One module per vendor API: its operation handlers (named as the spec's operationIds), its rules, its seed.

Each module offers ``seed(session)``, which writes the documented example records into a new session.
"""

from __future__ import annotations

from types import ModuleType

from mockserver.vendors import mpdx, rootfi, torii

VENDORS: dict[str, ModuleType] = {"rootfi": rootfi, "mpdx": mpdx, "torii": torii}
