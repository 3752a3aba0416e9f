"""Audit records cannot be changed: the ORM refuses; on PostgreSQL the app role has no right to change or delete
them whatever it sets, its one way to delete is the purge function (only what the anchor passed), triggers refuse
changes even to the owner, and a superuser who switches the triggers off is caught by verify."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.chain import chain_verify
from audit.models import AuditChain, AuditLog, ImmutableRecordError
from authmon import registry
from tests.samples import retain, sample_record

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: its triggers")


@pytest.fixture
def record(tenant_a):
    return sample_record(registry.get("audit"), tenant_a, "imm", when=timezone.now() - dt.timedelta(days=1))


def test_orm_refuses_changes(record):
    record.comments = "changed"
    with pytest.raises(ImmutableRecordError):
        record.save()
    with pytest.raises(ImmutableRecordError):
        AuditLog.objects.filter(pk=record.pk).update(comments="changed")
    with pytest.raises(ImmutableRecordError):
        AuditLog.objects.bulk_update([record], ["comments"])
    with pytest.raises(ImmutableRecordError):
        record.delete()
    with pytest.raises(ImmutableRecordError):
        AuditLog.objects.filter(pk=record.pk).delete()


def raw(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


@on_postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditlog SET comments = 'changed' WHERE id = %s",
        "UPDATE audit_auditlog SET hash = repeat('0', 64) WHERE id = %s",
        "DELETE FROM audit_auditlog WHERE id = %s",
    ],
)
def test_the_app_role_cannot_change_or_delete(record, as_app_role, sql):
    """Neither with its tenant set nor without: the app role has no UPDATE or DELETE on audit records at all."""
    for tenant in (record.tenant, None):
        with pytest.raises(DatabaseError, match="permission denied"), as_app_role(tenant) as cursor:
            cursor.execute(sql, [record.pk])
    assert AuditLog.objects.get(pk=record.pk).comments == record.comments
    assert chain_verify(tenant=record.tenant).ok


@on_postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_auditlog SET comments = 'changed' WHERE id = %s",
        "UPDATE audit_auditlog SET hash = '' WHERE id = %s",
    ],
)
def test_even_the_owner_cannot_change_a_record(record, sql):
    with pytest.raises(DatabaseError, match="immutable"):
        raw(sql, [record.pk])
    assert AuditLog.objects.get(pk=record.pk).comments == record.comments


@on_postgres
def test_truncate_is_refused_to_the_app_role(record, as_app_role):
    for table in ("audit_auditlog", "audit_auditchain", "audit_auditlog_chain_key"):
        with pytest.raises(DatabaseError, match="permission denied"), as_app_role(record.tenant) as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditLog.objects.filter(pk=record.pk).exists()


@on_postgres
@pytest.mark.parametrize(
    "setting", ["authmon.audit_purge", "authmon.allow_truncate", "session_replication_role", "row_security"]
)
def test_no_session_setting_lets_the_app_role_delete(record, as_app_role, setting):
    """The attack the issue measured: ``set_config('authmon.audit_purge', 'on', true)`` then DELETE deleted 165 rows."""
    for value in ("on", "replica", "off"):
        with pytest.raises(DatabaseError), as_app_role(record.tenant) as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [setting, value])
            cursor.execute("DELETE FROM audit_auditlog WHERE tenant_id = %s", [record.tenant_id])
    assert AuditLog.objects.filter(pk=record.pk).exists()


@on_postgres
def test_the_purge_function_removes_only_what_the_anchor_passed(record, as_app_role):
    """The app role may call the purge function, but it deletes nothing the signed anchor has not passed, and
    nothing of another tenant than the transaction's."""
    with as_app_role(record.tenant) as cursor:
        cursor.execute("SELECT authmon_audit_purge(%s, %s)", [record.tenant_id, [record.pk]])
        assert cursor.fetchone()[0] == 0
    with pytest.raises(DatabaseError, match="not the tenant of this transaction"), as_app_role(None) as cursor:
        cursor.execute("SELECT authmon_audit_purge(%s, %s)", [record.tenant_id, [record.pk]])
    assert AuditLog.objects.filter(pk=record.pk).exists()


@on_postgres
def test_the_chain_head_only_moves_forward_and_is_never_deleted(record, as_app_role):
    with pytest.raises(DatabaseError, match="only moves forward"), as_app_role(record.tenant) as cursor:
        cursor.execute("UPDATE audit_auditchain SET last_seq = last_seq - 1 WHERE tenant_id = %s", [record.tenant_id])
    with pytest.raises(DatabaseError, match="permission denied"), as_app_role(record.tenant) as cursor:
        cursor.execute("DELETE FROM audit_auditchain WHERE tenant_id = %s", [record.tenant_id])
    with pytest.raises(DatabaseError, match="never deleted"):
        raw("DELETE FROM audit_auditchain WHERE tenant_id = %s", [record.tenant_id])  # the owner: records remain
    assert AuditChain.objects.get(tenant_id=record.tenant_id).last_seq == 1


@on_postgres
def test_superuser_bypassing_the_triggers_is_caught_by_verify(record, tenant_a):
    sample_record(registry.get("audit"), tenant_a, "later")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE needs no pending foreign-key checks
        cursor.execute("ALTER TABLE audit_auditlog DISABLE TRIGGER audit_auditlog_immutable")
        # one byte: the first character of the comment
        cursor.execute("UPDATE audit_auditlog SET comments = 'J' || substr(comments, 2) WHERE id = %s", [record.pk])
        cursor.execute("ALTER TABLE audit_auditlog ENABLE TRIGGER audit_auditlog_immutable")
    assert AuditLog.objects.get(pk=record.pk).comments != record.comments
    report = chain_verify(tenant=tenant_a)
    assert not report.ok
    assert (report.broken_seq, report.broken_id) == (record.seq, record.pk)


def test_trim_deletes_through_the_guard(tenant_a, record):
    from authmon.trim import tenant_trim

    retain(tenant_a, audit=0)
    assert tenant_trim(tenant=tenant_a, now=timezone.now()).deleted.get("audit") is None  # 0 days: keep forever
    retain(tenant_a, audit=1)
    assert tenant_trim(tenant=tenant_a, now=timezone.now() + dt.timedelta(days=2)).deleted["audit"] == 1
    assert chain_verify(tenant=tenant_a).ok
