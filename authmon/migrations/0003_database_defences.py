"""The database defends itself on PostgreSQL (DESIGN section 4; authmon.dbroles); nothing on SQLite.

- Row-level security, enabled and forced, with the tenant policy on every tenant-owned table.
- The maintenance role (no login) and its two SECURITY DEFINER functions: the audit purge, which deletes only
  records of the transaction's tenant that the signed trim anchor has passed, and the API token lookup.
- The audit immutability triggers no longer read any session setting: a DELETE or TRUNCATE of audit records is let
  through only for the maintenance role (inside the purge function) or the tables' owner (partition upkeep,
  migrations; the owner could drop the triggers anyway). The chain head is never deleted by anyone else.
"""

import importlib

from django.db import migrations

from authmon.dbroles import CURRENT_TENANT_SQL, MAINTENANCE_ROLE, rls_disable_sql, rls_enable_sql

# The tenant tables of this migration's time; later ones get the policy from ``migrate`` (dbroles.rls_ensure).
TENANT_TABLES = (
    "authmon_apitoken",
    "audit_auditlog",
    "audit_auditlog_chain_key",
    "audit_auditlog_ingest_key",
    "audit_auditchain",
    "audit_checkpointmark",
    "events_eventlog",
    "events_eventlog_ingest_key",
    "jobs_joblog",
    "jobs_joblog_ingest_key",
    "jobs_jobrun",
    "jobs_runfile",
    "notifications_notificationlog",
    "notifications_notificationlog_ingest_key",
    "sessions_grants_session",
    "sessions_grants_grant",
    "sessions_grants_revocationwebhook",
    "sessions_grants_revocationdelivery",
    "sessions_grants_revocationkeptreport",
    "insights_detectionsettings",
    "insights_alertrule",
    "insights_alertmark",
    "insights_reviewnote",
)

ROLE = f"""
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{MAINTENANCE_ROLE}') THEN
        CREATE ROLE {MAINTENANCE_ROLE} NOLOGIN;
    END IF;
END
$$;
GRANT {MAINTENANCE_ROLE} TO CURRENT_USER;
GRANT USAGE ON SCHEMA public TO {MAINTENANCE_ROLE};
GRANT SELECT, DELETE ON audit_auditlog, audit_auditlog_chain_key, audit_auditlog_ingest_key TO {MAINTENANCE_ROLE};
GRANT SELECT ON audit_auditchain, authmon_apitoken TO {MAINTENANCE_ROLE};
"""

# Who may remove audit records: the maintenance role (the purge function runs as it) or the tables' owner.
REMOVER = f"""
CREATE OR REPLACE FUNCTION authmon_audit_remover() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(current_user, '{MAINTENANCE_ROLE}', 'MEMBER')
        OR pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = 'public.audit_auditlog'::regclass),
                       'MEMBER')
$$;

CREATE OR REPLACE FUNCTION authmon_audit_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND authmon_audit_remover() THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit records are immutable: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Only the retention trim may delete audit records, through authmon_audit_purge().';
END;
$$;

CREATE OR REPLACE FUNCTION authmon_audit_truncate_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF authmon_audit_remover() THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit records are immutable: TRUNCATE on % is refused', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE OR REPLACE FUNCTION authmon_audit_chain_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF NOT authmon_audit_remover() OR EXISTS (SELECT 1 FROM audit_auditlog WHERE tenant_id = OLD.tenant_id) THEN
            RAISE EXCEPTION 'the audit chain head of a tenant is never deleted: it remembers the tenant had records'
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
"""

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION authmon_audit_purge(p_tenant bigint, p_ids bigint[]) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    anchor bigint;
    removed bigint;
BEGIN
    IF p_tenant IS NULL OR p_tenant IS DISTINCT FROM {CURRENT_TENANT_SQL} THEN
        RAISE EXCEPTION 'authmon_audit_purge: tenant % is not the tenant of this transaction', p_tenant
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    SELECT anchor_seq INTO anchor FROM audit_auditchain WHERE tenant_id = p_tenant;
    DELETE FROM audit_auditlog WHERE tenant_id = p_tenant AND id = ANY(p_ids) AND seq <= COALESCE(anchor, 0);
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END;
$$;
ALTER FUNCTION authmon_audit_purge(bigint, bigint[]) OWNER TO {MAINTENANCE_ROLE};
REVOKE ALL ON FUNCTION authmon_audit_purge(bigint, bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION authmon_api_token_tenant(p_digest text) RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT tenant_id FROM authmon_apitoken WHERE digest = p_digest AND revoked_at IS NULL
$$;
ALTER FUNCTION authmon_api_token_tenant(text) OWNER TO {MAINTENANCE_ROLE};
REVOKE ALL ON FUNCTION authmon_api_token_tenant(text) FROM PUBLIC;
DROP POLICY IF EXISTS token_lookup ON authmon_apitoken;
CREATE POLICY token_lookup ON authmon_apitoken FOR SELECT TO {MAINTENANCE_ROLE} USING (true);
"""

# The purge's DELETE fires the key tables' triggers, which delete there as the maintenance role, under the same
# tenant policy: the function refuses any tenant but the transaction's own.
UNDO = """
DROP POLICY IF EXISTS token_lookup ON authmon_apitoken;
DROP FUNCTION IF EXISTS authmon_api_token_tenant(text);
DROP FUNCTION IF EXISTS authmon_audit_purge(bigint, bigint[]);
"""


def _execute(schema_editor, statements):
    with schema_editor.connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)  # no parameters: the "%" of RAISE must not be read as a placeholder


def install(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _execute(schema_editor, [ROLE, REMOVER, FUNCTIONS])
    _execute(schema_editor, [sql for table in TENANT_TABLES for sql in rls_enable_sql(table)])


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _execute(schema_editor, [sql for table in TENANT_TABLES for sql in rls_disable_sql(table)])
    _execute(schema_editor, [UNDO])
    # The guards as audit 0005 made them (its CREATE OR REPLACE, with their setting switches) and the chain triggers.
    _execute(schema_editor, [importlib.import_module("audit.migrations.0005_immutability_triggers").INSTALL])


class Migration(migrations.Migration):
    dependencies = [
        ("authmon", "0002_api_token_display_prefix"),
        ("audit", "0009_checkpoint_mark"),
        ("events", "0004_tenant_index_key_trigger_plans"),
        ("insights", "0004_revoked_reported_active"),
        ("jobs", "0005_console_runs"),
        ("notifications", "0004_tenant_index_key_trigger_plans"),
        ("sessions_grants", "0006_revocation_kept_report"),
    ]

    operations = [migrations.RunPython(install, remove)]
