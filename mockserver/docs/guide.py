"""The few words the specs cannot say: what each API is for, in a line, and the rules the mock enforces.

The specs describe each rule in the description of the operation it belongs to; a reader building a
frontend also wants them in one place, per API, next to how to break them on purpose. Each rule names
the status the mock answers, so this list and the mock's tests tell the same story. Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Guide:
    purpose: str
    """One line for the index: what the API does."""
    mock_auth: str
    """What credential the mock accepts (Markdown)."""
    rules: tuple[str, ...]
    """The state and validation rules the mock enforces (Markdown, one rule each)."""


GUIDES: dict[str, Guide] = {
    "rootfi": Guide(
        purpose="Invite links a company uses to connect its accounting, payments, CRM or e-commerce tools.",
        mock_auth="Any non-blank `api_key` header is accepted (unless the mock was started with `--token`).",
        rules=(
            "**Credentials**: a missing or blank `api_key` header is a `401` (`UNAUTHORIZED`).",
            "**Create** answers `200` (not `201`) with the new link; ids count up from the seeded link `\"1\"`, "
            "and `connections` stays `null` (no endpoint connects software).",
            "**Partial update**: `PUT` replaces `integration_categories` and every optional field *present* in "
            "the body; a field left out keeps its value, an explicit `null` clears it.",
            "**Timestamps**: `rootfi_created_at` never changes; `rootfi_updated_at` moves forward on every "
            "update, by at least a millisecond.",
            "**Company**: `company_name` creates the company, renames it, or (with `null`) removes it.",
            "**Cursor pagination**: the list is ordered by `rootfi_id`; pass the page's `next` back as `?next=` "
            "for the following page. `next` is `null` on the last page; a cursor the mock did not hand out is "
            "a `400`. `limit` is 1 to 100 (default 20).",
            "**Validation**: a body that breaks `InviteLinkInput` is a `400` whose `details` list every problem "
            "with its place; a body that is not `application/json` is a `415`; an unknown id is a `404`.",
        ),
    ),
    "mpdx": Guide(
        purpose="Invites to an account list (as user or coach) and to an organization (as admin), in JSON:API.",
        mock_auth="Any non-blank bearer token (or `access_token`) is accepted; a JWT whose `user_id` or `sub` "
                  "is a UUID acts as that user, any other token as a user of its own.",
        rules=(
            "**Accept needs the invite's code**: send the `code` the invite was created with. A blank code or a "
            "wrong one is a `400`.",
            "**Gone**: accepting a cancelled invite, or one someone else already accepted, is a `410`; the same "
            "user accepting again gets `200` and the invite.",
            "**Lists show active invites only**: accepted and cancelled invites leave the list, but fetching one "
            "by id still finds it, in any state.",
            "**Cancel is soft**: `DELETE` answers `204` and sets `cancelled_by_user`; the invite stays readable.",
            "**Parents**: any UUID is an existing account list or organization; an invite is found only under "
            "its own parent (`404` elsewhere).",
            "**JSON:API**: a request body that is not `application/vnd.api+json` is a `415`; a `data.type` other "
            "than the endpoint's resource type is a `409`; an `Accept` that excludes JSON:API is a `406`.",
            "**Pagination and sort**: `page` and `per_page` (default 25); `sort` is one of `created_at`, "
            "`updated_at`, optionally with a leading `-`; anything else is a `400`.",
        ),
    ),
    "torii": Guide(
        purpose="Upload a custom-integration data file (an app's users and licenses) and sync it into Torii.",
        mock_auth="Any non-blank bearer token is accepted (unless the mock was started with `--token`).",
        rules=(
            "**Upload then sync**: upload with type `customIntegrationData`, then `PUT /services/sync/custom` "
            "with the returned id. Any positive `idAppAccount` is an existing app account.",
            "**File checks** (at sync time): a file of another type, a file that is not valid JSON, or one that "
            "breaks the `CustomIntegrationData` schema is a `400` whose message says what and where.",
            "**Size**: an uploaded file over 3 MB is a `413`.",
            "**One sync at a time**: a sync runs for `--sync-seconds` (2 by default); another sync meanwhile is "
            "a `409`.",
            "**Rate limit**: 200 requests a minute per token (`--rate-limit`); every answer carries "
            "`X-Rate-Limit-Limit`, `-Remaining` and `-Reset`, and the request over the limit gets `429` with "
            "`Retry-After`.",
            "**Unknown file**: a file id that was never uploaded in this session is a `404`.",
        ),
    ),
}

MOCK_CONTROLS: tuple[str, ...] = (
    "**Seed data**: every session starts with the records of the documented examples, so the vendors' own "
    "requests work verbatim (unless the mock runs with `--no-seed`).",
    "**`Prefer: code=404`** answers the operation's documented 404 example without touching state; "
    "`Prefer: example=NAME` picks a named example; `Prefer: delay=500` slows one answer down.",
    "**`X-Mock-Session: NAME`** gives a caller its own state, seeded on first use.",
    "**`/__admin`**: `GET /__admin/health`, `POST /__admin/reset`, `GET /__admin/requests` (the journal), "
    "`GET`/`PUT /__admin/state` (snapshots).",
)
