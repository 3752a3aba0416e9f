"""No input makes the API answer 500: garbage thrown at every path in the OpenAPI schema, plus random records."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from authmon import registry
from authmon.ingest import input_fields
from tests.api.conftest import KINDS, ApiClient, make_client, record

PATH_VALUES = [
    "1",
    "0",
    "-1",
    "abc",
    "9" * 30,
    "%00",
    "%FF%FE",
    "..",
    "a%2Fb",
    "%F0%9F%92%A5",
    "'%20OR%201=1--",
    "x" * 300,
]
QUERIES = [
    "",
    "q=",
    "q=%00",
    "q=" + "x" * 2000,
    "q=event%20type%20is%20login",
    "limit=1e9",
    "limit=-5",
    "limit=%00",
    "cursor=..%2F..",
    "cursor=" + "A" * 500,
    "cursor=%ED%A0%80",
    "since=%00",
    "since=9999-12-31T23:59:59-14:00",
    "since=0001-01-01T00:00:00%2B14:00",
    "a[]=1&=x&&&",
    "email=%ED%A0%80",
    "created_on=0001-01-01T00:00:00%2B05:00",
    "expires_at=99999-01-01",
    "id=-1",
    "id=" + "9" * 40,
    "ip_address=::ffff:999.1.1.1",
    "status=active&status=revoked",
    "details=%7B%7D",
]
BODIES = [
    b"",
    b"[]",
    b"{}",
    b"[{}]",
    b"[null]",
    b"[[]]",
    b"[1, 2, 3]",
    b"true",
    b"\x00\x01\x02",
    b"\xff\xfe\xfd",
    b"[" * 5000,
    b"]",
    b'[{"external_id": "\\u0000"}]',
    b'[{"external_id": "\\ud800"}]',
    b'[{"\\ud800": 1}]',
    b'[{"\\u0000": 1}]',
    b'[{"details": {"\\u0000": "x"}}]',
    b'[{"old_entity": {"a": "\\udfff"}}]',
    b'[{"created_on": "2026-01-01T00:00:00+99:00"}]',
    b'[{"timestamp": "-0001-01-01"}]',
    b'[{"external_id": 1e400}]',
    b'[{"external_id": -Infinity}]',
    b'{"a": 1}\n{"b": 2}\n[',
    b'\n\n{"event_type": "login"}\n\n',
    json.dumps([{"details": {"a" * 10: list(range(50))}}] * 50).encode(),
]
CONTENT_TYPES = [
    "application/json",
    "application/x-ndjson",
    "text/plain",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
]


def _templates(client) -> list[str]:
    return [*client.get("/api/v1/openapi.json").json()["paths"], "/api/v1/", "/api/v1/docs", "/api/v1/{x}/"]


def _fill(template: str, value: str) -> str:
    return re.sub(r"{[^}]+}", value, template)


@pytest.mark.parametrize("authorized", [True, False])
def test_garbage_at_every_endpoint_never_answers_500(tenant_a, authorized):
    client = make_client(tenant_a, ["ingest", "read"]) if authorized else ApiClient("amt_wrong")
    for kind in KINDS:  # something to find, so that lookups reach the database
        client.ingest(kind, [record(kind, 0, external_id="e")])
    for template in _templates(client):
        for value in PATH_VALUES:
            for method in ("get", "put", "patch", "delete", "head", "options"):
                response = getattr(client, method)(_fill(template, value))
                assert response.status_code < 500, (method, template, value, response.content[:300])
        for query in QUERIES:
            response = client.get(f"{_fill(template, '1')}?{query}")
            assert response.status_code < 500, (template, query, response.content[:300])
    for kind in [*KINDS, "revocations", "nope"] if authorized else ["events"]:
        for body in BODIES:
            for content_type in CONTENT_TYPES:
                response = client.post(f"/api/v1/{kind}/", data=body, content_type=content_type)
                assert response.status_code < 500, (kind, body[:80], content_type, response.content[:300])


def test_garbage_without_a_trailing_slash_or_with_odd_methods(api_a):
    assert api_a.post("/api/v1/events", data=b"[]", content_type="application/json").status_code == 404
    assert api_a.delete("/api/v1/events/").status_code == 405
    assert api_a.put("/api/v1/events/1/").status_code == 405


JSON_LEAF = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["2026-11-19T08:00:00Z", "2026-11-19", "::1", "203.0.113.9", "revoked", "OIDC", "login", ""])
)
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@st.composite
def mutated_batches(draw):
    kind = draw(st.sampled_from(KINDS))
    names = [f.name for f in input_fields(registry.get(kind))] + ["tenant", "diff", "revoked_at", "id", "x"]
    batch = []
    for n in range(draw(st.integers(min_value=0, max_value=3))):
        item = record(kind, n)
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            name = draw(st.sampled_from(names) | st.text(max_size=10))
            if draw(st.booleans()):
                item.pop(name, None)
            else:
                item[name] = draw(JSON_VALUE)
        batch.append(item if draw(st.integers(0, 9)) else draw(JSON_VALUE))
    return kind, batch


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mutated_batches())
def test_random_records_are_stored_or_refused_never_500(api_a, kind_and_batch):
    kind, batch = kind_and_batch
    response = api_a.ingest(kind, batch)
    assert response.status_code in (201, 400), response.content[:500]
    if response.status_code == 400:
        errors = response.json()["errors"]
        assert errors and all(set(e) == {"index", "field", "message"} and e["message"] for e in errors)
    if response.status_code == 201:
        listed = api_a.list(kind, limit=1000)
        assert listed.status_code == 200


def test_openapi_schema_renders_and_lists_every_path(db):
    response = ApiClient().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for kind in registry.kinds():
        assert set(paths[f"/api/v1/{kind.name}/"]) == {"get", "post"}
        assert set(paths[f"/api/v1/{kind.name}/{{record_id}}/"]) == {"get"}
        body = paths[f"/api/v1/{kind.name}/"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body["maxItems"] == 10_000
        item = body["items"]
        assert item["additionalProperties"] is False
        assert "tenant" not in item["properties"] and "id" not in item["properties"]
        assert not set(kind.computed_fields) & set(item["properties"])
        filters = {p["name"] for p in paths[f"/api/v1/{kind.name}/"]["get"]["parameters"]}
        assert {"q", "limit", "cursor", "external_id", kind.time_field} <= filters
    assert "/api/v1/sessions/by-session-id/{session_id}/" in paths
    assert "/api/v1/grants/by-grant-id/{grant_id}/" in paths
    assert "/api/v1/revocations/" in paths
    assert (
        paths["/api/v1/events/"]["post"]["requestBody"]["content"]["application/json"]["schema"]["items"]["properties"][
            "event_type"
        ]["enum"][0]
        == "login"
    )
    assert schema["components"]["securitySchemes"]["ApiTokenAuth"] == {"type": "http", "scheme": "bearer"}


LIST_PARAMS = [
    "q",
    "q",
    "limit",
    "cursor",
    "id",
    "external_id",
    "email",
    "status",
    "created_at",
    "timestamp",
    "created_on",
    "ip_address",
    "expires_at",
    "latest_status",
    "details",
    "revoked_at",
]
LIST_VALUES = [
    "",
    "1",
    "-1",
    "2026-11-19",
    "::1",
    "9" * 25,
    "event type is login",
    "failed logins in the last 7 days",
    "user 123",
    "id > 99999999999999999999999",
    "created on after 9999-12-31",
    "status is one of (a, b or",
    "(((((((((( x",
    "not not not",
    "before 0001-01-01",
    "in the last 99999999999 days",
]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    kind=st.sampled_from(KINDS),
    params=st.dictionaries(
        st.sampled_from(LIST_PARAMS) | st.text(max_size=6),
        st.text(max_size=40) | st.sampled_from(LIST_VALUES),
        max_size=3,
    ),
)
def test_random_list_parameters_never_500(api_a, kind, params):
    response = api_a.list(kind, **params)
    assert response.status_code in (200, 400), (params, response.content[:300])
