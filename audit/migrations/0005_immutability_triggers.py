"""PostgreSQL triggers that make audit records immutable in the database itself (SQLite: nothing to do).

- UPDATE of an audit record is refused.
- DELETE is refused unless the transaction has switched ``authmon.audit_purge`` on, which only
  ``AuditLogQuerySet.purge_expired`` (the retention trim) does, with ``set_config(..., true)``: transaction-local.
- TRUNCATE is refused (a test database allows it with ``ALTER DATABASE ... SET authmon.allow_truncate = 'on'``,
  because test runners empty tables that way).
- The chain head may only move forward: its last position and its anchor never decrease, and it is never deleted
  while its tenant has audit records.

The triggers stop accidents and application-level misuse; someone who owns the tables can still drop them, and
what such a person changes is then found by ``verify_audit_chain`` (the hash chain).
"""

from django.db import migrations

INSTALL = """
CREATE OR REPLACE FUNCTION authmon_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('authmon.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are immutable: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only the retention trim (purge_expired) may delete audit records.';
END;
$$;

CREATE OR REPLACE FUNCTION authmon_audit_truncate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('authmon.allow_truncate', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit records are immutable: TRUNCATE on % is refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION authmon_audit_chain_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF EXISTS (SELECT 1 FROM audit_auditlog WHERE tenant_id = OLD.tenant_id) THEN
            RAISE EXCEPTION 'the audit chain head of a tenant with audit records cannot be deleted'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.last_seq < OLD.last_seq OR NEW.anchor_seq < OLD.anchor_seq OR NEW.tenant_id <> OLD.tenant_id THEN
        RAISE EXCEPTION 'the audit chain head only moves forward'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

DROP TRIGGER IF EXISTS audit_auditlog_immutable ON audit_auditlog;
CREATE TRIGGER audit_auditlog_immutable BEFORE UPDATE OR DELETE ON audit_auditlog
    FOR EACH ROW EXECUTE FUNCTION authmon_audit_guard();
DROP TRIGGER IF EXISTS audit_auditlog_no_truncate ON audit_auditlog;
CREATE TRIGGER audit_auditlog_no_truncate BEFORE TRUNCATE ON audit_auditlog
    FOR EACH STATEMENT EXECUTE FUNCTION authmon_audit_truncate_guard();
DROP TRIGGER IF EXISTS audit_auditchain_forward ON audit_auditchain;
CREATE TRIGGER audit_auditchain_forward BEFORE UPDATE OR DELETE ON audit_auditchain
    FOR EACH ROW EXECUTE FUNCTION authmon_audit_chain_guard();
"""

REMOVE = """
DROP TRIGGER IF EXISTS audit_auditlog_immutable ON audit_auditlog;
DROP TRIGGER IF EXISTS audit_auditlog_no_truncate ON audit_auditlog;
DROP TRIGGER IF EXISTS audit_auditchain_forward ON audit_auditchain;
DROP FUNCTION IF EXISTS authmon_audit_guard();
DROP FUNCTION IF EXISTS authmon_audit_truncate_guard();
DROP FUNCTION IF EXISTS authmon_audit_chain_guard();
"""


def _run(schema_editor, sql):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(sql)  # no parameters: the "%" of RAISE must not be read as a placeholder


def install(apps, schema_editor):
    _run(schema_editor, INSTALL)


def remove(apps, schema_editor):
    _run(schema_editor, REMOVE)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0004_audit_chain_required"),
    ]

    operations = [migrations.RunPython(install, remove)]
