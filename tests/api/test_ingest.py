"""POST /api/v1/{kind}/ and the records_ingest service: atomic batches, duplicates, upserts, bad input, limits."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import override_settings

from audit.models import AuditLog
from authmon import ingest, registry
from authmon.ingest import IngestResult, IngestValidationError, records_ingest
from sessions_grants.models import Grant, Session
from tests.api.conftest import KINDS, UPSERT_KINDS, make_client, record


def count(kind: str, tenant=None) -> int:
    qs = registry.get(kind).model.objects.all()
    return qs.filter(tenant=tenant).count() if tenant else qs.count()


@pytest.mark.parametrize("kind", KINDS)
def test_create_and_read_back_every_kind(api_a, tenant_a, kind):
    records = [record(kind, n, external_id=f"{kind}-{n}") for n in range(3)]
    response = api_a.ingest(kind, records)
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 3, "duplicates": 0, "updated": 0, "kept_revoked": 0}

    listed = api_a.list(kind).json()
    assert [r["external_id"] for r in listed["results"]] == [f"{kind}-{n}" for n in (2, 1, 0)]  # newest first
    first = listed["results"][-1]
    assert first["tenant"] == tenant_a.slug
    for name, value in records[0].items():
        assert first[name] == (value.replace("+00:00", "Z") if isinstance(value, str) else value)
    detail = api_a.get(f"/api/v1/{kind}/{first['id']}/")
    assert detail.status_code == 200
    assert detail.json() == first


def test_one_bad_record_rejects_the_whole_batch(api_a):
    records = [record("events", n) for n in range(5)]
    records[3]["event_type"] = "teleport"
    response = api_a.ingest("events", records)
    assert response.status_code == 400
    body = response.json()
    assert body["error_count"] == 1
    [error] = body["errors"]
    assert error["index"] == 3
    assert error["field"] == "event_type"
    assert "'login'" in error["message"]
    assert count("events") == 0


def test_every_problem_is_reported_with_index_and_field(api_a):
    records = [
        record("jobs", 0, latest_status="done"),
        {"job_name": "x", "job_type": "trim"},  # job_id missing
        record("jobs", 2, created_at="yesterday"),
        record("jobs", 3, details=[1, 2]),
        record("jobs", 4, job_id=7),
        "not an object",
    ]
    body = api_a.ingest("jobs", records).json()
    found = {(e["index"], e["field"]) for e in body["errors"]}
    assert found == {(0, "latest_status"), (1, "job_id"), (2, "created_at"), (3, "details"), (4, "job_id"), (5, None)}
    messages = {(e["index"], e["field"]): e["message"] for e in body["errors"]}
    assert messages[(1, "job_id")] == "This field is required."
    assert "JSON object" in messages[(5, None)]
    assert "valid string" in messages[(4, "job_id")]
    assert count("jobs") == 0


def test_errors_are_capped_but_counted(api_a):
    records = [{"event_type": "nope"} for _ in range(150)]
    body = api_a.ingest("events", records).json()
    assert len(body["errors"]) == 100
    assert body["error_count"] == 150


def test_the_same_batch_twice_is_stored_once(api_a):
    records = [record("notifications", n, external_id=f"mail-{n}") for n in range(4)]
    first, again = (api_a.ingest("notifications", records).json() for _ in range(2))
    assert first == {"created": 4, "duplicates": 0, "updated": 0, "kept_revoked": 0}
    assert again == {"created": 0, "duplicates": 4, "updated": 0, "kept_revoked": 0}
    assert count("notifications") == 4


def test_duplicates_within_a_batch_and_records_without_external_id(api_a):
    records = [record("events", 0, external_id="x"), record("events", 1, external_id="x"), record("events", 2)]
    assert api_a.ingest("events", records).json() == {"created": 2, "duplicates": 1, "updated": 0, "kept_revoked": 0}
    # without external_id there is no idempotency key: the record is new every time
    assert api_a.ingest("events", [record("events", 2)]).json()["created"] == 1


def test_external_ids_are_per_tenant(api_a, api_b, tenant_a, tenant_b):
    records = [record("audit", 0, external_id="same")]
    assert api_a.ingest("audit", records).json()["created"] == 1
    assert api_b.ingest("audit", records).json()["created"] == 1
    assert count("audit", tenant_a) == count("audit", tenant_b) == 1


@pytest.mark.parametrize("kind", UPSERT_KINDS)
def test_upsert_changes_status_and_records_the_revocation(api_a, kind):
    key = registry.get(kind).upsert_key
    model = registry.get(kind).model
    original = record(kind, 0, **{key: "k-1"}, user_id="u-7", email="ann@example.com")
    assert api_a.ingest(kind, [original]).json() == {"created": 1, "duplicates": 0, "updated": 0, "kept_revoked": 0}
    assert api_a.ingest(kind, [original]).json() == {"created": 0, "duplicates": 1, "updated": 0, "kept_revoked": 0}
    row = model.objects.get()
    assert row.status == "active" and row.revoked_at is None

    # Only the key, the required fields and the change: fields left out keep their values.
    change = {key: "k-1", "status": "revoked"}
    if kind == "sessions":
        change["protocol"] = "OIDC"
    assert api_a.ingest(kind, [change]).json() == {"created": 0, "duplicates": 0, "updated": 1, "kept_revoked": 0}
    row.refresh_from_db()
    assert row.status == "revoked"
    assert row.revoked_at is not None
    assert row.email == "ann@example.com"
    assert row.created_at.isoformat() == original["created_at"]
    revoked_at = row.revoked_at

    # revoking again changes nothing, and revoked_at keeps the first revocation time
    assert api_a.ingest(kind, [change]).json() == {"created": 0, "duplicates": 1, "updated": 0, "kept_revoked": 0}
    row.refresh_from_db()
    assert row.revoked_at == revoked_at
    assert model.objects.count() == 1

    feed = api_a.get("/api/v1/revocations/").json()["results"]
    assert [(r["type"], r[key], r["user_id"], r["email"]) for r in feed] == [
        (model._meta.model_name, "k-1", "u-7", "ann@example.com")
    ]


def test_created_and_revoked_in_one_batch(api_a):
    batch = [
        record("sessions", 0, session_id="s-1"),
        record("sessions", 0, session_id="s-1", status="revoked"),
        record("sessions", 1, session_id="s-2", status="revoked"),
    ]
    assert api_a.ingest("sessions", batch).json() == {"created": 2, "duplicates": 0, "updated": 1, "kept_revoked": 0}
    assert set(Session.objects.values_list("session_id", "status")) == {("s-1", "revoked"), ("s-2", "revoked")}
    assert Session.objects.filter(revoked_at__isnull=True).count() == 0


def test_upsert_keeps_an_existing_external_id(api_a):
    api_a.ingest("grants", [record("grants", 0, grant_id="g", external_id="first")])
    result = api_a.ingest("grants", [record("grants", 0, grant_id="g", external_id="second", status="expired")])
    assert result.json() == {"created": 0, "duplicates": 0, "updated": 1, "kept_revoked": 0}
    grant = Grant.objects.get()
    assert (grant.external_id, grant.status) == ("first", "expired")
    # replaying the first record is a duplicate by external_id: it does not undo the later change
    assert api_a.ingest("grants", [record("grants", 0, grant_id="g", external_id="first")]).json()["duplicates"] == 1
    grant.refresh_from_db()
    assert grant.status == "expired"


def test_revoked_at_cannot_be_sent(api_a):
    response = api_a.ingest("sessions", [record("sessions", 0, revoked_at="2026-01-01T00:00:00Z")])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "revoked_at"
    assert "set by authmon" in response.json()["errors"][0]["message"]


def test_audit_diff_is_computed_on_ingest(api_a):
    entry = record(
        "audit",
        0,
        action="update IdentityProvider",
        old_entity={"name": "Google", "scopes": ["openid", "profile"], "config": {"timeout": 30}},
        new_entity={"name": "Google Workspace", "scopes": ["openid"], "config": {"timeout": 60}, "secret": "***"},
    )
    assert api_a.ingest("audit", [entry]).status_code == 201
    assert AuditLog.objects.get().diff == {
        "name": {"_old": "Google", "_new": "Google Workspace"},
        "scopes": {"_old": ["openid", "profile"], "_new": ["openid"]},
        "config": {"timeout": {"_old": 30, "_new": 60}},
        "secret__added": "***",
    }
    shown = api_a.list("audit").json()["results"][0]
    assert shown["diff"]["config"] == {"timeout": {"_old": 30, "_new": 60}}


def test_a_client_sent_diff_is_refused(api_a):
    response = api_a.ingest("audit", [record("audit", 0, diff={"forged": True})])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"index": 0, "field": "diff", "message": "diff is computed by authmon; do not send it."}
    ]
    assert count("audit") == 0


def test_unknown_fields_and_tenant_in_the_body(api_a, tenant_b):
    response = api_a.ingest("events", [record("events", 0, tenant=tenant_b.slug, emial="x@y.z", id=5)])
    assert response.status_code == 400
    messages = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert "comes from the API token" in messages["tenant"]
    assert "Did you mean 'email'" in messages["emial"]
    assert "external_id" in messages["id"]
    assert count("events") == 0


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("email", 42, "valid string"),
        ("email", None, "valid string"),
        ("email", "x" * 255, "at most 254"),
        ("event_type", "", "'login'"),
        ("created_on", 1700000000, "ISO 8601"),
        ("created_on", "2026-02-30T00:00:00", "datetime"),
        ("created_on", "0001-01-01T00:00:00+05:00", "out of range"),
        ("ip_address", "300.1.2.3", "Enter a valid IP"),
        ("ip_address", "not:an:ip", "Enter a valid IP"),
        ("details", "text", "dictionary"),
        ("details", {"bad": "nul\u0000"}, "NUL"),
        ("email", "nul\u0000", "NUL"),
        ("external_id", "", "at least 1"),
    ],
)
def test_wrong_types_and_values(api_a, field, value, fragment):
    response = api_a.ingest("events", [record("events", 0, **{field: value})])
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["field"] == field
    assert fragment in error["message"], error["message"]


def test_naive_times_are_utc_and_offsets_are_converted(api_a):
    records = [
        record("events", 0, created_on="2026-11-19T10:00:00", external_id="naive"),
        record("events", 0, created_on="2026-11-19T10:00:00+02:00", external_id="offset"),
    ]
    api_a.ingest("events", records)
    shown = {r["external_id"]: r["created_on"] for r in api_a.list("events").json()["results"]}
    assert shown == {"naive": "2026-11-19T10:00:00Z", "offset": "2026-11-19T08:00:00Z"}


def test_defaults_apply_to_fields_left_out(api_a):
    api_a.ingest("jobs", [{"job_id": "j", "job_name": "nightly trim", "job_type": "trim"}])
    [job] = api_a.list("jobs").json()["results"]
    assert job["latest_status"] == "pending"
    assert job["details"] == {}
    assert job["message"] == ""
    assert job["created_at"].endswith("Z")


def test_ndjson_by_content_type_and_by_sniffing(api_a):
    lines = [json.dumps(record("events", n, external_id=f"nd-{n}")) for n in range(3)]
    body = "\n".join(lines[:2]) + "\n\n"
    response = api_a.ingest("events", body, content_type="application/x-ndjson")
    assert response.json() == {"created": 2, "duplicates": 0, "updated": 0, "kept_revoked": 0}
    sniffed = "\r\n".join(lines)  # sent as application/json, CRLF line ends
    assert api_a.ingest("events", sniffed).json() == {"created": 1, "duplicates": 2, "updated": 0, "kept_revoked": 0}
    assert api_a.ingest("events", lines[0], content_type="text/plain").json()["duplicates"] == 1


def test_ndjson_line_errors_name_the_line(api_a):
    body = json.dumps(record("events", 0)) + "\n" + '{"event_type": "login",}\n'
    response = api_a.ingest("events", body, content_type="application/x-ndjson")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["index"] == 1
    assert error["message"].startswith("Line 2: malformed JSON")
    assert count("events") == 0


def test_a_string_with_a_line_separator_survives_ndjson(api_a):
    body = json.dumps(record("events", 0, user_agent="a\u2028b"), ensure_ascii=False)
    body += "\n" + json.dumps(record("events", 1))
    assert api_a.ingest("events", body.encode(), content_type="application/x-ndjson").json()["created"] == 2


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"[{", "malformed JSON at line 1"),
        (b'[{"event_type": "login"}', "malformed JSON"),
        (b"nonsense", "malformed JSON"),
        (b"", "body is empty"),
        (b"   \n ", "body is empty"),
        (b"42", "got number"),
        (b'"text"', "got string"),
        (b"null", "got null"),
        (b'[{"event_type": "login", "details": {"x": NaN}}]', "NaN is not a valid JSON number"),
        (b'[{"event_type": "login", "details": {"x": 1e999}}]', "out of range"),
        (b"\xff\xfe[]", "not valid UTF-8"),
        (b"[" * 100_000, "nested too deeply"),
        (b'[{"event_type": "login", "details": {"x": ' + b"9" * 5000 + b"}}]", "invalid JSON"),
    ],
)
def test_malformed_bodies(api_a, body, fragment):
    response = api_a.ingest("events", body)
    assert response.status_code == 400, response.content
    [error] = response.json()["errors"]
    assert error["index"] is None
    assert fragment in error["message"], error["message"]


def test_a_byte_order_mark_is_accepted(api_a):
    body = b"\xef\xbb\xbf" + json.dumps([record("events", 0)]).encode()
    assert api_a.ingest("events", body).status_code == 201


def test_an_empty_array_is_a_no_op(api_a):
    response = api_a.ingest("events", [])
    assert response.status_code == 201
    assert response.json() == {"created": 0, "duplicates": 0, "updated": 0, "kept_revoked": 0}


def test_a_single_object_is_a_batch_of_one(api_a):
    pretty = json.dumps(record("events", 0), indent=2)
    assert api_a.ingest("events", pretty).json()["created"] == 1


def test_deeply_nested_json_in_a_field_is_refused(api_a):
    nested: dict = {}
    for _ in range(ingest.MAX_JSON_DEPTH + 5):
        nested = {"a": nested}
    response = api_a.ingest("events", [record("events", 0, details=nested)])
    assert response.status_code == 400
    assert "nested" in response.json()["errors"][0]["message"]


def test_more_than_the_record_limit_is_413(api_a, settings):
    response = api_a.ingest("events", [{}] * (settings.API_MAX_RECORDS + 1))
    assert response.status_code == 413
    assert "at most 10000" in response.json()["detail"]
    assert count("events") == 0


def test_exactly_the_record_limit_is_accepted(api_a, settings):
    with override_settings(API_MAX_RECORDS=50):
        assert api_a.ingest("events", [record("events", n) for n in range(50)]).status_code == 201
        assert api_a.ingest("events", [record("events", n) for n in range(51)]).status_code == 413


def test_more_than_ten_mebibytes_is_413(api_a, settings):
    body = b"[" + b" " * settings.API_MAX_BYTES + b"]"
    response = api_a.ingest("events", body)
    assert response.status_code == 413
    assert "10 MiB" in response.json()["detail"]


def test_a_declared_oversize_length_is_refused_before_reading(api_a, settings):
    response = api_a.ingest("events", b"[]", CONTENT_LENGTH=str(settings.API_MAX_BYTES * 3))
    assert response.status_code == 413


def test_requestdatatoobig_from_django_becomes_413(api_a):
    with override_settings(API_MAX_BYTES=10**9, DATA_UPLOAD_MAX_MEMORY_SIZE=100):
        response = api_a.ingest("events", [record("events", n) for n in range(10)])
    assert response.status_code == 413


def test_garbage_content_length_is_400(api_a):
    assert api_a.ingest("events", b"[]", CONTENT_LENGTH="lots").status_code == 400


# --------------------------------------------------------------------------------------- the service directly


def test_records_ingest_service(tenant_a):
    result = records_ingest(kind="events", tenant=tenant_a, records=[record("events", 0, external_id="a")])
    assert result == IngestResult(created=1)
    again = records_ingest(kind=registry.get("events"), tenant=tenant_a, records=[record("events", 0, external_id="a")])
    assert again == IngestResult(duplicates=1)
    with pytest.raises(IngestValidationError) as caught:
        records_ingest(kind="events", tenant=tenant_a, records=[{"event_type": "x"}, {"details": float("nan")}])
    assert [(e.index, e.field) for e in caught.value.errors] == [(0, "event_type"), (1, "details"), (1, "event_type")]


def test_a_concurrent_insert_of_the_same_keys_is_retried_as_duplicates(tenant_a, monkeypatch):
    """Simulate the race: the duplicate check misses rows another batch committed; the unique index catches it."""
    batch = [record("notifications", n, external_id=f"r-{n}") for n in range(3)]
    records_ingest(kind="notifications", tenant=tenant_a, records=batch[:2])
    real = ingest._existing
    calls = []

    def blind_once(queryset, field, values, **kwargs):
        calls.append(field)
        return set() if len(calls) == 1 else real(queryset, field, values, **kwargs)

    monkeypatch.setattr(ingest, "_existing", blind_once)
    result = records_ingest(kind="notifications", tenant=tenant_a, records=batch)
    assert result == IngestResult(created=1, duplicates=2)
    assert count("notifications") == 3
    assert len(calls) == 2


def test_datetime_values_are_stored_in_utc(tenant_a):
    records_ingest(
        kind="events", tenant=tenant_a, records=[record("events", 0, created_on="2026-11-19T23:30:00-05:00")]
    )
    stored = registry.get("events").model.objects.get().created_on
    assert stored == dt.datetime(2026, 11, 20, 4, 30, tzinfo=dt.UTC)


def test_ingest_only_token_can_ingest(tenant_a):
    client = make_client(tenant_a, ["ingest"])
    assert client.ingest("events", [record("events", 0)]).status_code == 201
