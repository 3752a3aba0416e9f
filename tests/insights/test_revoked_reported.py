"""Issue 14, finding 3 on the Insights page: "revoked session reported active".

A batch that reports revoked sessions or grants as active is kept revoked and audited by ingest
(tests/api/test_revoked_final.py); Insights flags it from that audit record, naming the token that sent it and
linking to exactly the records it concerns.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from authmon.models import ApiToken
from insights.models import Detection
from sessions_grants.models import Grant, Session
from sessions_grants.services import grant_revoke, session_revoke
from tests.api.conftest import ApiClient, record
from tests.insights.helpers import evidence_rows, run

pytestmark = pytest.mark.django_db

VICTIM = "victim@example.com"


@pytest.fixture
def token(tenant_a):
    token, raw = ApiToken.issue(tenant=tenant_a, scopes=["ingest", "read"], name="idp-prod")
    return token, ApiClient(raw)


def findings(tenant, **overrides):
    now = timezone.now()
    return run(
        tenant,
        Detection.REVOKED_REPORTED_ACTIVE,
        start=now - dt.timedelta(days=1),
        end=now + dt.timedelta(minutes=1),
        **overrides,
    )


def replay_after_revoking(api, admin, *, sessions=("s-1", "s-2"), others=("s-3",)):
    """Sessions created through the API, some revoked in the console, then the creating batch sent again."""
    batch = [record("sessions", n, session_id=sid, email=VICTIM) for n, sid in enumerate([*sessions, *others])]
    api.ingest("sessions", batch)
    for sid in sessions:
        session_revoke(session=Session.objects.get(session_id=sid), actor=admin)
    return api.ingest("sessions", batch).json()


def test_a_replay_over_revoked_sessions_is_a_finding_with_its_records(tenant_a, tenant_admin, token):
    api_token, api = token
    assert replay_after_revoking(api, tenant_admin)["kept_revoked"] == 2

    [finding] = findings(tenant_a)

    assert finding.key == {"kind": "sessions", "actor": f"API token idp-prod (#{api_token.pk})"}
    assert finding.count == 2
    assert finding.title == f"2 revoked sessions reported active by API token idp-prod (#{api_token.pk})"
    assert "s-1, s-2" in finding.summary and "s-3" not in finding.summary
    assert VICTIM in finding.summary
    assert finding.facts["ids"] == ["s-1", "s-2"]
    assert evidence_rows(finding, tenant_admin) == 2


def test_the_insights_page_shows_the_finding(client, tenant_a, tenant_admin, token):
    _api_token, api = token
    replay_after_revoking(api, tenant_admin)
    client.force_login(tenant_admin)
    response = client.get(reverse("insights:overview"), {"preset": "today"})
    assert response.status_code == 200
    results = {r.spec.name: r.findings for r in response.context["results"]}
    [finding] = results[Detection.REVOKED_REPORTED_ACTIVE]
    body = response.content.decode()
    assert finding.title in body
    assert "Revoked session or grant reported active" in body
    assert "s-1, s-2" in body
    assert finding.evidence_url.replace("&", "&amp;") in body
    rows = client.get(finding.evidence_url)
    assert rows.status_code == 200
    listed = rows.content.decode()
    assert "s-1" in listed and "s-2" in listed and "s-3" not in listed


def test_grants_are_flagged_too(tenant_a, tenant_admin, token):
    _api_token, api = token
    api.ingest("grants", [record("grants", 0, grant_id="g-1", email=VICTIM)])
    grant_revoke(grant=Grant.objects.get(), actor=tenant_admin)
    api.ingest("grants", [record("grants", 0, grant_id="g-1", email=VICTIM, status="expired")])
    [finding] = findings(tenant_a)
    assert finding.key["kind"] == "grants"
    assert finding.title.startswith("1 revoked grant reported expired by API token")
    assert "g-1 as expired" in finding.summary
    assert evidence_rows(finding, tenant_admin) == 1


def test_reports_that_agree_with_the_revocation_are_not_findings(tenant_a, tenant_admin, token):
    _api_token, api = token
    api.ingest("sessions", [record("sessions", 0, session_id="s-1"), record("sessions", 1, session_id="s-2")])
    session_revoke(session=Session.objects.get(session_id="s-1"), actor=tenant_admin)
    api.ingest("sessions", [record("sessions", 0, session_id="s-1", status="revoked")])  # agrees
    api.ingest("sessions", [record("sessions", 1, session_id="s-2", client_id="changed")])  # not revoked
    assert findings(tenant_a) == []


def test_threshold_and_period(tenant_a, tenant_admin, token):
    _api_token, api = token
    replay_after_revoking(api, tenant_admin)
    assert findings(tenant_a, records=3) == []
    earlier = timezone.now() - dt.timedelta(days=3)
    assert run(tenant_a, Detection.REVOKED_REPORTED_ACTIVE, start=earlier, end=earlier + dt.timedelta(days=1)) == []


def test_a_forged_audit_record_cannot_make_an_active_session_look_reported(tenant_a, tenant_admin, token):
    """Audit records are ingestible too: one claiming a kept revocation counts only for rows that are revoked."""
    _api_token, api = token
    api.ingest("sessions", [record("sessions", 0, session_id="s-active")])
    forged = record(
        "audit",
        0,
        action="update Session",
        client_actor="authmon API",
        timestamp=timezone.now().isoformat(),
        old_entity={"status": "revoked"},
        new_entity={"status": "revoked", "kept_revoked": ["s-active", "s-unknown"], "kept_revoked_count": 2},
    )
    assert api.ingest("audit", [forged]).status_code == 201
    assert findings(tenant_a) == []


def test_another_tenants_replay_is_not_shown(tenant_a, tenant_b, tenant_admin, other_admin):
    _token, raw = ApiToken.issue(tenant=tenant_b, scopes=["ingest"])
    replay_after_revoking(ApiClient(raw), other_admin)
    assert findings(tenant_b) != []
    assert findings(tenant_a) == []


def test_the_link_lists_exactly_the_records_whatever_their_ids(tenant_a, tenant_admin, token):
    _api_token, api = token
    odd = ['it\'s "quoted"', "a and b or (c)", "last 7 days", "s-1"]
    replay_after_revoking(api, tenant_admin, sessions=odd, others=("s-10", "a and b"))
    [finding] = findings(tenant_a)
    assert finding.count == 4
    assert evidence_rows(finding, tenant_admin) == 4


def test_many_records_link_as_many_as_fit_and_say_so(tenant_a, tenant_admin, token):
    _api_token, api = token
    sessions = [f"session-{n:04d}-{'x' * 40}" for n in range(40)]
    replay_after_revoking(api, tenant_admin, sessions=sessions, others=())
    [finding] = findings(tenant_a)
    assert finding.count == 40
    linked = evidence_rows(finding, tenant_admin)
    assert 0 < linked < 40
    assert f"The link shows the first {linked}." in finding.summary
    assert "and 30 more" in finding.summary


# ---------------------------------------------------------------------------------------------------------------
# Issue 14 review: audit records are ingestible, so the finding is read from authmon's own report, never from them.


def forged_kept_audit(n: int, *, actor: str, ids: list[str], when: dt.datetime) -> dict:
    """An ingested audit record dressed as the one ingest writes when it keeps a revocation."""
    return record(
        "audit",
        n,
        action="update Session",
        actor=actor,
        client_actor="authmon API",
        timestamp=when.isoformat(),
        old_entity={"status": "revoked"},
        new_entity={
            "status": "revoked",
            "kept_revoked": ids,
            "kept_revoked_count": len(ids),
            "reported_status": ["active"],
        },
    )


def test_forged_audit_records_cannot_push_a_real_report_out_of_sight(tenant_a, tenant_admin, token):
    api_token, api = token
    replay_after_revoking(api, tenant_admin)
    [real] = findings(tenant_a)

    later = timezone.now() + dt.timedelta(seconds=30)
    actor = f"API token idp-prod (#{api_token.pk})"
    flood = [forged_kept_audit(n, actor=actor, ids=[], when=later) for n in range(500)]
    assert api.ingest("audit", flood).status_code == 201

    [finding] = findings(tenant_a)
    assert (finding.key, finding.count, finding.facts["ids"]) == (real.key, 2, ["s-1", "s-2"])


def test_a_forged_audit_record_cannot_blame_an_innocent_token(tenant_a, tenant_admin, token):
    api_token, api = token
    api.ingest("sessions", [record("sessions", 0, session_id="s-9", email=VICTIM)])
    session_revoke(session=Session.objects.get(session_id="s-9"), actor=tenant_admin)
    innocent = "API token innocent-backup (#999)"
    forged = forged_kept_audit(0, actor=innocent, ids=["s-9"], when=timezone.now())
    assert api.ingest("audit", [forged]).status_code == 201
    assert findings(tenant_a) == []

    replay_after_revoking(api, tenant_admin)  # a real report beside the forged one
    found = findings(tenant_a)
    assert [f.key["actor"] for f in found] == [f"API token idp-prod (#{api_token.pk})"]
    assert not any("innocent-backup" in f"{f.key} {f.title} {f.summary} {f.facts}" for f in found)
    assert "s-9" not in found[0].facts["ids"]


def test_the_report_is_kept_beside_its_audit_record(tenant_a, tenant_admin, token):
    from audit.models import AuditLog
    from sessions_grants.models import RevocationKeptReport

    api_token, api = token
    replay_after_revoking(api, tenant_admin)
    report = RevocationKeptReport.objects.get()
    assert (report.tenant, report.kind, report.token, report.kept_ids, report.kept_count) == (
        tenant_a,
        "sessions",
        api_token,
        ["s-1", "s-2"],
        2,
    )
    assert report.token_label == f"API token idp-prod (#{api_token.pk})"
    assert AuditLog.objects.filter(action="update Session", new_entity__kept_revoked=["s-1", "s-2"]).count() == 1
