"""The admin API (/__admin), sessions, CORS and latency: the mock's own controls."""

from __future__ import annotations

import time
import uuid

import pytest

LIST = "/api/v2/account_lists/68683b2d-3585-42f2-94f3-e1c366cf8177/invites"
SEEDED_INVITE = "53af07af-76b9-470b-b1d4-9be69aac6ba1"
JSONAPI = {"Content-Type": "application/vnd.api+json"}


def create_invite(client, parent: str | None = None, headers: dict | None = None) -> str:
    parent = parent or "68683b2d-3585-42f2-94f3-e1c366cf8177"
    response = client.post(
        f"/api/v2/account_lists/{parent}/invites",
        json={"data": {"type": "account_list_invites", "attributes": {"recipient_email": "x@example.com"}}},
        headers={**JSONAPI, **(headers or {})},
    )
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def listed(client, headers: dict | None = None) -> list[str]:
    response = client.get(LIST, headers=headers or {})
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["data"]]


@pytest.fixture
def mpdx(serve):
    return serve("mpdx")


def admin(client, method: str, path: str, **kwargs):
    return client.request(method, f"http://127.0.0.1/__admin{path}", **kwargs)


def test_health_names_the_served_apis(mpdx):
    response = admin(mpdx, "GET", "/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "mpdx" in response.json()["apis"]


def test_reset_brings_back_the_seed_data(mpdx):
    created = create_invite(mpdx)
    mpdx.delete(f"{LIST}/{SEEDED_INVITE}")
    assert listed(mpdx) == [created]
    assert admin(mpdx, "POST", "/reset").status_code == 200
    assert listed(mpdx) == [SEEDED_INVITE]


def test_reset_touches_only_the_callers_session(mpdx):
    mine = create_invite(mpdx, headers={"X-Mock-Session": "mine"})
    admin(mpdx, "POST", "/reset")
    assert mine in listed(mpdx, headers={"X-Mock-Session": "mine"})


def test_journal_lists_recent_requests_with_status_and_session(mpdx):
    mpdx.get(LIST, headers={"X-Mock-Session": "journal-test"})
    mpdx.get(LIST + "/not-there", headers={"X-Mock-Session": "journal-test"})
    entries = admin(mpdx, "GET", "/requests", params={"session": "journal-test"}).json()["requests"]
    mount = mpdx.base_url.path.rstrip("/")
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("GET", mount + LIST, 200),
        ("GET", mount + LIST + "/not-there", 404),
    ]
    assert all(e["session"] == "journal-test" and e["ms"] >= 0 and e["time"].endswith("Z") for e in entries)


def test_journal_can_be_cleared(mpdx):
    mpdx.get(LIST)
    assert admin(mpdx, "DELETE", "/requests").status_code == 204
    assert admin(mpdx, "GET", "/requests").json()["requests"] == []


def test_state_export_then_import_restores_the_session(mpdx):
    created = create_invite(mpdx)
    snapshot = admin(mpdx, "GET", "/state").json()
    mpdx.delete(f"{LIST}/{created}")
    create_invite(mpdx)
    restored = admin(mpdx, "PUT", "/state", json=snapshot)
    assert restored.status_code == 200
    assert sorted(listed(mpdx)) == sorted([SEEDED_INVITE, created])


def test_state_snapshot_moves_between_sessions(mpdx):
    created = create_invite(mpdx)
    snapshot = admin(mpdx, "GET", "/state").json()
    admin(mpdx, "PUT", "/state", json=snapshot, headers={"X-Mock-Session": "copy"})
    assert created in listed(mpdx, headers={"X-Mock-Session": "copy"})


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"tables": {"t": [1]}}', b'{"tables": {}, "counters": {"a": "x"}}'])
def test_importing_something_that_is_not_a_snapshot_is_400_and_keeps_the_state(mpdx, body):
    created = create_invite(mpdx)
    response = admin(mpdx, "PUT", "/state", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["status"] == 400
    assert created in listed(mpdx)


def test_sessions_do_not_see_each_others_records(mpdx):
    ours = create_invite(mpdx, headers={"X-Mock-Session": "team-a"})
    assert ours in listed(mpdx, headers={"X-Mock-Session": "team-a"})
    assert ours not in listed(mpdx, headers={"X-Mock-Session": "team-b"})
    assert ours not in listed(mpdx)
    other = mpdx.get(f"{LIST}/{ours}", headers={"X-Mock-Session": "team-b"})
    assert other.status_code == 404


def test_a_new_session_starts_with_the_seed_data(mpdx):
    assert listed(mpdx, headers={"X-Mock-Session": f"new-{uuid.uuid4().hex[:8]}"}) == [SEEDED_INVITE]


def test_a_malformed_session_name_is_400_in_the_vendors_format(mpdx):
    response = mpdx.get(LIST, headers={"X-Mock-Session": "../../etc"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["status"] == "400"


def test_without_seed_sessions_start_empty(serve):
    client = serve("mpdx", seed=False)
    assert listed(client) == []


def test_cors_preflight_from_another_localhost_port_is_allowed(mpdx):
    response = mpdx.options(LIST, headers={
        "Origin": "http://localhost:3000",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, x-mock-session",
    })
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


def test_cors_headers_are_on_answers_too(mpdx):
    response = mpdx.get(LIST, headers={"Origin": "http://localhost:3000"})
    assert response.headers["access-control-allow-origin"] == "http://localhost:3000"


def test_latency_option_delays_answers(serve):
    client = serve("mpdx", latency_ms=150)
    started = time.perf_counter()
    client.get(LIST)
    assert time.perf_counter() - started >= 0.15


def test_prefer_delay_delays_one_answer(mpdx):
    started = time.perf_counter()
    mpdx.get(LIST, headers={"Prefer": "delay=120"})
    assert time.perf_counter() - started >= 0.12


def test_unknown_path_in_an_api_is_404_in_that_vendors_format(mpdx):
    response = mpdx.get("/api/v2/nothing-here")
    assert response.status_code == 404
    assert response.json()["errors"][0]["status"] == "404"


@pytest.mark.parametrize(("api", "path", "allowed"), [
    ("mpdx", "/api/v2/account_lists/68683b2d-3585-42f2-94f3-e1c366cf8177/invites", "GET, POST"),
    ("mpdx", "/api/v2/account_lists/68683b2d-3585-42f2-94f3-e1c366cf8177/invites/x/accept", "PUT"),
    ("rootfi", "/core/invite_links/1", "GET, PUT"),
    ("torii", "/services/sync/custom", "PUT"),
])
def test_an_undocumented_method_is_405_listing_the_documented_ones(serve, api, path, allowed):
    response = serve(api).request("PATCH", path)
    assert response.status_code == 405
    assert response.headers["allow"] == allowed
