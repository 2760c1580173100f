"""RootFi invite links: create, get, list page by page, and update.

An invite link is stored in the caller's session under its ``invite_link_id`` (table ``rootfi.invite_links``),
as it is shown plus the two settings the response does not show: the link's own ``sync_config`` and its
``partner_id`` (shown only while it has one: RootFi's example response has no ``partner_id`` at all).

Rules here are the ones ``openapi/rootfi.yaml`` cannot express:

* A new link gets the next ``rootfi_id`` of the session and ``invite_link_id`` = that number as a string, the
  form of the documented ids (``"1"``, and ``"2"`` in the create example), so ids are short, readable and
  never reused; ``connections`` is ``null`` until a customer connects, which no endpoint of this API does.
* An update replaces ``integration_categories`` and each optional setting that is present in the body; an
  absent setting is kept and an explicit ``null`` clears it. ``rootfi_created_at`` is kept and
  ``rootfi_updated_at`` always moves forward, by at least a millisecond even if the clock has not.
* ``company`` is built from ``company_name``: ``null`` while there is no name, a new company (with its own
  ``rootfi_id``) when a name first appears, the same company renamed when the name changes.
* A connection's ``sync_config`` is the link's ``sync_config`` entries of that connection's category.
* The list is ordered by ``rootfi_id``; ``next`` is the base64url of the last ``rootfi_id`` on the page,
  ``null`` on the last page; a cursor that does not decode to a link of this session is a 400.

Everything the spec says (required fields, types, enums, the ``limit`` range, credentials) Connexion has
already checked before a handler runs.
"""

from __future__ import annotations

import base64
import binascii
import copy
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from mockserver.context import session
from mockserver.errors import ApiError, Problem
from mockserver.recording import RecordedExchange, SeedState
from mockserver.specs import response_example
from mockserver.store import Records, Session

LINKS = "rootfi.invite_links"
"""The table of invite links, and the sequence of their ``rootfi_id``."""
COMPANIES = "rootfi.companies"
"""The sequence of company ``rootfi_id``: companies live inside their link, not in a table of their own."""

SETTINGS = ("integrations", "sync_config", "partner_id")
"""Optional body fields stored as sent (``company_name`` becomes ``company`` instead)."""
SHOWN = ("rootfi_id", "rootfi_created_at", "rootfi_updated_at", "invite_link_id", "integrations",
         "integration_categories", "company", "connections")
"""The fields of an invite link in a response, in RootFi's order."""

Answer = tuple[dict[str, Any], int]


# --- time -------------------------------------------------------------------------------------------------


def _clock() -> datetime:
    """The current time; a function of its own so that tests can stop the clock."""
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds (``2024-01-28T11:00:17.087Z``), as in RootFi's rate-limit timestamps.

    Seconds alone would let two updates within one second share a ``rootfi_updated_at``.
    """
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _after(previous: str, moment: datetime) -> str:
    """``moment`` as a timestamp, but at least one millisecond after ``previous``.

    An update must be seen to advance ``rootfi_updated_at`` even when the clock has not moved (or went back).
    """
    floor = _parse(previous) + timedelta(milliseconds=1)
    return _stamp(max(moment, floor))


# --- records ----------------------------------------------------------------------------------------------


def _links() -> Records:
    return session().table(LINKS)


def _find(invite_link_id: str) -> dict[str, Any]:
    """A private copy of the stored link (stored nested values must never be changed in place), or a 404."""
    record = _links().get(invite_link_id)
    if record is None:
        raise ApiError(404, f"No invite link with invite_link_id '{invite_link_id}'.")
    return _deep_copy(record)


def _deep_copy(value: Any) -> Any:
    """``copy.deepcopy`` for a stored record (JSON data: dicts, lists and scalars), several times faster."""
    if isinstance(value, dict):
        return {key: _deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_deep_copy(item) for item in value]
    return value


def _view(record: dict[str, Any]) -> dict[str, Any]:
    """The link as RootFi shows it: without its own ``sync_config``, with ``partner_id`` only when set."""
    shown = {name: record[name] for name in SHOWN}
    if record.get("partner_id") is not None:
        shown["partner_id"] = record["partner_id"]
    return shown


def _next_number(store: Session, sequence: str, highest_in_use: Callable[[], int]) -> int:
    """The next id of ``sequence``, above every id in use (seeded or imported records have no counter).

    ``highest_in_use`` scans the links: it runs only while the sequence has no counter, once per session.
    """
    return store.next_number(sequence, start=lambda: highest_in_use() + 1)


def _company(current: dict[str, Any] | None, name: str | None, stamp: str) -> dict[str, Any] | None:
    """The company after ``company_name`` was set to ``name``: kept, renamed, created, or gone (``null``)."""
    if name is None:
        return None
    if current is None:
        store = session()
        number = _next_number(store, COMPANIES, lambda: max(
            (r["company"]["rootfi_id"] for r in store.table(LINKS).all() if r.get("company")), default=0))
        return {"rootfi_id": number, "rootfi_created_at": stamp, "rootfi_updated_at": stamp, "name": name}
    if current["name"] == name:
        return current
    return {**current, "name": name, "rootfi_updated_at": _after(current["rootfi_updated_at"], _parse(stamp))}


def _connections(current: list[dict[str, Any]] | None, sync_config: list[dict[str, Any]] | None,
                 stamp: str) -> list[dict[str, Any]] | None:
    """The connections after the link's ``sync_config`` changed: each takes the entries of its category.

    A connection whose configuration comes out the same is left untouched, timestamps included.
    """
    if current is None:
        return None
    moment = _parse(stamp)
    result = []
    for connection in current:
        wanted = [dict(entry) for entry in sync_config or [] if entry.get("category") == connection["category"]]
        if wanted != connection["sync_config"]:
            connection = {**connection, "sync_config": wanted,
                          "rootfi_updated_at": _after(connection["rootfi_updated_at"], moment)}
        result.append(connection)
    return result


# --- the list cursor --------------------------------------------------------------------------------------


def _cursor(rootfi_id: int) -> str:
    """The opaque ``next`` of a page whose last link is ``rootfi_id``: base64url, unpadded."""
    return base64.urlsafe_b64encode(str(rootfi_id).encode()).decode().rstrip("=")


def _after_cursor(cursor: str, links: list[dict[str, Any]]) -> int:
    """The ``rootfi_id`` a cursor continues after; 400 unless it is a cursor this session could have handed out.

    Re-encoding must give the cursor back, which rejects padding, stray characters and leading zeros.
    """
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        text = ""
    if text.isdigit() and _cursor(int(text)) == cursor and any(r["rootfi_id"] == int(text) for r in links):
        return int(text)
    raise ApiError(400, problems=[Problem("next is not a cursor returned by a previous page", parameter="next")])


# --- handlers (named as the spec's operationIds) -------------------------------------------------------------


async def create_invite_link(body: dict[str, Any]) -> Answer:
    """A new link, answered with 200 (RootFi's documented status) and ``connections: null``."""
    store = session()
    links = store.table(LINKS)
    number = _next_number(store, LINKS, lambda: max((r["rootfi_id"] for r in links.all()), default=0))
    while links.get(str(number)) is not None:  # only after importing a state keyed otherwise
        number = _next_number(store, LINKS, lambda: number)
    stamp = _stamp(_clock())
    record = {
        "rootfi_id": number,
        "rootfi_created_at": stamp,
        "rootfi_updated_at": stamp,
        "invite_link_id": str(number),
        "integrations": body.get("integrations"),
        "integration_categories": body["integration_categories"],
        "company": _company(None, body.get("company_name"), stamp),
        "connections": None,
        "sync_config": body.get("sync_config"),
        "partner_id": body.get("partner_id"),
    }
    links.insert(record["invite_link_id"], record)
    return {"data": _view(record)}, 200


async def get_invite_link(invite_link_id: str) -> Answer:
    return {"data": _view(_find(invite_link_id))}, 200


async def list_invite_links(limit: int = 20, next_: str | None = None) -> Answer:
    """One page of links in ``rootfi_id`` order, continuing after the ``next`` cursor if one is given."""
    links = sorted(_links().all(), key=lambda r: r["rootfi_id"])
    if next_ is not None:
        after = _after_cursor(next_, links)
        links = [r for r in links if r["rootfi_id"] > after]
    page = links[:limit]
    more = len(links) > limit
    return {"data": [_view(r) for r in page], "next": _cursor(page[-1]["rootfi_id"]) if more else None}, 200


async def update_invite_link(invite_link_id: str, body: dict[str, Any]) -> Answer:
    """Replace the categories and every optional setting present in the body (``null`` included).

    Read, change and write happen under the store's lock so that two updates cannot lose one another.
    """
    state = session()
    with state.store.lock:
        record = _find(invite_link_id)
        stamp = _after(record["rootfi_updated_at"], _clock())
        record.update(rootfi_updated_at=stamp, integration_categories=body["integration_categories"])
        record.update({name: body[name] for name in SETTINGS if name in body})
        if "company_name" in body:
            record["company"] = _company(record["company"], body["company_name"], stamp)
        if "sync_config" in body:
            record["connections"] = _connections(record["connections"], body["sync_config"], stamp)
        state.table(LINKS).put(invite_link_id, record)
    return {"data": _view(record)}, 200


# --- seed data: the documented example -------------------------------------------------------------------------


def _documented_link() -> dict[str, Any]:
    """The invite link of the vendor's page: the ``documented`` 200 answer of the update, from the spec."""
    return copy.deepcopy(response_example("rootfi", "update_invite_link", 200)["data"])


def seed(store: Session) -> None:
    """Invite link ``"1"`` as documented, so the vendor page's request works verbatim on a fresh mock.

    The page does not show the link's own ``sync_config``; it is what its connections are synced with.
    """
    link = _documented_link()
    store.table(LINKS).put(link["invite_link_id"], _record_from_view(link, _synced_config(link)))


def _synced_config(link: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``sync_config`` entries a link's connections are synced with (the link's own is never shown)."""
    return [entry for connection in link.get("connections") or [] for entry in connection["sync_config"]]


def _record_from_view(link: dict[str, Any], sync_config: list[dict[str, Any]] | None) -> dict[str, Any]:
    """A stored link from how RootFi shows it, with its own ``sync_config``."""
    record = {name: copy.deepcopy(link.get(name)) for name in SHOWN}
    return {**record, "sync_config": copy.deepcopy(sync_config), "partner_id": link.get("partner_id")}


# --- state from a recording (`mockserver serve --seed-from`) ---------------------------------------------------


def records_from_exchange(exchange: RecordedExchange, state: SeedState) -> None:
    """Each invite link a recorded success answer shows, as last seen.

    The answer shows everything but the link's own ``sync_config``: that comes from the request that set it
    (a create, or an update that sent it), else from what was known before, else from its connections.
    """
    body = exchange.response_json
    data = body.get("data") if isinstance(body, dict) else None
    sent = exchange.request_json if isinstance(exchange.request_json, dict) else {}
    sets_config = exchange.operation == "create_invite_link" or (
        exchange.operation == "update_invite_link" and "sync_config" in sent)
    for link in data if isinstance(data, list) else [data]:
        if not isinstance(link, dict) or link.get("invite_link_id") is None:
            continue
        key = str(link["invite_link_id"])
        previous = state.get(LINKS, key)
        if sets_config:
            sync_config = sent.get("sync_config")
        elif previous is not None:
            sync_config = previous["sync_config"]
        else:
            sync_config = _synced_config(link)
        state.put(LINKS, key, _record_from_view(link, sync_config))
