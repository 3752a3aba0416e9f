"""Audit records cannot be changed: the ORM refuses, PostgreSQL's triggers refuse raw SQL, and a superuser who
switches the triggers off is caught by verify."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from audit.chain import chain_verify
from audit.models import AuditChain, AuditLog, ImmutableRecordError
from authmon import registry
from tests.samples import sample_record

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
def test_raw_sql_cannot_change_or_delete(record, sql):
    with pytest.raises(DatabaseError, match="immutable"):
        raw(sql, [record.pk])
    assert AuditLog.objects.get(pk=record.pk).comments == record.comments
    assert chain_verify(tenant=record.tenant).ok


@on_postgres
def test_truncate_is_refused(record):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL authmon.allow_truncate = 'off'")  # the test database allows it for its flush
        with pytest.raises(DatabaseError, match="TRUNCATE"), transaction.atomic():
            cursor.execute("TRUNCATE audit_auditlog CASCADE")
    assert AuditLog.objects.filter(pk=record.pk).exists()


@on_postgres
def test_the_purge_switch_is_transaction_local(record):
    AuditLog.objects.filter(pk=-1).purge_expired()  # switches the guard on and off inside its own savepoint
    with pytest.raises(DatabaseError, match="immutable"):
        raw("DELETE FROM audit_auditlog WHERE id = %s", [record.pk])


@on_postgres
def test_the_chain_head_only_moves_forward(record):
    with pytest.raises(DatabaseError, match="only moves forward"):
        raw("UPDATE audit_auditchain SET last_seq = last_seq - 1 WHERE tenant_id = %s", [record.tenant_id])
    with pytest.raises(DatabaseError, match="cannot be deleted"):
        raw("DELETE FROM audit_auditchain WHERE tenant_id = %s", [record.tenant_id])
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
    from authmon.maintenance import tenant_trim

    tenant_a.retention_audit_days = 0
    tenant_a.save()
    assert tenant_trim(tenant=tenant_a, now=timezone.now()).deleted.get("audit") is None  # 0 days: keep forever
    tenant_a.retention_audit_days = 1
    tenant_a.save()
    assert tenant_trim(tenant=tenant_a, now=timezone.now() + dt.timedelta(days=2)).deleted["audit"] == 1
    assert chain_verify(tenant=tenant_a).ok
