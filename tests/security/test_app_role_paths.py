"""The paths outside a request set their tenant themselves: management commands, tasks over all tenants, the
audit purge. Run as the app role, where a missed tenant shows as no rows or a refused write (DESIGN section 4)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from audit.models import AuditChain, AuditLog
from authmon import registry
from authmon.models import ApiToken, Tenant
from authmon.tenancy import tenant_scope
from insights.models import AlertRule, Detection
from jobs.models import JobLog, JobStatus
from jobs.runner import job_create, jobs_mark_stale
from sessions_grants.models import RevocationWebhook
from tests.samples import sample_record

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: row-level security")


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip().splitlines()[-1]


def owner_count(model, **filters) -> int:
    """Counted as the owner, whatever the session's role and tenant."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user")
        (role,) = cursor.fetchone()
        cursor.execute("RESET ROLE")
        try:
            with tenant_scope(None):
                return model.objects.filter(**filters).count()
        finally:
            cursor.execute(f"SET ROLE {role}")


def test_the_management_commands_work_as_the_app_role(tenant_a, settings, app_role_session):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True  # no DNS here: the webhook names a loopback address
    assert run("create_tenant", "initech") == "initech"
    tenant = Tenant.objects.get(slug="initech")
    assert run("create_admin", "boss@initech.example", "--tenant", "initech", "--role", "tenant_admin") == (
        "boss@initech.example"
    )
    raw = run("create_api_token", "--tenant", "initech", "--scopes", "read")
    token = ApiToken.objects.get(digest=ApiToken.hash(raw))
    run("revoke_api_token", "--tenant", "initech", raw)
    run("set_revocation_webhook", "--tenant", "initech", "--url", "http://127.0.0.1:9/revocations")
    assert "OK" in run("verify_audit_chain")
    run("audit_checkpoint", "--tenant", "initech")
    assert owner_count(AuditLog, tenant=tenant) == 5  # each command audited in the new tenant, none elsewhere
    assert owner_count(ApiToken, pk=token.pk, revoked_at__isnull=False) == 1
    assert owner_count(RevocationWebhook, tenant=tenant) == 1


def test_work_over_all_tenants_sets_each_in_turn(tenant_a, tenant_b, app_role_session):
    """The watchdog and the alert evaluation see every tenant's rows, one tenant at a time."""
    long_ago = timezone.now() - dt.timedelta(hours=3)
    for tenant in (tenant_a, tenant_b):
        with tenant_scope(tenant.pk):
            job = job_create(tenant=tenant, job_name="stuck", job_type="export")
            JobLog.objects.filter(pk=job.pk).update(latest_status=JobStatus.RUNNING, updated_at=long_ago)
            AlertRule.objects.create(tenant=tenant, detection=Detection.choices[0][0], recipients="sec@example.com")
    assert jobs_mark_stale() == 2
    from insights.alerts import alerts_evaluation_queue_all

    assert alerts_evaluation_queue_all() == 2


def test_the_trim_purges_audit_records_through_the_function(tenant_a, app_role_session):
    """Purging as the app role (the trim job sets its tenant): the function removes exactly what the anchor passed."""
    with tenant_scope(tenant_a.pk):
        old = [sample_record(registry.get("audit"), tenant_a, "old", when=timezone.now() - dt.timedelta(days=400))]
        sample_record(registry.get("audit"), tenant_a, "new")
        assert AuditLog.objects.filter(pk=old[0].pk).purge_expired() == 1
        assert AuditChain.objects.get(tenant=tenant_a).anchor_seq == 1
        assert list(AuditLog.objects.filter(tenant=tenant_a).values_list("seq", flat=True)) == [2]
