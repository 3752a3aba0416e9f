"""GET endpoints: list (newest first, cursor, exact filters, q), detail, lookup by key, revocations."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.http import QueryDict
from django.utils import timezone

from authmon import registry
from authmon.selectors import log_search
from sessions_grants.models import Session
from tests.api.conftest import record


@pytest.fixture
def events(api_a):
    """25 events; five pairs share a timestamp, so paging must break ties by id."""
    batch = [
        record(
            "events",
            n // 2 if n < 10 else n,
            external_id=f"ev-{n}",
            event_type="login_failed" if n % 3 == 0 else "login",
            email=f"user{n % 4}@example.com",
            ip_address="203.0.113.7" if n % 5 == 0 else "198.51.100.1",
        )
        for n in range(25)
    ]
    assert api_a.ingest("events", batch).status_code == 201
    return batch


def test_cursor_walks_every_row_once_newest_first(api_a, events):
    seen: list[dict] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        body = api_a.list("events", **params).json()
        seen.extend(body["results"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 7
    assert len(seen) == len({r["id"] for r in seen}) == 25
    keys = [(r["created_on"], r["id"]) for r in seen]
    assert keys == sorted(keys, reverse=True)


def test_default_and_maximum_limit(api_a, events):
    assert len(api_a.list("events").json()["results"]) == 25
    assert api_a.list("events", limit=1000).status_code == 200
    for bad in (0, 1001, -1, "ten", "1.5", ""):
        response = api_a.list("events", limit=bad)
        if bad == "":
            assert response.status_code == 200
            continue
        assert response.status_code == 400, bad
        assert response.json()["param"] == "limit"


def test_exact_field_filters(api_a, events):
    body = api_a.list("events", event_type="login_failed", email="user0@example.com").json()
    expected = {e["external_id"] for i, e in enumerate(events) if i % 3 == 0 and i % 4 == 0}
    assert {r["external_id"] for r in body["results"]} == expected
    assert body["interpretation"] == "event type is login_failed AND email is user0@example.com"

    assert len(api_a.list("events", ip_address="203.0.113.7").json()["results"]) == 5
    assert api_a.list("events", external_id="ev-15").json()["results"][0]["external_id"] == "ev-15"
    one = api_a.list("events", external_id="ev-15").json()["results"][0]
    assert api_a.list("events", id=one["id"]).json()["results"] == [one]
    assert [r["id"] for r in api_a.list("events", created_on=one["created_on"]).json()["results"]] == [one["id"]]
    assert api_a.list("events", email="USER0@example.com").json()["results"] == []  # exact means exact


def test_empty_value_on_a_nullable_field_means_empty(api_a):
    api_a.ingest(
        "sessions",
        [
            record("sessions", 0, session_id="open"),
            record("sessions", 1, session_id="ends", expires_at="2027-01-01T00:00:00Z"),
        ],
    )
    body = api_a.list("sessions", expires_at="").json()
    assert [r["session_id"] for r in body["results"]] == ["open"]
    assert body["interpretation"] == "expires at is empty"


def test_a_naive_datetime_filter_is_utc(api_a):
    api_a.ingest("events", [record("events", 0, created_on="2026-11-19T08:00:00Z")])
    assert len(api_a.list("events", created_on="2026-11-19T08:00:00").json()["results"]) == 1
    assert len(api_a.list("events", created_on="2026-11-19T09:00:00+01:00").json()["results"]) == 1


@pytest.mark.parametrize(
    ("params", "param", "fragment"),
    [
        ({"colour": "red"}, "colour", "Unknown parameter 'colour'"),
        ({"tenant": "acme"}, "tenant", "Unknown parameter"),
        ({"details": "{}"}, "details", "holds JSON"),
        ({"event_type": "teleport"}, "event_type", "must be one of"),
        ({"ip_address": "999.1.1.1"}, "ip_address", "valid IP"),
        ({"created_on": "last tuesday"}, "created_on", "created_on"),
        ({"id": "x"}, "id", "id"),
        ({"id": str(2**70)}, "id", "id"),
        ({"email": "a" * 300}, "email", "at most 254"),
        ({"email": "a\x00b"}, "email", "NUL"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(api_a, params, param, fragment):
    response = api_a.list("events", **params)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "parameter"
    assert body["param"] == param
    assert fragment in body["message"], body["message"]


def test_repeated_parameter_is_400(api_a):
    response = api_a.get("/api/v1/events/?email=a&email=b")
    assert response.status_code == 400
    assert response.json()["param"] == "email"


def test_bad_cursor_is_400(api_a, events):
    response = api_a.list("events", cursor="not-a-cursor")
    assert response.status_code == 400
    assert response.json()["error"] == "cursor"
    # a cursor from a listing sorted by another field is refused too
    audit_cursor_owner = api_a.list("events", limit=1).json()["next_cursor"]
    assert api_a.list("audit", cursor=audit_cursor_owner).status_code == 400


def test_detail_and_lookup_by_key(api_a):
    api_a.ingest("sessions", [record("sessions", 0, session_id="abc/def==", email="x@example.com")])
    by_key = api_a.get("/api/v1/sessions/by-session-id/abc/def==/")
    assert by_key.status_code == 200
    assert by_key.json()["email"] == "x@example.com"
    assert api_a.get(f"/api/v1/sessions/{by_key.json()['id']}/").json() == by_key.json()
    assert api_a.get("/api/v1/sessions/by-session-id/nope/").status_code == 404
    assert api_a.get("/api/v1/sessions/999999/").status_code == 404
    assert api_a.get(f"/api/v1/sessions/{2**64}/").status_code == 404
    assert api_a.get("/api/v1/sessions/0/").status_code == 404
    assert api_a.get("/api/v1/sessions/abc/").status_code == 404
    api_a.ingest("grants", [record("grants", 0, grant_id="g-1")])
    assert api_a.get("/api/v1/grants/by-grant-id/g-1/").json()["grant_id"] == "g-1"


def test_unknown_kind_is_404(api_a):
    response = api_a.get("/api/v1/widgets/")
    assert response.status_code == 404
    assert "Unknown record kind 'widgets'" in response.json()["detail"]
    assert api_a.ingest("widgets", []).status_code == 404
    assert "end with a slash" in api_a.get("/api/v1/events").json()["detail"]
    assert api_a.post("/api/v1/events", data="[]", content_type="application/json").status_code == 404


# ------------------------------------------------------------------------------------------------ revocations


def _revoke(api, kind: str, key: str, value: str) -> None:
    extra = {"protocol": "OIDC"} if kind == "sessions" else {}
    assert api.ingest(kind, [{key: value, "status": "revoked", **extra}]).json()["updated"] == 1


def test_revocations_oldest_first_with_since_limit_and_cursor(api_a):
    api_a.ingest("sessions", [record("sessions", n, session_id=f"s{n}", user_id=f"u{n}") for n in range(3)])
    api_a.ingest("grants", [record("grants", n, grant_id=f"g{n}", session_id=f"s{n}") for n in range(2)])
    api_a.ingest("sessions", [record("sessions", 9, session_id="never-revoked")])
    start = timezone.now()
    order = [
        ("sessions", "session_id", "s1"),
        ("grants", "grant_id", "g0"),
        ("sessions", "session_id", "s0"),
        ("grants", "grant_id", "g1"),
        ("sessions", "session_id", "s2"),
    ]
    for kind, key, value in order:
        _revoke(api_a, kind, key, value)

    body = api_a.get("/api/v1/revocations/").json()
    assert [r.get("session_id") if r["type"] == "session" else r["grant_id"] for r in body["results"]] == [
        "s1",
        "g0",
        "s0",
        "g1",
        "s2",
    ]
    grant = body["results"][1]
    assert set(grant) == {"type", "id", "grant_id", "session_id", "user_id", "email", "revoked_at"}
    assert grant["session_id"] == "s0"
    session = body["results"][0]
    assert set(session) == {"type", "id", "session_id", "user_id", "email", "revoked_at"}
    assert session["user_id"] == "u1"
    assert body["next_cursor"] is None
    assert body["next_since"] == body["results"][-1]["revoked_at"]

    walked, cursor = [], None
    while True:
        page = api_a.get("/api/v1/revocations/", {"limit": 2, **({"cursor": cursor} if cursor else {})}).json()
        walked += page["results"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert walked == body["results"]

    since = body["results"][2]["revoked_at"]
    later = api_a.get("/api/v1/revocations/", {"since": since}).json()["results"]
    assert [r["id"] for r in later] == [r["id"] for r in body["results"][2:]]  # since is inclusive
    future = (start + dt.timedelta(days=1)).isoformat()
    assert api_a.get("/api/v1/revocations/", {"since": future}).json() == {
        "results": [],
        "next_cursor": None,
        "next_since": future.replace("+00:00", "Z"),
    }


def test_revocations_default_window_is_24_hours(api_a):
    api_a.ingest("sessions", [record("sessions", 0, session_id="old")])
    _revoke(api_a, "sessions", "session_id", "old")
    Session.objects.update(revoked_at=timezone.now() - dt.timedelta(days=2))
    assert api_a.get("/api/v1/revocations/").json()["results"] == []
    assert len(api_a.get("/api/v1/revocations/", {"since": "2000-01-01"}).json()["results"]) == 1


def test_revocations_since_with_an_unencoded_plus(api_a):
    assert api_a.get("/api/v1/revocations/?since=2026-11-19T08:00:00+02:00").status_code == 200


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"since": "2026-13-01"},
        {"since": ""},
        {"cursor": "garbage"},
        {"limit": "0"},
        {"kind": "sessions"},
    ],
)
def test_revocations_bad_parameters(api_a, params):
    response = api_a.get("/api/v1/revocations/", params)
    assert response.status_code == 400
    assert response.json()["param"] == next(iter(params))


# -------------------------------------------------------------------------------------------------------- q


def test_q_filters_and_explains(api_a, events):
    """The real query language: the question and a plain filter together, and the interpretation says both."""
    body = api_a.list("events", q="failed logins", email="user0@example.com").json()
    assert {r["external_id"] for r in body["results"]} == {"ev-0", "ev-12", "ev-24"}
    assert "login failed" in body["interpretation"] and "user0@example.com" in body["interpretation"]


def test_q_that_cannot_be_understood(api_a):
    response = api_a.list("events", q="colour is red")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "query"
    assert "colour" in body["message"]
    assert isinstance(body["position"], int) and isinstance(body["suggestions"], list)


def test_values_the_database_refuses_are_not_a_500(api_a, events):
    response = api_a.list("events", q="failed logins by a\x00b@example.com")
    assert response.status_code == 400  # a NUL is refused before any query runs
    assert response.json()["param"] == "q"


def test_q_too_long(api_a):
    response = api_a.list("events", q="x" * 1001)
    assert response.status_code == 400
    assert response.json() == {
        "error": "query",
        "message": "The question is longer than 1000 characters.",
        "position": 1000,
        "suggestions": [],
    }


@pytest.mark.parametrize("question", ["colour is red", "failed logins from", "x" * 5000])
def test_the_page_and_the_api_refuse_a_question_alike(api_a, tenant_admin, question):
    """One reader of questions (authmon.questions): the API's 400 body says what the list page says."""
    search = log_search(registry.get("events"), tenant_admin, QueryDict(urlencode({"q": question})))
    body = api_a.list("events", q=question).json()
    assert body == {"error": "query", **search.question_error.as_dict()}
    assert not search.runnable


def test_q_with_the_real_query_language(api_a, events):
    body = api_a.list("events", q="event type is login_failed", limit=1000).json()
    assert {r["event_type"] for r in body["results"]} == {"login_failed"}
    assert len(body["results"]) == 9


def test_time_order_uses_the_kind_time_field(api_a):
    api_a.ingest("audit", [record("audit", 5, external_id="later"), record("audit", 1, external_id="earlier")])
    assert [r["external_id"] for r in api_a.list("audit").json()["results"]] == ["later", "earlier"]


def test_the_public_api_description_has_no_internal_markup(client, db):  # each request is one transaction
    """The OpenAPI description is read by people on /api/v1/docs: no Sphinx roles such as :mod:`...`."""
    description = client.get("/api/v1/openapi.json").json()["info"]["description"]
    assert ":mod:" not in description and ":func:" not in description and ":class:" not in description
