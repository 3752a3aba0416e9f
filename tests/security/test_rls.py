"""The database holds the tenant line itself (DESIGN section 4; issue "The database defends itself").

On PostgreSQL, as the app role: a raw SELECT with no tenant set returns no rows from any tenant-owned table; with
tenant A set, only A's; a query that skips the queryset door still returns no other tenant's rows; every table with
a tenant_id has forced row-level security, so a new table cannot forget it.
"""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection

from authmon import registry
from authmon.dbroles import POLICY, RLS_EXEMPT, rls_ensure
from authmon.models import ApiToken, Tenant
from console.demo import demo_data_load
from insights.models import AlertRule, Detection, DetectionSettings, ReviewNote
from jobs.runner import job_create
from sessions_grants.models import RevocationWebhook
from tests.samples import sample_record

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: row-level security")


def tenant_tables_all() -> set[str]:
    """Every ordinary or partitioned table of the schema with a tenant_id column (partitions are reached through
    their parent, whose policy applies; the app role has no rights on a partition itself)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped "
            "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.django_db
def test_every_tenant_owned_table_has_forced_row_level_security():
    tables = tenant_tables_all()
    assert len(tables - set(RLS_EXEMPT)) >= 23, "the catalogue walk finds the tenant tables"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, p.qual, p.with_check FROM pg_class c "
            "LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.policyname = %s WHERE c.relname = ANY(%s)",
            [POLICY, sorted(tables - set(RLS_EXEMPT))],
        )
        rows = cursor.fetchall()
    missing = [name for name, enabled, forced, qual, check in rows if not (enabled and forced and qual and check)]
    assert not missing, f"tables without forced row-level security and the tenant policy: {missing}"
    assert all("current_setting('authmon.tenant_id'" in qual for _, _, _, qual, _ in rows)


@pytest.mark.django_db
def test_migrate_puts_the_policy_on_a_new_tenant_table():
    """A table a new kind's migration creates is covered by ``migrate`` (dbroles.rls_ensure), with no list to edit."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE kindkit_scratch (id bigserial PRIMARY KEY, tenant_id bigint NOT NULL)")
        assert "kindkit_scratch" in tenant_tables_all()
        assert rls_ensure(cursor) == ["kindkit_scratch"]
        assert rls_ensure(cursor) == []  # idempotent
        cursor.execute("SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'kindkit_scratch'")
        assert cursor.fetchone() == (True, True)


@pytest.mark.django_db
def test_no_partition_is_open_to_the_app_role(as_app_role):
    with as_app_role() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relispartition AND "
            "(has_table_privilege(current_user, c.oid, 'SELECT') OR has_table_privilege(current_user, c.oid, 'DELETE'))"
        )
        assert cursor.fetchall() == []


@pytest.fixture
def two_tenants_everywhere(db):
    """Both tenants with rows in as many tenant-owned tables as the demo fills, plus each kind's sample record."""
    demo_data_load(tenants=2, rows=1_200, seed=3)
    tenants = list(Tenant.objects.order_by("pk"))
    for tenant in tenants:
        for kind in registry.kinds():
            sample_record(kind, tenant, f"rls-{tenant.slug}", external_id=f"rls-{tenant.slug}")
        job_create(tenant=tenant, job_name="rls", job_type="export")
        detection = Detection.choices[0][0]
        DetectionSettings.objects.create(tenant=tenant, detection=detection)
        AlertRule.objects.create(tenant=tenant, detection=detection, recipients="sec@example.com")
        ReviewNote.objects.create(tenant=tenant, cadence="daily", note="rls", author="a@example.com")
        RevocationWebhook.objects.create(tenant=tenant, url="https://hooks.example.com/r", secret="s" * 32)
        ApiToken.objects.create(tenant=tenant, name="rls", digest=ApiToken.hash(f"amt_rls_{tenant.slug}"))
    return tenants


def owner_counts(table: str) -> dict[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT tenant_id, count(*) FROM {table} GROUP BY tenant_id")  # noqa: S608
        return dict(cursor.fetchall())


def test_the_app_role_sees_no_rows_without_a_tenant_and_only_its_tenants_with_one(two_tenants_everywhere, as_app_role):
    first, second = two_tenants_everywhere
    filled = 0
    for table in sorted(tenant_tables_all() - set(RLS_EXEMPT)):
        counts = owner_counts(table)
        filled += bool(counts.get(first.pk) and counts.get(second.pk))
        with as_app_role(None) as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
            assert cursor.fetchone()[0] == 0, f"{table}: rows visible with no tenant set"
        for tenant in (first, second):
            with as_app_role(tenant) as cursor:
                cursor.execute(f"SELECT tenant_id, count(*) FROM {table} GROUP BY tenant_id")  # noqa: S608
                assert dict(cursor.fetchall()) == ({tenant.pk: counts[tenant.pk]} if counts.get(tenant.pk) else {}), (
                    f"{table}: tenant {tenant.slug} sees other rows than its own"
                )
    assert filled >= 18, "the fixture fills most tenant-owned tables in both tenants, or this test proves little"


def test_a_query_that_skips_the_door_still_sees_one_tenant(two_tenants_everywhere, as_app_role):
    """A deliberately broken queryset, ``Model.objects.all()`` with no tenant filter, run as the app role."""
    first, _ = two_tenants_everywhere
    for kind in registry.kinds():
        sql, params = kind.model.objects.all().values("tenant_id").query.sql_with_params()
        with as_app_role(first) as cursor:
            cursor.execute(sql, params)
            assert {tenant_id for (tenant_id,) in cursor.fetchall()} == {first.pk}, kind.name


def test_the_app_role_cannot_write_into_another_tenant(two_tenants_everywhere, as_app_role):
    first, second = two_tenants_everywhere
    with pytest.raises(DatabaseError, match="row-level security"), as_app_role(first) as cursor:
        cursor.execute("UPDATE events_eventlog SET tenant_id = %s WHERE tenant_id = %s", [second.pk, first.pk])
    with pytest.raises(DatabaseError, match="row-level security"), as_app_role(first) as cursor:
        cursor.execute(
            "INSERT INTO insights_reviewnote (tenant_id, cadence, note, author, created_at) "
            "VALUES (%s, 'daily', 'n', 'a', now())",
            [second.pk],
        )
    with as_app_role(first) as cursor:
        cursor.execute("DELETE FROM events_eventlog WHERE tenant_id = %s", [second.pk])
        assert cursor.rowcount == 0
    assert owner_counts("events_eventlog")[second.pk] > 0


def test_the_app_role_owns_nothing_and_is_no_superuser(as_app_role):
    with as_app_role() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone() == (False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND pg_has_role(current_user, c.relowner, 'MEMBER')"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.django_db
def test_quick_search_keeps_its_trigram_index_under_the_policy():
    """The quick search's ``UPPER(col) LIKE UPPER(term)`` may run inside its trigram index under the policy only when
    upper() and LIKE are LEAKPROOF (authmon migration 0005; the suite's owner is a superuser, as CI's and compose's
    are). Without it PostgreSQL applies the search after the policy, to every row of the tenant: measured on the
    bench, the plan read the tenant's whole month partitions instead of the index."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.oid::regprocedure::text, p.proleakproof FROM pg_proc p "
            "WHERE p.oid IN ('upper(text)'::regprocedure, 'textlike(text, text)'::regprocedure)"
        )
        marks = dict(cursor.fetchall())
        cursor.execute("SELECT oprcode::text FROM pg_operator WHERE oprname = '~~' AND oprleft = 'text'::regtype")
        like = cursor.fetchone()[0]
    assert marks == {"upper(text)": True, "textlike(text,text)": True}, marks
    assert like == "textlike"  # the function behind UPPER(col) LIKE ..., the operator of the trigram index
