"""Monthly range partitions for the high-volume record tables on PostgreSQL (see docs/scaling.md).

On PostgreSQL the events, notifications and job logs tables are ``PARTITION BY RANGE`` on their time field, one
partition per calendar month (UTC) plus a default partition that catches whatever has no month partition yet. Django's
model state does not change: ``id`` stays the primary key as far as the ORM knows, while the physical key is ``(id,
time)`` (a primary key of a partitioned table must contain the partition key). SQLite keeps plain tables; every
function here is a no-op there.

The one contract partitioning breaks is the unique ``(tenant, external_id)`` idempotency key: a unique index on a
partitioned table must contain the partition key too. It is kept by a small side table, ``<table>_ingest_key``
``(tenant_id, external_id, time)``, that carries the unique index of the original name
(``<app>_<model>_external_id_uniq``) and is maintained by statement-level triggers on the partitioned table in the
same statement as the rows themselves. A second insert of a known key therefore fails with the same unique
violation (SQLSTATE 23505) as before, which ingest already treats as "a concurrent batch won; re-run and count
duplicates".

Partitions are created ahead (:func:`partitions_ensure`, from a periodic job and at migrate time) and dropped whole
when every tenant's retention has passed their month (:func:`partitions_past`, :func:`partition_drop`, used by the
trim in ``console.maintenance``).
"""

# ruff: noqa: S608 - the SQL here is DDL and maintenance built from table and column names out of Django's models and
# PostgreSQL's catalogue (always quoted) and from month bounds computed in this module; no user text reaches it.
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.models import Model
from django.utils import timezone

MONTHS_AHEAD = 3
SPLIT_YEARS_BACK = 10  # months found in the default partition further back than this stay there
LOCK_TIMEOUT = "10s"  # DDL on a busy table waits at most this long, then the run reports it and tries next time
_ADVISORY_LOCK = 0x61757468_6D6F6E  # one partition maintainer at a time ("authmon")
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")
KEY_COLUMNS = ("tenant_id", "external_id")
# Key tables by name suffix and key columns: the external_id key of every partitioned kind, and the audit chain's
# (tenant, seq) position, which is unique per tenant whatever the record's time (see docs/scaling.md section 8).
KEY_TABLES = {"ingest_key": KEY_COLUMNS, "chain_key": ("tenant_id", "seq")}


# ------------------------------------------------------------------------------------------------------ naming


def month_floor(when: dt.datetime) -> dt.datetime:
    """The first instant (UTC) of the calendar month that holds ``when``."""
    when = when.astimezone(dt.UTC)
    return dt.datetime(when.year, when.month, 1, tzinfo=dt.UTC)


def month_add(month: dt.datetime, months: int) -> dt.datetime:
    index = month.year * 12 + month.month - 1 + months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def partition_name(table: str, month: dt.datetime) -> str:
    return f"{table}_p{month:%Y_%m}"


def default_partition_name(table: str) -> str:
    return f"{table}_default"


def key_table_name(table: str, suffix: str = "ingest_key") -> str:
    return f"{table}_{suffix}"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _literal(when: dt.datetime) -> str:
    """A timestamptz literal for a partition bound (bounds are computed here, never taken from user input)."""
    return "'" + when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S+00") + "'"


# ------------------------------------------------------------------------------------------------- catalogue


@dataclass(frozen=True)
class Partition:
    """One partition of a partitioned table: a month ``[start, end)``, or the default (``start`` is None)."""

    table: str
    name: str
    start: dt.datetime | None
    end: dt.datetime | None
    rows_estimate: int  # pg_class.reltuples; -1 when the partition was never analysed

    @property
    def is_default(self) -> bool:
        return self.start is None


def _parse_bound(text: str) -> dt.datetime:
    from django.utils.dateparse import parse_datetime

    parsed = parse_datetime(text)
    if parsed is None:
        raise ValueError(f"Unexpected partition bound {text!r}")
    return parsed.astimezone(dt.UTC)


def partitioned_tables() -> dict[str, str]:
    """Range-partitioned tables of the current schema and their partition column (empty on other databases)."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, a.attname
              FROM pg_partitioned_table p
              JOIN pg_class c ON c.oid = p.partrelid
              JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
             WHERE p.partstrat = 'r' AND c.relnamespace = current_schema()::regnamespace
            """
        )
        return dict(cursor.fetchall())


def is_partitioned(model: type[Model]) -> bool:
    """Whether ``model``'s table is range-partitioned here (only ever on PostgreSQL)."""
    return model._meta.db_table in partitioned_tables()


def partitions_list(table: str) -> list[Partition]:
    """The partitions of ``table``, oldest month first, the default partition last."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT child.relname, pg_get_expr(child.relpartbound, child.oid), child.reltuples::bigint
              FROM pg_inherits i JOIN pg_class child ON child.oid = i.inhrelid
             WHERE i.inhparent = %s::regclass
            """,
            [table],
        )
        rows = cursor.fetchall()
    found = []
    for name, bound, estimate in rows:
        match = _BOUND.search(bound)
        start, end = (_parse_bound(match[1]), _parse_bound(match[2])) if match else (None, None)
        found.append(Partition(table, name, start, end, int(estimate)))
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    return sorted(found, key=lambda p: (p.is_default, p.start or far))


def partitions_past(table: str, *, before: dt.datetime) -> list[Partition]:
    """Month partitions of ``table`` whose whole range lies before ``before`` (candidates for dropping)."""
    return [p for p in partitions_list(table) if not p.is_default and p.end is not None and p.end <= before]


def _columns(cursor: Any, table: str) -> list[str]:
    cursor.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped "
        "ORDER BY attnum",
        [table],
    )
    return [name for (name,) in cursor.fetchall()]


def _has_table(cursor: Any, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return bool(cursor.fetchone()[0])


# --------------------------------------------------------------------------------------- creating partitions


def _month_create(cursor: Any, table: str, column: str, month: dt.datetime) -> tuple[str, int]:
    """Create the partition of ``month``; rows of that month waiting in the default partition move into it.

    The partition is built as a table of its own and then attached: ATTACH PARTITION takes only a SHARE UPDATE
    EXCLUSIVE lock on the parent, so reads and ingest carry on (CREATE TABLE ... PARTITION OF would block them).
    PostgreSQL refuses a partition whose range has rows in the default partition, so those move first; they move
    between partitions directly, and the parent's triggers (the external_id and chain keys) rightly do not fire. The
    audit log's immutability trigger, cloned to the default partition, lets the move's DELETE through because the
    tables' owner runs it (partition upkeep is the owner's work, authmon.dbroles), and the parent's BEFORE TRUNCATE
    guards, which PostgreSQL does not clone, are added to the new partition.
    """
    name, default = partition_name(table, month), default_partition_name(table)
    bounds = f"FROM ({_literal(month)}) TO ({_literal(month_add(month, 1))})"
    in_range = f"{_q(column)} >= {_literal(month)} AND {_q(column)} < {_literal(month_add(month, 1))}"
    columns = ", ".join(_q(c) for c in _columns(cursor, table))
    cursor.execute(f"CREATE TABLE {_q(name)} (LIKE {_q(table)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    cursor.execute(
        f"WITH moved AS (DELETE FROM {_q(default)} WHERE {in_range} RETURNING {columns}) "
        f"INSERT INTO {_q(name)} ({columns}) SELECT {columns} FROM moved"
    )
    moved = cursor.rowcount
    cursor.execute(f"ALTER TABLE {_q(table)} ATTACH PARTITION {_q(name)} FOR VALUES {bounds}")
    truncate_guards_copy(cursor, table, [name])
    _index_names_align(cursor, table, name)
    return name, moved


def _index_names_align(cursor: Any, table: str, name: str) -> None:
    """Name partition ``name``'s indexes after the parent's (``audit_action_trgm_p2026_05``), not PostgreSQL's.

    A query plan then names the index it uses (``EXPLAIN`` shows only the partitions' indexes); a name that would
    not fit in 63 bytes keeps the one PostgreSQL generated.
    """
    suffix = name.removeprefix(f"{table}_")
    cursor.execute(
        "SELECT child.relname, parent.relname FROM pg_index x JOIN pg_class child ON child.oid = x.indexrelid "
        "JOIN pg_inherits i ON i.inhrelid = x.indexrelid JOIN pg_class parent ON parent.oid = i.inhparent "
        "WHERE x.indrelid = %s::regclass AND NOT x.indisprimary ORDER BY 2",
        [name],
    )
    for child, parent in cursor.fetchall():
        wanted = f"{parent}_{suffix}"
        if child != wanted and len(wanted.encode()) <= 63:
            cursor.execute(f"ALTER INDEX {_q(child)} RENAME TO {_q(wanted)}")


def truncate_guards_copy(cursor: Any, table: str, names: list[str]) -> None:
    """Give partitions ``names`` the parent's BEFORE TRUNCATE statement triggers, which PostgreSQL does not clone.

    Row triggers of a partitioned table are cloned to every partition (also ones attached later); statement
    triggers are not, so without this a ``TRUNCATE`` of one audit partition would get past the immutability guard.
    """
    cursor.execute(
        "SELECT tgname, tgfoid::regproc::text FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal "
        "AND tgtype & 32 <> 0 AND tgtype & 2 <> 0 ORDER BY tgname",  # TRUNCATE and BEFORE
        [table],
    )
    for trigger, function in cursor.fetchall():
        for name in names:
            cursor.execute(
                f"CREATE TRIGGER {_q(trigger)} BEFORE TRUNCATE ON {_q(name)} FOR EACH STATEMENT EXECUTE FUNCTION "
                f"{function}()"
            )


def _months_wanted(cursor: Any, table: str, column: str, now: dt.datetime, months_ahead: int) -> list[dt.datetime]:
    """This month and ``months_ahead`` after it, plus recent past months that have rows in the default partition."""
    current = month_floor(now)
    wanted = {month_add(current, n) for n in range(months_ahead + 1)}
    oldest, newest = month_add(current, -12 * SPLIT_YEARS_BACK), month_add(current, months_ahead + 1)
    cursor.execute(
        f"SELECT DISTINCT date_trunc('month', {_q(column)} AT TIME ZONE 'UTC') FROM {_q(default_partition_name(table))}"
        f" WHERE {_q(column)} >= {_literal(oldest)} AND {_q(column)} < {_literal(newest)}"
    )
    wanted.update(month.replace(tzinfo=dt.UTC) for (month,) in cursor.fetchall())
    return sorted(wanted)


@dataclass
class EnsureReport:
    """What :func:`partitions_ensure` did: partitions created, rows moved out of default partitions, tables skipped."""

    created: list[str] = field(default_factory=list)
    moved_rows: int = 0
    busy: list[str] = field(default_factory=list)  # tables whose lock could not be had within LOCK_TIMEOUT

    def summary(self) -> str:
        if not self.created and not self.busy:
            return "All partitions in place."
        parts = []
        if self.created:
            parts.append(f"Created {len(self.created)} partition(s): {', '.join(self.created)}")
        if self.moved_rows:
            parts.append(f"moved {self.moved_rows:,} rows out of default partitions")
        if self.busy:
            parts.append(f"{', '.join(self.busy)} busy, retried on the next run")
        return "; ".join(parts) + "."


def partitions_ensure(*, now: dt.datetime | None = None, months_ahead: int = MONTHS_AHEAD) -> EnsureReport:
    """Create the month partitions of every partitioned table from this month to ``months_ahead`` months on.

    Months that have rows waiting in the default partition (a late or back-dated record) get their partition too,
    and the rows move into it, so that the default stays small and retention can drop whole months. Safe to run
    at any time and from several processes (one advisory lock); a table whose lock cannot be taken within
    ``LOCK_TIMEOUT`` (a long export holding it) is skipped and reported. A no-op without PostgreSQL.
    """
    report = EnsureReport()
    now = now or timezone.now()
    for table, column in partitioned_tables().items():
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
                existing = {p.name for p in partitions_list(table)}
                for month in _months_wanted(cursor, table, column, now, months_ahead):
                    if partition_name(table, month) in existing:
                        continue
                    name, moved = _month_create(cursor, table, column, month)
                    report.created.append(name)
                    report.moved_rows += moved
        except OperationalError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != "55P03":  # lock_not_available
                raise
            report.busy.append(table)
    return report


# --------------------------------------------------------------------------------------- dropping partitions


class _Kept(Exception):
    """Raised inside the drop's transaction to undo the detach: the partition holds rows that must stay."""


def partition_drop(partition: Partition, *, column: str, keep_where: str | None = None) -> str:
    """Detach and drop one month partition (every tenant's rows of that month) and its external_id keys.

    The caller decides that the month is past every tenant's retention. ``keep_where`` is an SQL condition on the
    partition's rows (built by the caller from constants, never from user input) for rows that no trim may remove,
    such as jobs still pending or running: a partition holding one is left in place ("kept"), checked before
    anything is removed and again under the table lock, after the detach. The rows are the partition aliased ``r``.

    Dropping a table fires no delete trigger, so the month's idempotency keys are deleted here (then the same
    external_id can be ingested again, as after a row-by-row delete). That is the bulk of the work, so it happens
    first, without the table lock: meanwhile ingest still finds the month's records by its own look-up and counts
    them as duplicates. Detach and drop then hold the table's exclusive lock for milliseconds. Returns "dropped",
    "kept", or "busy" (the partition stays) when that lock could not be taken within ``LOCK_TIMEOUT``; the next trim
    tries again.
    """
    if partition.is_default or partition.start is None or partition.end is None:
        raise ValueError("Only month partitions can be dropped.")
    in_range = f"{_q(column)} >= {_literal(partition.start)} AND {_q(column)} < {_literal(partition.end)}"
    kept_rows = f"SELECT EXISTS (SELECT 1 FROM {_q(partition.name)} r WHERE {keep_where})" if keep_where else ""
    with connection.cursor() as cursor:
        key_tables = _key_tables(cursor, partition.table)
        if kept_rows and _has_table(cursor, partition.name):
            cursor.execute(kept_rows)
            if cursor.fetchone()[0]:
                return "kept"
    for keys in key_tables:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {_q(keys)} WHERE {in_range}")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK])
            if not _has_table(cursor, partition.name):  # another trim dropped it meanwhile
                return "dropped"
            cursor.execute(f"ALTER TABLE {_q(partition.table)} DETACH PARTITION {_q(partition.name)}")
            if kept_rows:  # a row to keep arrived since the first look: undo the detach
                cursor.execute(kept_rows)
                if cursor.fetchone()[0]:
                    raise _Kept
            cursor.execute(f"DROP TABLE {_q(partition.name)}")
            for keys in key_tables:  # keys of records written to the month since the first pass
                cursor.execute(f"DELETE FROM {_q(keys)} WHERE {in_range}")
    except _Kept:
        _keys_restore(partition, column=column)
        return "kept"
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != "55P03":
            raise
        return "busy"
    return "dropped"


def _key_tables(cursor: Any, table: str) -> list[str]:
    """The key tables ``table`` has (its external_id keys; for the audit log also its chain positions)."""
    return [key_table_name(table, suffix) for suffix in KEY_TABLES if _has_table(cursor, key_table_name(table, suffix))]


def _keys_restore(partition: Partition, *, column: str) -> None:
    """Put back the keys of a partition that turned out to be kept after its keys were deleted."""
    with transaction.atomic(), connection.cursor() as cursor:
        for suffix, (tenant, key) in KEY_TABLES.items():
            keys = key_table_name(partition.table, suffix)
            if _has_table(cursor, keys):
                cursor.execute(
                    f"INSERT INTO {_q(keys)} ({tenant}, {key}, {_q(column)}) "
                    f"SELECT {tenant}, {key}, {_q(column)} FROM {_q(partition.name)} "
                    f"WHERE {key} IS NOT NULL ORDER BY 1, 2 ON CONFLICT DO NOTHING"
                )


# ------------------------------------------------------------------------------ converting a table (migrations)


def _key_table_install(
    schema_editor: BaseDatabaseSchemaEditor, table: str, column: str, unique_name: str, suffix: str = "ingest_key"
) -> None:
    """A key table of ``table`` (``KEY_TABLES[suffix]``) filled from its rows, and the triggers keeping it in step."""
    keys, run = key_table_name(table, suffix), schema_editor.execute
    tenant, key = KEY_TABLES[suffix]
    fill = f"SELECT {tenant}, {key}, {_q(column)} FROM {_q(table)} WHERE {key} IS NOT NULL"
    run(f"CREATE TABLE {_q(keys)} AS {fill}")
    for name in (tenant, key, column):
        run(f"ALTER TABLE {_q(keys)} ALTER COLUMN {_q(name)} SET NOT NULL")
    run(f"CREATE UNIQUE INDEX {_q(unique_name)} ON {_q(keys)} ({tenant}, {key})")
    run(f"CREATE INDEX {_q(keys + '_time')} ON {_q(keys)} ({_q(column)})")
    time = _q(column)
    changed = f"(o.{tenant}, o.{key}, o.{time}) IS DISTINCT FROM (n.{tenant}, n.{key}, n.{time})"
    bodies = {
        # Keys are inserted in key order, so two batches carrying the same keys wait for each other, not deadlock.
        "insert": f"INSERT INTO {_q(keys)} ({tenant}, {key}, {_q(column)}) "
        f"SELECT {tenant}, {key}, {_q(column)} FROM new_rows WHERE {key} IS NOT NULL "
        f"ORDER BY {tenant}, {key};",
        "delete": f"DELETE FROM {_q(keys)} k USING old_rows o WHERE k.{tenant} = o.{tenant} AND k.{key} = o.{key};",
        "update": f"DELETE FROM {_q(keys)} k USING old_rows o JOIN new_rows n ON n.id = o.id "
        f"WHERE {changed} AND k.{tenant} = o.{tenant} AND k.{key} = o.{key}; "
        f"INSERT INTO {_q(keys)} ({tenant}, {key}, {_q(column)}) "
        f"SELECT n.{tenant}, n.{key}, n.{_q(column)} FROM new_rows n JOIN old_rows o ON o.id = n.id "
        f"WHERE n.{key} IS NOT NULL AND {changed} ORDER BY 1, 2;",
        "truncate": f"TRUNCATE {_q(keys)};",
    }
    referencing = {
        "insert": "REFERENCING NEW TABLE AS new_rows",
        "delete": "REFERENCING OLD TABLE AS old_rows",
        "update": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "truncate": "",
    }
    for event, body in bodies.items():
        function = _q(f"{keys}_{event}")
        run(f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$")
        if event in KEY_JOIN_EVENTS:
            _key_join_settings(run, function, on=True)
        run(
            f"CREATE TRIGGER {_q(f'{keys}_{event}')} AFTER {event.upper()} ON {_q(table)} {referencing[event]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


# The delete and update triggers join the statement's rows (a transition table, which has no statistics) to the key
# table. Left to itself the planner hashes the whole key table for every statement: 2.7 s per batch of 5,000 deleted
# rows with 11 million keys (measured), which made a batched trim of one tenant's month take minutes. Probing the
# key table's unique index once per row costs milliseconds, so these functions plan without hash or merge joins.
KEY_JOIN_EVENTS = ("delete", "update")
_KEY_JOIN_SETTINGS = ("enable_hashjoin", "enable_mergejoin")


def _key_join_settings(run: Any, function: str, *, on: bool) -> None:
    for name in _KEY_JOIN_SETTINGS:
        run(f"ALTER FUNCTION {function}() SET {name} = off" if on else f"ALTER FUNCTION {function}() RESET {name}")


def key_triggers_tune(schema_editor: BaseDatabaseSchemaEditor, table: str, *, on: bool = True) -> None:
    """Give an existing external_id key table's join triggers the planner settings new ones get (a migration)."""
    if schema_editor.connection.vendor != "postgresql":
        return
    keys = key_table_name(table)
    with schema_editor.connection.cursor() as cursor:
        for event in KEY_JOIN_EVENTS:
            cursor.execute("SELECT to_regproc(%s)", [f"{keys}_{event}"])
            if cursor.fetchone()[0] is not None:
                _key_join_settings(schema_editor.execute, _q(f"{keys}_{event}"), on=on)


def _key_table_remove(schema_editor: BaseDatabaseSchemaEditor, table: str, suffix: str = "ingest_key") -> None:
    keys = key_table_name(table, suffix)
    for event in ("insert", "delete", "update", "truncate"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {_q(f'{keys}_{event}')} ON {_q(table)}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {_q(f'{keys}_{event}')}()")
    schema_editor.execute(f"DROP TABLE IF EXISTS {_q(keys)}")


def _definitions(cursor: Any, table: str) -> tuple[list[tuple[str, str, bool, bool]], list[tuple[str, str]]]:
    """Index (name, definition, unique, primary) and foreign-key (name, definition) of ``table``, to replay."""
    cursor.execute(
        "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisunique, i.indisprimary FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass ORDER BY c.relname",
        [table],
    )
    indexes = cursor.fetchall()
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f' "
        "ORDER BY conname",
        [table],
    )
    return indexes, cursor.fetchall()


def table_partition(
    schema_editor: BaseDatabaseSchemaEditor,
    *,
    model: type[Model],
    column: str,
    now: dt.datetime | None = None,
    months_ahead: int = MONTHS_AHEAD,
    key_tables: dict[str, str] | None = None,
) -> None:
    """Turn ``model``'s plain table into one range-partitioned by month on ``column`` (PostgreSQL; a migration step).

    The rows are copied into month partitions (months older than ``SPLIT_YEARS_BACK`` years go to the default
    partition), the primary key becomes ``(id, column)``, ``id`` draws from an owned sequence (a partitioned table
    cannot have an identity column before PostgreSQL 17), every index and foreign key is recreated under its own
    name as a partitioned one, and the ``(tenant, external_id)`` unique constraint moves to the key table (see the
    module docstring). ``key_tables`` maps the names of other unique constraints to the ``KEY_TABLES`` suffix of the
    key table that keeps them (the audit log's ``(tenant, seq)`` chain position). Runs inside the migration's
    transaction: all or nothing. Rewrites the table: on a large installation run it in a maintenance window.
    """
    table = model._meta.db_table
    old = f"{table}__unpartitioned"
    unique_name = f"{model._meta.app_label}_{model._meta.model_name}_external_id_uniq"
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        indexes, foreign_keys = _definitions(cursor, table)
        kept = {unique_name, *(key_tables or {})}
        unexpected = [name for name, _sql, unique, primary in indexes if unique and not primary and name not in kept]
        if unexpected:
            raise ValueError(f"{table}: unique indexes {unexpected} cannot be kept on a partitioned table.")
        run(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
        run(
            f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE) "
            f"PARTITION BY RANGE ({_q(column)})"
        )
        run(f"CREATE TABLE {_q(default_partition_name(table))} PARTITION OF {_q(table)} DEFAULT")
        current = month_floor(now or timezone.now())
        oldest = month_add(current, -12 * SPLIT_YEARS_BACK)
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', {_q(column)} AT TIME ZONE 'UTC') FROM {_q(old)} "
            f"WHERE {_q(column)} >= {_literal(oldest)}"
        )
        months = {month.replace(tzinfo=dt.UTC) for (month,) in cursor.fetchall()}
        months.update(month_add(current, n) for n in range(months_ahead + 1))
        for month in sorted(months):
            bounds = f"FROM ({_literal(month)}) TO ({_literal(month_add(month, 1))})"
            run(f"CREATE TABLE {_q(partition_name(table, month))} PARTITION OF {_q(table)} FOR VALUES {bounds}")
        columns = ", ".join(_q(c) for c in _columns(cursor, old))
        run(f"INSERT INTO {_q(table)} ({columns}) SELECT {columns} FROM {_q(old)}")
        run(f"DROP TABLE {_q(old)}")  # with it go its identity sequence, indexes and constraints
        sequence = f"{table}_id_seq"
        run(f"CREATE SEQUENCE {_q(sequence)} AS bigint OWNED BY {_q(table)}.id")
        run(f"SELECT setval('{sequence}', COALESCE((SELECT MAX(id) FROM {_q(table)}), 0) + 1, false)")
        run(f"ALTER TABLE {_q(table)} ALTER COLUMN id SET DEFAULT nextval('{sequence}')")
        run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id, {_q(column)})")
        for name, definition in foreign_keys:
            run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        for _name, sql, unique, _primary in indexes:
            if not unique:
                run(sql)  # "CREATE INDEX name ON public.<table> ..." names the new table now
        # ingest looks known external_ids up on the record table; the unique index no longer serves that here.
        run(
            f"CREATE INDEX {_q(table + '_ext_id')} ON {_q(table)} (tenant_id, external_id) "
            "WHERE external_id IS NOT NULL"
        )
        for partition in partitions_list(table):
            _index_names_align(cursor, table, partition.name)
        _key_table_install(schema_editor, table, column, unique_name)
        for name, suffix in (key_tables or {}).items():
            _key_table_install(schema_editor, table, column, name, suffix)
        run(f"ANALYZE {_q(table)}")


def table_unpartition(schema_editor: BaseDatabaseSchemaEditor, *, model: type[Model], column: str) -> None:
    """Reverse :func:`table_partition`: one plain table again, identity ``id``, the unique constraint back on it."""
    table = model._meta.db_table
    old = f"{table}__partitioned"
    run = schema_editor.execute
    with schema_editor.connection.cursor() as cursor:
        indexes, foreign_keys = _definitions(cursor, table)
        for suffix in KEY_TABLES:
            _key_table_remove(schema_editor, table, suffix)
        run(f"ALTER SEQUENCE {_q(table + '_id_seq')} OWNED BY NONE")
        run(f"ALTER TABLE {_q(table)} RENAME TO {_q(old)}")
        run(f"CREATE TABLE {_q(table)} (LIKE {_q(old)} INCLUDING CONSTRAINTS INCLUDING STORAGE)")
        columns = ", ".join(_q(c) for c in _columns(cursor, old))
        run(f"INSERT INTO {_q(table)} ({columns}) SELECT {columns} FROM {_q(old)}")
        run(f"DROP TABLE {_q(old)}")  # and its partitions
        run(f"DROP SEQUENCE {_q(table + '_id_seq')}")
        run(f"ALTER TABLE {_q(table)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
        run(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {_q(table)}), 0) + 1, false)"
        )
        run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(table + '_pkey')} PRIMARY KEY (id)")
        for name, definition in foreign_keys:
            run(f"ALTER TABLE {_q(table)} ADD CONSTRAINT {_q(name)} {definition}")
        for name, sql, unique, _primary in indexes:
            if not unique and name != table + "_ext_id":
                run(sql.replace(" ON ONLY ", " ON ", 1))
        for constraint in model._meta.constraints:  # the (tenant, external_id) unique constraint, as Django made it
            schema_editor.add_constraint(model, constraint)
