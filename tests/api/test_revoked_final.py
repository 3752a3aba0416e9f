"""Issue 14, finding 3: nothing ingested undoes a revocation (DESIGN section 6, "revoked is final").

Each test is the attack: an admin revokes in the console (the real revoke URLs and services), then a batch is
replayed through the API, with the ingest token, reporting the session or grant as active again. It must stay
revoked, be counted as ``kept_revoked``, leave the status API, the revocations feed and the webhook queue as they
were, and leave one audit record per batch.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from audit.models import AuditLog
from authmon import registry
from authmon.ingest import IngestResult, records_ingest
from authmon.models import ApiToken, Role
from jobs.models import JobLog
from sessions_grants.models import Grant, RevocationDelivery, RevocationWebhook, Session
from sessions_grants.services import grant_revoke, session_revoke
from tests.api.conftest import ApiClient, record
from tests.authmon.test_log_views import login

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.com"
REVOCABLE = ["sessions", "grants"]
ALL_TIME = {"since": "2000-01-01T00:00:00Z"}


def answer(created: int = 0, duplicates: int = 0, updated: int = 0, kept_revoked: int = 0) -> dict[str, int]:
    return {"created": created, "duplicates": duplicates, "updated": updated, "kept_revoked": kept_revoked}


def key_of(kind: str) -> str:
    return registry.get(kind).upsert_key or ""


def row_of(kind: str, value: str) -> Session | Grant:
    return registry.get(kind).model.objects.get(**{key_of(kind): value})


def revoke_url(row: Session | Grant) -> str:
    return reverse(registry.for_model(type(row)).url_name("revoke"), args=[row.pk])


def by_key_url(kind: str, value: str) -> str:
    return f"/api/v1/{kind}/by-{key_of(kind).replace('_', '-')}/{value}/"


def kept_audits(tenant, kind: str):
    return AuditLog.objects.for_tenant(tenant).filter(action=f"update {registry.get(kind).singular}")


@pytest.mark.parametrize("kind", REVOCABLE)
@pytest.mark.parametrize("reported", ["active", "expired"])
def test_replayed_status_does_not_undo_a_console_revocation(client, tenant_a, api_a, kind, reported):
    batch = [record(kind, 0, **{key_of(kind): "k-1"}, email=VICTIM, user_id="u-7", status="active")]
    assert api_a.ingest(kind, batch).json() == answer(created=1)
    row = row_of(kind, "k-1")
    admin = login(client, tenant_a, Role.TENANT_ADMIN)
    assert client.post(revoke_url(row), {"comment": "stolen laptop"}).status_code == 302
    row.refresh_from_db()
    revoked_at = row.revoked_at
    assert row.status == "revoked" and revoked_at is not None
    feed = api_a.get("/api/v1/revocations/", ALL_TIME).json()

    replay = [{**batch[0], "status": reported}]
    response = api_a.ingest(kind, replay)

    assert response.status_code == 201
    assert response.json() == answer(kept_revoked=1)
    row.refresh_from_db()
    assert (row.status, row.revoked_at) == ("revoked", revoked_at)
    assert api_a.get(by_key_url(kind, "k-1")).json()["status"] == "revoked"
    assert api_a.get("/api/v1/revocations/", ALL_TIME).json() == feed
    [audit] = kept_audits(tenant_a, kind)
    assert audit.actor.startswith("API token ")
    assert audit.actor != admin.email
    assert audit.client_actor == "authmon API"
    assert audit.target == "k-1"
    assert audit.subject == VICTIM
    assert audit.new_entity["kept_revoked"] == ["k-1"]
    assert audit.new_entity["reported_status"] == [reported]
    assert audit.new_entity["status"] == audit.old_entity["status"] == "revoked"


@pytest.mark.parametrize("kind", REVOCABLE)
def test_kept_record_changes_nothing_else_and_is_not_pushed_again(tenant_a, api_a, tenant_admin, kind):
    RevocationWebhook.objects.create(tenant=tenant_a, url="https://idp.example.com/revocations", secret="s3cret")
    original = record(kind, 0, **{key_of(kind): "k-1"}, email=VICTIM, user_id="u-7")
    api_a.ingest(kind, [original])
    row = row_of(kind, "k-1")
    revoke = session_revoke if kind == "sessions" else grant_revoke
    assert revoke(**{kind[:-1]: row, "actor": tenant_admin})
    before = row_of(kind, "k-1")
    deliveries = list(RevocationDelivery.objects.values_list("record_type", "record_id", "batch", "status"))
    assert len(deliveries) == 1
    sync_jobs = JobLog.objects.filter(job_type="sync").count()

    forged = {**original, "status": "active", "email": "attacker@example.com", "details": {"n": 99}}
    forged["expires_at"] = "2099-01-01T00:00:00Z"
    assert api_a.ingest(kind, [forged]).json() == answer(kept_revoked=1)

    after = row_of(kind, "k-1")
    assert (after.status, after.revoked_at, after.email, after.details, after.expires_at) == (
        "revoked",
        before.revoked_at,
        VICTIM,
        before.details,
        before.expires_at,
    )
    assert list(RevocationDelivery.objects.values_list("record_type", "record_id", "batch", "status")) == deliveries
    assert JobLog.objects.filter(job_type="sync").count() == sync_jobs


def test_replayed_batch_does_not_undo_contain_account(client, tenant_a, api_a):
    """The issue's scenario: "Contain account" in the console, then the batch that created the access replayed."""
    RevocationWebhook.objects.create(tenant=tenant_a, url="https://idp.example.com/revocations", secret="s3cret")
    sessions = [record("sessions", n, session_id=f"s-{n}", email=VICTIM, user_id="u-7") for n in range(120)]
    grants = [record("grants", n, grant_id=f"g-{n}", email=VICTIM, user_id="u-7") for n in range(80)]
    assert api_a.ingest("sessions", sessions).json() == answer(created=120)
    assert api_a.ingest("grants", grants).json() == answer(created=80)
    login(client, tenant_a, Role.TENANT_ADMIN)
    contained = client.post(reverse("revoke_all", args=[VICTIM]), {"scope": "all", "comment": "phished"})
    assert contained.status_code == 200
    assert not Session.objects.exclude(status="revoked").exists()
    assert not Grant.objects.exclude(status="revoked").exists()
    audits = AuditLog.objects.for_tenant(tenant_a).count()
    feed = api_a.get("/api/v1/revocations/", {**ALL_TIME, "limit": 1000}).json()
    deliveries = list(RevocationDelivery.objects.order_by("pk").values_list("batch", "status"))
    sync_jobs = JobLog.objects.filter(job_type="sync").count()

    assert api_a.ingest("sessions", sessions).json() == answer(kept_revoked=120)
    assert api_a.ingest("grants", grants).json() == answer(kept_revoked=80)

    assert not Session.objects.exclude(status="revoked").exists()
    assert not Grant.objects.exclude(status="revoked").exists()
    assert api_a.get(by_key_url("sessions", "s-7")).json()["status"] == "revoked"
    assert api_a.get("/api/v1/revocations/", {**ALL_TIME, "limit": 1000}).json() == feed
    assert list(RevocationDelivery.objects.order_by("pk").values_list("batch", "status")) == deliveries
    assert JobLog.objects.filter(job_type="sync").count() == sync_jobs
    # one audit record per batch, not one per record
    assert AuditLog.objects.for_tenant(tenant_a).count() == audits + 2
    [kept_sessions] = kept_audits(tenant_a, "sessions")
    assert kept_sessions.new_entity["kept_revoked"] == [f"s-{n}" for n in range(120)]
    assert kept_sessions.new_entity["kept_revoked_count"] == 120
    [kept_grants] = kept_audits(tenant_a, "grants")
    assert len(kept_grants.new_entity["kept_revoked"]) == 80


def test_a_mixed_batch_counts_each_record_once(tenant_a, api_a, tenant_admin):
    api_a.ingest(
        "sessions",
        [
            record("sessions", 1, session_id="changes"),
            record("sessions", 2, session_id="same"),
            record("sessions", 3, session_id="gone-1"),
            record("sessions", 4, session_id="gone-2"),
            record("sessions", 5, session_id="gone-3", external_id="ext-5"),
        ],
    )
    for value in ("gone-1", "gone-2", "gone-3"):
        assert session_revoke(session=row_of("sessions", value), actor=tenant_admin)

    batch = [
        record("sessions", 0, session_id="new"),  # created
        record("sessions", 1, session_id="changes", client_id="another client"),  # updated
        record("sessions", 2, session_id="same"),  # nothing changes: a duplicate
        record("sessions", 3, session_id="gone-1"),  # active over a revocation: kept revoked
        record("sessions", 4, session_id="gone-2", status="expired"),  # expired over a revocation: kept revoked
        record("sessions", 3, session_id="gone-1", status="revoked"),  # agrees with the revocation: a duplicate
        record("sessions", 5, session_id="gone-3", external_id="ext-5"),  # a known external_id: a duplicate
    ]
    assert api_a.ingest("sessions", batch).json() == answer(created=1, duplicates=3, updated=1, kept_revoked=2)

    statuses = dict(Session.objects.values_list("session_id", "status"))
    assert statuses == {
        "new": "active",
        "changes": "active",
        "same": "active",
        "gone-1": "revoked",
        "gone-2": "revoked",
        "gone-3": "revoked",
    }
    assert row_of("sessions", "changes").client_id == "another client"
    [audit] = kept_audits(tenant_a, "sessions")
    assert audit.new_entity["kept_revoked"] == ["gone-1", "gone-2"]
    assert audit.new_entity["reported_status"] == ["active", "expired"]
    assert audit.target == "gone-1, gone-2"


def test_revoked_earlier_in_the_same_batch_stays_revoked(tenant_a, api_a):
    batch = [
        record("sessions", 0, session_id="s-1"),
        record("sessions", 0, session_id="s-1", status="revoked"),
        record("sessions", 0, session_id="s-1", status="active"),
    ]
    assert api_a.ingest("sessions", batch).json() == answer(created=1, updated=1, kept_revoked=1)
    row = row_of("sessions", "s-1")
    assert row.status == "revoked" and row.revoked_at is not None
    assert kept_audits(tenant_a, "sessions").get().new_entity["kept_revoked"] == ["s-1"]


def test_a_record_that_agrees_with_the_revocation_still_updates(tenant_a, api_a, tenant_admin):
    api_a.ingest("sessions", [record("sessions", 0, session_id="s-1")])
    session_revoke(session=row_of("sessions", "s-1"), actor=tenant_admin)
    revoked_at = row_of("sessions", "s-1").revoked_at
    confirm = record("sessions", 0, session_id="s-1", status="revoked", details={"reason": "admin"})
    assert api_a.ingest("sessions", [confirm]).json() == answer(updated=1)
    row = row_of("sessions", "s-1")
    assert (row.status, row.revoked_at, row.details) == ("revoked", revoked_at, {"reason": "admin"})
    assert not kept_audits(tenant_a, "sessions").exists()


def test_another_tenants_revocation_is_neither_touched_nor_reported(tenant_a, tenant_b, api_a, api_b, tenant_admin):
    batch = [record("sessions", 0, session_id="shared-id")]
    api_a.ingest("sessions", batch)
    session_revoke(session=row_of("sessions", "shared-id"), actor=tenant_admin)
    assert api_b.ingest("sessions", batch).json() == answer(created=1)
    assert set(Session.objects.values_list("tenant__slug", "status")) == {("acme", "revoked"), ("globex", "active")}
    assert not AuditLog.objects.for_tenant(tenant_b).exists()


def test_the_service_counts_and_audits_for_any_caller(tenant_a, tenant_admin):
    records_ingest(kind="grants", tenant=tenant_a, records=[record("grants", 0, grant_id="g-1")])
    grant_revoke(grant=Grant.objects.get(), actor=tenant_admin)
    again = [record("grants", 0, grant_id="g-1")]
    result = records_ingest(kind="grants", tenant=tenant_a, records=again, actor="sync from idp.example.com")
    assert result == IngestResult(kept_revoked=1)
    assert result.as_dict() == answer(kept_revoked=1)
    assert Grant.objects.get().status == "revoked"
    assert kept_audits(tenant_a, "grants").get().actor == "sync from idp.example.com"


def test_ingest_token_is_named_in_the_audit_record(tenant_a, tenant_admin):
    token, raw = ApiToken.issue(tenant=tenant_a, scopes=["ingest"], name="idp-prod")
    api = ApiClient(raw)
    api.ingest("sessions", [record("sessions", 0, session_id="s-1")])
    session_revoke(session=row_of("sessions", "s-1"), actor=tenant_admin)
    api.ingest("sessions", [record("sessions", 0, session_id="s-1")])
    assert kept_audits(tenant_a, "sessions").get().actor == f"API token idp-prod (#{token.pk})"


def test_openapi_documents_kept_revoked():
    from console.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1/")
    ingest_out = schema["components"]["schemas"]["IngestOut"]
    assert "kept_revoked" in ingest_out["required"]
    assert ingest_out["properties"]["kept_revoked"]["type"] == "integer"
    assert "revoked" in ingest_out["properties"]["kept_revoked"]["description"]
    description = schema["paths"]["/api/v1/sessions/"]["post"]["description"]
    assert "stays revoked" in description


def test_every_revocable_kind_audits_what_it_keeps():
    """A kind whose rows can be revoked is kept revoked by the framework; without its audit hook, silently."""
    revocable = [k for k in registry.kinds() if any(f.name == "revoked_at" for f in k.data_fields)]
    assert [k.name for k in revocable] == REVOCABLE
    assert all(k.kept_revoked_audit is not None for k in revocable)
