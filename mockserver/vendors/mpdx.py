"""MPDX invites: JSON:API documents, the accept / cancel life cycle, pagination and sorting.

Account-list invites and organization invites behave alike and differ only in their resource type, the
roles they invite to, and the parent they belong to; :class:`InviteKind` holds those differences and every
handler is one line over the shared behaviour.

Rules here are the ones the spec cannot express: an invite is found only under its own parent; the list
shows active invites only (neither accepted nor cancelled); accepting needs the invite's code and follows
the documented 400 / 410 / 200-again rules; cancelling is soft. Everything the spec can say (types, enums,
required attributes, sort keys) Connexion has already checked before a handler runs.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from connexion import NoContent, request

from mockserver.context import session
from mockserver.errors import ApiError, Problem
from mockserver.recording import RecordedExchange, SeedState
from mockserver.specs import APIS, iter_operations
from mockserver.store import Records, Session

USER_NAMESPACE = uuid.UUID("5a0e4d0c-3f0e-4b8e-9a57-6d7078646d6f")
SEQUENCE = "mpdx.invites"
"""The session's sequence that orders invites created in the same second (``seq``)."""
NEVER = "-4712-01-01T00:00:00Z"
"""What MPDX shows as ``accepted_at`` for some never-accepted records (its database's earliest date)."""


@dataclass(frozen=True)
class InviteKind:
    parent: str
    """The path segment of the parent: ``account_lists`` or ``organizations``."""
    resource_type: str
    default_role: str
    parent_label: str

    @property
    def table(self) -> str:
        return f"mpdx.{self.resource_type}"


ACCOUNT_LIST = InviteKind("account_lists", "account_list_invites", "user", "AccountList")
ORGANIZATION = InviteKind("organizations", "organization_invites", "admin", "Organization")


# --- the caller ---------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)  # a pure function of the token, asked on every write (a SHA-1 each time)
def caller_id(token: str) -> str:
    """A stable user id for a credential.

    A JWT that carries a UUID user id (``user_id`` or ``sub``) maps to that user, so a real MPDX token shows
    its real user; any other token maps to a UUID derived from it, the same on every call.
    """
    parts = token.split(".")
    if len(parts) == 3:
        try:
            payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except (ValueError, UnicodeDecodeError):
            payload = None
        if isinstance(payload, dict):
            for claim in ("user_id", "sub"):
                try:
                    return str(uuid.UUID(str(payload.get(claim))))
                except ValueError:
                    continue
    return str(uuid.uuid5(USER_NAMESPACE, token))


# --- time -------------------------------------------------------------------------------------------------


def iso_utc(moment: datetime) -> str:
    """MPDX's timestamp form, ``2022-01-12T17:18:20Z`` (the year always four digits)."""
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}Z"


_last_second: tuple[int, str] = (-1, "")


def now() -> str:
    """The current time in MPDX's form; formatted once per second, since the form has no fractions."""
    global _last_second
    moment = datetime.now(timezone.utc)
    second = int(moment.timestamp())
    if _last_second[0] != second:
        _last_second = (second, iso_utc(moment))
    return _last_second[1]


_CLIENT_TIME = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.\d+)? ?(UTC|Z|([+-])(\d{2}):?(\d{2}))?$"
)


def parse_client_time(value: str) -> str:
    """A client's timestamp (``2022-01-12 17:18:20 UTC`` or ISO 8601) as MPDX returns it: ISO 8601 UTC.

    The spec's pattern has already checked the shape. A day past the end of its month rolls over into the
    next month, as Ruby's ``Time`` does, rather than failing a request the contract calls valid.
    """
    match = _CLIENT_TIME.match(value)
    assert match is not None, "the spec's ClientTimestamp pattern lets only this shape through"
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    sign, offset_hours, offset_minutes = match.group(8), match.group(9), match.group(10)
    offset = timedelta(hours=int(offset_hours or 0), minutes=int(offset_minutes or 0))
    moment = datetime(year, month, 1, hour, minute, second, tzinfo=timezone.utc) + timedelta(days=day - 1)
    try:
        moment = moment - offset if sign == "+" else moment + offset
    except OverflowError:
        pass  # within a day of year 1 or 9999: keep the wall-clock value
    return iso_utc(moment)


# --- documents ----------------------------------------------------------------------------------------------


def _user(user_id: str | None) -> dict[str, Any]:
    return {"data": {"id": user_id, "type": "users"} if user_id else None}


def resource(record: dict[str, Any], kind: InviteKind) -> dict[str, Any]:
    """One invite as a JSON:API resource object, attributes in MPDX's sorted order."""
    return {
        "id": record["id"],
        "type": kind.resource_type,
        "attributes": {
            "accepted_at": record["accepted_at"],
            "code": record["code"],
            "created_at": record["created_at"],
            "invite_user_as": record["invite_user_as"],
            "recipient_email": record["recipient_email"],
            "updated_at": record["updated_at"],
            "updated_in_db_at": record["updated_at"],
        },
        "relationships": {
            "accepted_by_user": _user(record["accepted_by_user"]),
            "cancelled_by_user": _user(record["cancelled_by_user"]),
            "invited_by_user": _user(record["invited_by_user"]),
        },
    }


def _is_active(record: dict[str, Any]) -> bool:
    return record["accepted_by_user"] is None and record["cancelled_by_user"] is None


# --- shared behaviour ---------------------------------------------------------------------------------------


def _negotiate() -> None:
    """406 unless the client accepts JSON:API (a missing ``Accept`` or ``*/*`` is fine)."""
    accept = request.headers.get("accept", "")
    if not _accepts_json_api(accept):
        raise ApiError(406, "The 'Accept' header must allow application/vnd.api+json")


@functools.lru_cache(maxsize=256)  # clients send the same few Accept headers over and over
def _accepts_json_api(accept: str) -> bool:
    if not accept.strip():
        return True
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        if media in ("*/*", "application/*", "application/vnd.api+json"):
            return True
    return False


def _parent(kind: InviteKind, parent_id: str) -> str:
    """The parent's id; any well-formed UUID names an existing parent."""
    try:
        return _canonical_uuid(parent_id)
    except ValueError:
        raise ApiError(404, f"Couldn't find {kind.parent_label} with 'id'={parent_id}") from None


@functools.lru_cache(maxsize=4096)  # the same parents are asked for again and again
def _canonical_uuid(text: str) -> str:
    return str(uuid.UUID(text))


def _invites(kind: InviteKind) -> Records:
    return session().table(kind.table)


def _find(kind: InviteKind, parent_id: str, invite_id: str) -> dict[str, Any]:
    parent_id = _parent(kind, parent_id)
    record = _invites(kind).get(invite_id)
    if record is None or record["parent_id"] != parent_id:
        raise ApiError(404, f"Couldn't find {kind.parent_label}::Invite with 'id'={invite_id}")
    return record


def _list(kind, parent_id, filter_, page, per_page, sort):
    _negotiate()
    parent_id = _parent(kind, parent_id)
    applied = {key: value for key, value in (filter_ or {}).items() if key == "invite_user_as"}
    field = (sort or "created_at").lstrip("-")
    total, shown = _invites(kind).page_where_equal(
        "parent_id",
        parent_id,
        keep=(lambda r: _is_active(r) and all(r.get(key) == value for key, value in applied.items()))
        if applied else _is_active,
        order=lambda r: (r[field], r["seq"]),
        reverse=bool(sort and sort.startswith("-")),
        start=(page - 1) * per_page,
        count=per_page,
    )
    return {
        "data": [resource(r, kind) for r in shown],
        "meta": {
            "pagination": {
                "page": page,
                "per_page": per_page,
                "total_count": total,
                "total_pages": math.ceil(total / per_page),
            },
            "sort": sort,
            "filter": applied,
        },
    }, 200


def _create(kind, parent_id, body, user):
    _negotiate()
    parent_id = _parent(kind, parent_id)
    attributes = body["data"]["attributes"]
    client_times = {
        name: parse_client_time(attributes[name])
        for name in ("created_at", "updated_at", "updated_in_db_at")
        if attributes.get(name) is not None
    }
    # An offline client sends the moment it made the invite; the invite is then dated from that moment.
    created_at = client_times.get("created_at") or client_times.get("updated_in_db_at") or now()
    updated_at = client_times.get("updated_at") or client_times.get("updated_in_db_at") or created_at
    store = session()
    record = {
        "id": str(uuid.uuid4()),
        "parent_id": parent_id,
        "seq": store.next_number(SEQUENCE),
        "accepted_at": None,
        "code": secrets.token_hex(32),
        "created_at": created_at,
        "invite_user_as": attributes.get("invite_user_as") or kind.default_role,
        "recipient_email": attributes["recipient_email"],
        "updated_at": updated_at,
        "accepted_by_user": None,
        "cancelled_by_user": None,
        "invited_by_user": caller_id(user),
    }
    store.table(kind.table).insert(record["id"], record)
    return {"data": resource(record, kind)}, 201


def _get(kind, parent_id, invite_id):
    _negotiate()
    return {"data": resource(_find(kind, parent_id, invite_id), kind)}, 200


def _cancel(kind, parent_id, invite_id, user):
    _negotiate()
    record = _find(kind, parent_id, invite_id)
    if record["cancelled_by_user"] is None:
        _invites(kind).update(record["id"], {"cancelled_by_user": caller_id(user), "updated_at": now()})
    return NoContent, 204


def _accept(kind, parent_id, invite_id, body, user):
    _negotiate()
    record = _find(kind, parent_id, invite_id)
    code = body["data"]["attributes"]["code"]  # the spec refuses a missing or blank one
    me = caller_id(user)
    if record["cancelled_by_user"] is not None:
        raise ApiError(410, "This invite has been cancelled")
    if record["accepted_by_user"] not in (None, me):
        raise ApiError(410, "This invite has already been accepted by another user")
    if not hmac.compare_digest(code.encode(), record["code"].encode()):
        raise ApiError(400, problems=[Problem("'data/attributes/code' is invalid", pointer="/data/attributes/code")])
    if record["accepted_by_user"] is None:
        stamp = now()
        record = _invites(kind).update(
            record["id"], {"accepted_at": stamp, "accepted_by_user": me, "updated_at": stamp}
        )
    return {"data": resource(record, kind)}, 200


# --- handlers (named as the spec's operationIds) -------------------------------------------------------------


async def list_account_list_invites(account_list_id, filter_=None, page=1, per_page=25, sort=None):
    return _list(ACCOUNT_LIST, account_list_id, filter_, page, per_page, sort)


async def create_account_list_invite(account_list_id, body, user):
    return _create(ACCOUNT_LIST, account_list_id, body, user)


async def get_account_list_invite(account_list_id, id_):
    return _get(ACCOUNT_LIST, account_list_id, id_)


async def delete_account_list_invite(account_list_id, id_, user):
    return _cancel(ACCOUNT_LIST, account_list_id, id_, user)


async def accept_account_list_invite(account_list_id, id_, body, user):
    return _accept(ACCOUNT_LIST, account_list_id, id_, body, user)


async def list_organization_invites(organization_id, filter_=None, page=1, per_page=25, sort=None):
    return _list(ORGANIZATION, organization_id, filter_, page, per_page, sort)


async def create_organization_invite(organization_id, body, user):
    return _create(ORGANIZATION, organization_id, body, user)


async def get_organization_invite(organization_id, id_):
    return _get(ORGANIZATION, organization_id, id_)


async def delete_organization_invite(organization_id, id_, user):
    return _cancel(ORGANIZATION, organization_id, id_, user)


async def accept_organization_invite(organization_id, id_, body, user):
    return _accept(ORGANIZATION, organization_id, id_, body, user)


# --- seed data: the documented examples ----------------------------------------------------------------------


def _documented_records() -> list[tuple[InviteKind, str, dict[str, Any]]]:
    """Every invite the documentation shows, with the parent its request was made under.

    Taken from the spec's ``documented`` examples so that the requests on the vendor's pages work verbatim:
    the listed and fetched invites as shown, the accepted one as it was before acceptance, and the cancelled
    one (the page shows only its ids) as an ordinary active invite.
    """
    spec = APIS["mpdx"].spec
    kinds = {ACCOUNT_LIST.parent: ACCOUNT_LIST, ORGANIZATION.parent: ORGANIZATION}
    found = []
    for method, path, operation in iter_operations(spec):
        kind = kinds[path.split("/")[3]]
        params = {p["name"]: p["examples"]["documented"]["value"] for p in operation.get("parameters", [])
                  if "examples" in p}
        parent_id = params.get("account_list_id") or params.get("organization_id")
        if method == "post":
            continue
        if method == "delete":
            found.append((kind, parent_id, _placeholder(kind, params["id"])))
            continue
        example = operation["responses"]["200"]["content"]["application/vnd.api+json"]["examples"]["documented"]
        data = example["value"]["data"]
        for item in data if isinstance(data, list) else [data]:
            record = _record_from_resource(item, parent_id)
            if path.endswith("/accept"):
                record.update(accepted_at=None, accepted_by_user=None)
            found.append((kind, parent_id, record))
    return found


def _record_from_resource(item: dict[str, Any], parent_id: str) -> dict[str, Any]:
    attributes, relationships = item["attributes"], item["relationships"]

    def user(name: str) -> str | None:
        data = relationships[name]["data"]
        return data["id"] if data else None

    return {
        "id": item["id"],
        "parent_id": parent_id,
        "accepted_at": attributes["accepted_at"],
        "code": attributes["code"],
        "created_at": attributes["created_at"],
        "invite_user_as": attributes["invite_user_as"],
        "recipient_email": attributes["recipient_email"],
        "updated_at": attributes["updated_at"],
        "accepted_by_user": user("accepted_by_user"),
        "cancelled_by_user": user("cancelled_by_user"),
        "invited_by_user": user("invited_by_user"),
    }


def _placeholder(kind: InviteKind, invite_id: str) -> dict[str, Any]:
    stamp = "2022-01-12T17:18:20Z"
    return {
        "id": invite_id,
        "accepted_at": None,
        "code": hashlib.sha256(invite_id.encode()).hexdigest(),
        "created_at": stamp,
        "invite_user_as": kind.default_role,
        "recipient_email": "invitee@example.com",
        "updated_at": stamp,
        "accepted_by_user": None,
        "cancelled_by_user": None,
        "invited_by_user": str(uuid.uuid5(USER_NAMESPACE, "seed")),
    }


def seed(store: Session) -> None:
    """The documented invites."""
    for kind, parent_id, record in _documented_records():
        record = {**record, "parent_id": parent_id, "seq": store.next_number(SEQUENCE)}
        store.table(kind.table).put(record["id"], record)


# --- state from a recording (`mockserver serve --seed-from`) ---------------------------------------------------

RECORDED_CANCELLER = str(uuid.uuid5(USER_NAMESPACE, "recorded-cancel"))
"""Who cancelled an invite, when the recording has no caller for the cancel (it had no credentials)."""


def records_from_exchange(exchange: RecordedExchange, state: SeedState) -> None:
    """Each invite a recorded success answer shows, as last seen, under the parent of the request's path.

    A list shows only active invites, a get, create or accept one invite in full; a cancel (204, no body)
    marks the invite it names as cancelled by the caller at the time of the answer. An invite first seen in a
    list gets its place in the order of that list, so that invites created in the same second keep their order.
    """
    kind = ACCOUNT_LIST if "account_list" in (exchange.operation or "") else ORGANIZATION
    try:
        parent_id = _canonical_uuid(exchange.path_parameters.get(f"{kind.parent.removesuffix('s')}_id", ""))
    except ValueError:
        return
    if exchange.method == "DELETE":
        record = state.get(kind.table, exchange.path_parameters.get("id", ""))
        if record is not None and record["parent_id"] == parent_id and record["cancelled_by_user"] is None:
            moment = datetime.fromisoformat(exchange.time.replace("Z", "+00:00"))
            record.update(cancelled_by_user=str(exchange.caller or RECORDED_CANCELLER), updated_at=iso_utc(moment))
            state.put(kind.table, record["id"], record)
        return
    body = exchange.response_json
    data = body.get("data") if isinstance(body, dict) else None
    for item in data if isinstance(data, list) else [data]:
        if not isinstance(item, dict) or item.get("type") != kind.resource_type:
            continue
        record = _record_from_resource(item, parent_id)
        previous = state.get(kind.table, record["id"])
        record["seq"] = previous["seq"] if previous is not None else state.next_number(SEQUENCE)
        state.put(kind.table, record["id"], record)
