"""The Schemathesis schema of each API, configured with what the contract knows about that vendor.

Schemathesis's generic checks assume generic REST behaviour. Where a vendor documents otherwise, the
contract says so here, in one place, with the reason: MPDX cancels an invite softly (a cancelled invite
is still found by id, so "use after free" does not apply), and some schema-valid requests are refused by
documented business rules (a wrong accept code, an unknown list cursor, a data file that is not JSON).
"""

from __future__ import annotations

import copy
from typing import Any

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.schemas import BaseSchema

from contracts.target import Target
from mockserver.specs import APIS

POSITIVE_DEFAULT = ["2xx", "401", "403", "404", "409", "429"]
"""What a schema-valid request may get anywhere: success, a credential or rate problem, a missing record."""


def _accepts(operation_ids: list[str], *extra: str) -> list[dict[str, Any]]:
    return [
        {
            "include-operation-id": operation_id,
            "checks": {"positive_data_acceptance": {"expected-statuses": POSITIVE_DEFAULT + list(extra)}},
        }
        for operation_id in operation_ids
    ]


VENDOR_RULES: dict[str, dict[str, Any]] = {
    "mpdx": {
        # DELETE cancels: the invite stays readable by id (documented), so use-after-free is not a defect.
        "checks": {"use_after_free": {"enabled": False}},
        # A schema-valid accept is still refused for a wrong code (400) or a cancelled invite (410).
        "operations": _accepts(["accept_account_list_invite", "accept_organization_invite"], "400", "410"),
    },
    "rootfi": {
        # A well-formed cursor the server never handed out is refused.
        "operations": _accepts(["list_invite_links"], "400"),
    },
    "torii": {
        # A sync checks the file's content (400 when it is not a valid data file).
        "operations": _accepts(["sync_custom_integration"], "400") + _accepts(["upload_file"], "413"),
    },
}


def load_schema(target: Target, *, max_examples: int) -> BaseSchema:
    """The API's spec, pointed at the target, with the vendor's rules and the run's example budget."""
    config = SchemathesisConfig.from_dict(
        {
            "base-url": target.base_url,
            "headers": dict(target.headers),
            # No Hypothesis database: a run must not replay (or leave behind) another target's failures.
            "generation": {"max-examples": max_examples, "database": "none"},
            "phases": {"stateful": {"max-steps": 8}},
            "warnings": False,
            **VENDOR_RULES.get(target.api, {}),
        }
    )
    return schemathesis.openapi.from_dict(copy.deepcopy(APIS[target.api].spec), config=config)
