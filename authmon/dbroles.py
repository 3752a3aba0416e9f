"""The database's own defences on PostgreSQL (DESIGN section 4): roles, row-level security, audit immutability.

- The **owner** role (``DATABASE_OWNER_URL``, else ``DATABASE_URL``) owns the tables and runs migrations.
- The **app** role (``DATABASE_URL`` of the console and API) owns nothing and is no superuser. It may read and
  write the tenant-owned tables, but only append to the audit tables; :func:`grant_app_role` gives exactly that,
  and ``manage.py db_roles`` creates the role.
- The **maintenance** role (:data:`MAINTENANCE_ROLE`, no login) owns the two functions that must see past the
  app role's limits: the audit purge (removes only records the signed trim anchor has already passed) and the
  API token lookup (one digest's tenant, before any tenant is known).

Row-level security is enabled and forced on every table with a ``tenant_id`` (:func:`tenant_tables`, read from the
catalogue; two are exempt, :data:`RLS_EXEMPT`), with the one policy :data:`POLICY_SQL`: ``migrate`` applies it to
any such table that lacks it (:func:`rls_ensure`), so a new kind's table is covered without a line of its own, and
``tests/security/test_rls.py`` walks ``pg_class`` to prove it.
"""

from __future__ import annotations

from typing import Any

MAINTENANCE_ROLE = "authmon_maintenance"
POLICY = "tenant_isolation"
CURRENT_TENANT_SQL = "NULLIF(current_setting('authmon.tenant_id', true), '')::bigint"
POLICY_SQL = f"tenant_id = {CURRENT_TENANT_SQL}"

RLS_EXEMPT = {
    "authmon_user": "the console's principals: read at sign-in, before any tenant is known",
    "authmon_retention": "tenant configuration like the tenant row: the trim reads every tenant's to drop partitions",
}

# What the app role may do to the audit tables: read and append, and move the chain head forward (a trigger
# refuses moving it back). No UPDATE of a record, no DELETE, no TRUNCATE, whatever the session's settings.
APPEND_ONLY = {
    "audit_auditlog": "SELECT, INSERT",
    "audit_auditlog_chain_key": "SELECT, INSERT",
    "audit_auditlog_ingest_key": "SELECT, INSERT",
    "audit_auditchain": "SELECT, INSERT, UPDATE",
    "audit_checkpointmark": "SELECT, INSERT, UPDATE",
}
FUNCTIONS = ("authmon_audit_purge(bigint, bigint[])", "authmon_api_token_tenant(text)")


def rls_enable_sql(table: str) -> list[str]:
    """Statements that enable and force row-level security on ``table`` with the tenant policy (idempotent)."""
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"DROP POLICY IF EXISTS {POLICY} ON {table}",
        f"CREATE POLICY {POLICY} ON {table} USING ({POLICY_SQL}) WITH CHECK ({POLICY_SQL})",
    ]


def rls_disable_sql(table: str) -> list[str]:
    return [
        f"DROP POLICY IF EXISTS {POLICY} ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    ]


def tenant_tables(cursor: Any) -> list[str]:
    """Every ordinary or partitioned table of the schema with a ``tenant_id`` column, but those of
    :data:`RLS_EXEMPT` (partitions are reached through their parent, whose policy applies)."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1"
    )
    return [name for (name,) in cursor.fetchall() if name not in RLS_EXEMPT]


def rls_ensure(cursor: Any) -> list[str]:
    """Enable and force the tenant policy on every tenant table that lacks it (run as the owner after migrating);
    returns the tables it changed. So a new kind's table, or any new table with a ``tenant_id``, is covered
    without a line of its own."""
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relrowsecurity AND c.relforcerowsecurity "
        "AND EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = %s)",
        [POLICY],
    )
    done = {name for (name,) in cursor.fetchall()}
    changed = [table for table in tenant_tables(cursor) if table not in done]
    for table in changed:
        for statement in rls_enable_sql(_quote(cursor, table)):
            cursor.execute(statement)
    return changed


def _quote(cursor: Any, name: str) -> str:
    cursor.execute("SELECT quote_ident(%s)", [name])
    return cursor.fetchone()[0]


def grant_app_role(cursor: Any, role: str) -> None:
    """Give ``role`` least privilege on every table of the schema (run as the owner; idempotent).

    Tables get SELECT, INSERT, UPDATE, DELETE except the audit tables (:data:`APPEND_ONLY`); never TRUNCATE and
    never anything on a partition (the app reaches partitioned rows through their parent, under its policy).
    Sequences get USAGE; the two maintenance functions EXECUTE.
    """
    role_sql = _quote(cursor, role)
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role_sql}")
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1"
    )
    for (table,) in cursor.fetchall():
        table_sql = _quote(cursor, table)
        cursor.execute(f"REVOKE ALL ON {table_sql} FROM {role_sql}")
        cursor.execute(f"GRANT {APPEND_ONLY.get(table, 'SELECT, INSERT, UPDATE, DELETE')} ON {table_sql} TO {role_sql}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role_sql}")
    for function in FUNCTIONS:
        cursor.execute(f"GRANT EXECUTE ON FUNCTION {function} TO {role_sql}")


def role_problems(cursor: Any, role: str) -> list[str]:
    """Why ``role`` is not fit to be the app role: a superuser, able to bypass policies, or owning a table."""
    cursor.execute("SELECT rolsuper, rolbypassrls, rolcreaterole FROM pg_roles WHERE rolname = %s", [role])
    row = cursor.fetchone()
    if row is None:
        return [f"there is no role {role}"]
    problems = []
    if row[0]:
        problems.append(f"{role} is a superuser (superusers bypass row-level security)")
    if row[1]:
        problems.append(f"{role} has BYPASSRLS")
    if row[2]:
        problems.append(f"{role} may create roles")
    cursor.execute(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND pg_has_role(%s, c.relowner, 'MEMBER')",
        [role],
    )
    if cursor.fetchone()[0]:
        problems.append(f"{role} owns tables of the schema (or is a member of their owner)")
    return problems


def owner_connect() -> None:
    """Point the default connection at ``DATABASE_OWNER_URL`` (when set) for a command that changes the schema.

    Migrations and ``db_roles`` run as the owner; everything else connects as ``DATABASE_URL``. Unset, the two are
    the same, as in development.
    """
    import os

    import dj_database_url
    from django.db import connections

    url = os.environ.get("DATABASE_OWNER_URL", "")
    if not url:
        return
    owner = dj_database_url.parse(url)
    connection = connections["default"]
    connection.close()
    for key in ("USER", "PASSWORD", "HOST", "PORT"):  # the database is DATABASE_URL's, whatever the owner URL says
        connection.settings_dict[key] = owner[key]


def app_role_name() -> str | None:
    """The app role of ``DATABASE_URL`` when the owner is another role (``DATABASE_OWNER_URL``), else None."""
    import os

    import dj_database_url

    app_url, owner_url = os.environ.get("DATABASE_URL", ""), os.environ.get("DATABASE_OWNER_URL", "")
    if not app_url or not owner_url:
        return None
    app, owner = dj_database_url.parse(app_url), dj_database_url.parse(owner_url)
    return app["USER"] if app["USER"] and app["USER"] != owner["USER"] else None


def defences_state(using: str = "default") -> tuple[bool, str]:
    """Whether the database enforces tenancy and audit immutability for this connection, and how to say so."""
    from django.db import connections

    connection = connections[using]
    if connection.vendor != "postgresql":
        return False, (
            "Off: this install runs in embedded mode (SQLite), which has no database roles, row-level security or "
            "triggers. Tenant isolation and audit immutability rest on authmon's code alone; use PostgreSQL in "
            "production (docs/scaling.md)."
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, row_security_active('audit_auditlog'::regclass)")
        role, active = cursor.fetchone()
    if active:
        return True, (
            f"On: authmon connects as {role}, a role that owns nothing; PostgreSQL shows it only this tenant's rows "
            "(row-level security) and refuses it any change or deletion of audit records."
        )
    return False, (
        f"Off: authmon connects as {role}, which owns the tables or is a superuser, so PostgreSQL does not hold it to "
        "one tenant. Connect the console as the app role (manage.py db_roles; docs/scaling.md)."
    )
