"""Ingesting records of any registered kind: the service behind ``POST /api/v1/{kind}/`` and archive restore.

Validation comes first and is all-or-nothing (:mod:`authmon.ingest_records`): every record is checked against a
schema generated from the kind's model, and one bad record rejects the batch with an error per problem (index,
field, message). Only then is the batch stored, in one transaction.

The path is built for batches of thousands (docs/scaling.md): a valid batch is validated in one pydantic call over
the whole list, with pydantic's own constraints standing in for Django's field checks where they are the same
(text lengths; a dotted-quad IPv4 address), and only a batch with a problem is checked again record by record to
word the errors. New rows of the append-only kinds (events, notifications, jobs) go to PostgreSQL with one
``COPY ... FROM STDIN`` holding the validated values, the field defaults and the tenant, adapted as ``bulk_create``
would adapt them; ``bulk_create`` stays for SQLite, for audit records (their hash-chain positions are assigned
by ``AuditLogQuerySet.bulk_create`` under the chain head's lock) and for the upserted kinds.

Idempotency and upserts (DESIGN sections 5 and 6):

- A record whose ``external_id`` already exists for the tenant, or appeared earlier in the same batch, is a
  *duplicate*: nothing is written for it.
- Kinds with an ``upsert_key`` (sessions by ``session_id``, grants by ``grant_id``) are upserted. A new key creates a
  row (*created*). A known key updates the fields the record actually sent (fields left out keep their stored
  values, so a status change need not repeat ``created_at``); that counts as *updated*, or as a *duplicate* when no
  value changes (a replayed batch stores nothing twice). Records of one batch apply in order, so a batch may create
  a session and revoke it. An existing ``external_id`` is never overwritten by an update.
- ``revoked_at`` is set by authmon, never by clients: to the ingest time when a row's status becomes ``revoked``
  and it has none yet.
- Revoked is final (DESIGN section 6). A record that reports a revoked row (of a kind with ``revoked_at``: sessions
  and grants; revoked in the console, by an earlier batch or earlier in this one) with any other status is *kept
  revoked*: nothing of that record is stored, and it counts as ``kept_revoked``, not as updated or duplicate. The
  whole record is refused rather than all but its status because it describes the row as its sender believes it to
  be (still active): a replayed old batch or a sender that missed the revocation. Storing its other fields would
  roll the row back to that stale picture, and change what the revocations feed and webhook announced (user, e-mail,
  session). A record that agrees (status ``revoked``, or no status sent) updates the row as usual. Each batch that
  kept anything calls the kind's ``kept_revoked_audit`` hook once, in the batch's transaction, with the rows,
  ``actor`` (who sent the batch) and ``token`` (its API token, if any): one audit record per batch, however many
  records it kept.

Concurrency: duplicates are found by querying before inserting, and the unique constraints on (tenant,
external_id) and (tenant, upsert key) are the real guard (on partitioned tables the external_id key table, filled by
a statement trigger that fires for COPY as for INSERT). When a concurrent batch commits the same keys first
(PostgreSQL makes the second insert wait, then fail) the whole attempt is rolled back to its savepoint and re-run,
now seeing the other batch's rows as duplicates or upsert targets. Upsert targets are locked with
``SELECT ... FOR UPDATE``. No lock is taken for batches without keys.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db import IntegrityError, OperationalError, connections, models, router, transaction
from django.db.models import NOT_PROVIDED
from django.db.models.expressions import RawSQL
from django.utils import timezone

from authmon import partitions, registry
from authmon.ingest_records import (  # the records' checks; re-exported: callers know them as authmon.ingest's
    MAX_JSON_DEPTH,
    IngestValidationError,
    RecordError,
    _Record,
    input_fields,
    json_type,
    record_schema,
    records_validate,
)
from authmon.models import ApiToken, Tenant, TenantOwned
from authmon.registry import LogKind

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
_ATTEMPTS = 4
_REVOKED = "revoked"
DEFAULT_ACTOR = "ingest"  # the actor of audit records for a batch whose caller names none


class IngestConflictError(Exception):
    """Concurrent batches kept colliding on the same keys; the client should simply send the batch again."""


@dataclass(frozen=True)
class IngestResult:
    """What a stored batch did: new rows, records skipped as already stored, upserted rows that changed, and
    records refused because they reported a revoked row as no longer revoked (``kept`` holds those rows)."""

    created: int = 0
    duplicates: int = 0
    updated: int = 0
    kept_revoked: int = 0
    kept: tuple[TenantOwned, ...] = dataclasses.field(default=(), compare=False, repr=False)
    kept_statuses: tuple[str, ...] = dataclasses.field(default=(), compare=False, repr=False)  # as reported

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "duplicates": self.duplicates,
            "updated": self.updated,
            "kept_revoked": self.kept_revoked,
        }


# --------------------------------------------------------------------------------------------------- storing


def _existing(
    queryset: models.QuerySet[Any], field: str, values: Iterable[Any], *, tenant: Tenant | None = None
) -> set[Any]:
    """The ``values`` of ``field`` already stored in ``queryset`` (``tenant``'s records, when given).

    On PostgreSQL the values go as one array parameter (``= ANY(%s)``): a thousand separate placeholders cost more
    to send and to plan than the look-up itself. The external_ids of a partitioned table are looked up in its key
    table (docs/scaling.md, section 2): one probe of a unique index, whatever the planner believes about the
    partitions. On the table itself, a tenant whose rows arrived after the last ANALYZE looks empty to the planner,
    which then reads the tenant's whole month through the tenant index for every batch (10 s per batch of 1,000 at
    a million rows, measured).
    """
    found: set[Any] = set()
    values = list(dict.fromkeys(values))
    connection = connections[queryset.db]
    table = queryset.model._meta.db_table
    if tenant is not None and field == "external_id" and table in partitions.partitioned_tables():
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id FROM {connection.ops.quote_name(partitions.key_table_name(table))} "  # noqa: S608
                "WHERE tenant_id = %s AND external_id = ANY(%s)",
                [tenant.pk, values],
            )
            return {row[0] for row in cursor.fetchall()}
    if connection.vendor == "postgresql":
        column = connections[queryset.db].ops.quote_name(queryset.model._meta.get_field(field).column)
        known = RawSQL(f"{column} = ANY(%s)", (values,), output_field=models.BooleanField())  # noqa: S611
        return set(queryset.filter(known).values_list(field, flat=True))
    for start in range(0, len(values), BATCH_SIZE):
        chunk = values[start : start + BATCH_SIZE]
        found.update(queryset.filter(**{f"{field}__in": chunk}).values_list(field, flat=True))
    return found


def _model(kind: LogKind) -> type[TenantOwned]:
    return cast("type[TenantOwned]", kind.model)


def _build(kind: LogKind, tenant: Tenant, values: dict[str, Any]) -> TenantOwned:
    row = _model(kind)(tenant=tenant, **values)
    row.compute_derived()  # bulk_create bypasses save(), which is where derived fields are usually filled
    return row


def _mark_revoked(row: TenantOwned, now: dt.datetime) -> bool:
    if getattr(row, "status", None) == _REVOKED and hasattr(row, "revoked_at") and row.revoked_at is None:
        row.revoked_at = now
        return True
    return False


def _undoes_revocation(row: TenantOwned, record: _Record) -> bool:
    """Whether ``record`` reports the revoked ``row`` with another status (active, expired): revoked is final."""
    return (
        getattr(row, "status", None) == _REVOKED
        and hasattr(row, "revoked_at")
        and "status" in record.sent
        and record.values["status"] != _REVOKED
    )


def _apply(row: TenantOwned, record: _Record, key: str) -> set[str]:
    """Copy the fields ``record`` sent onto ``row``; return the names whose value changed."""
    changed: set[str] = set()
    for name in record.sent:
        if name == key or (name == "external_id" and row.external_id is not None):
            continue
        value = record.values[name]
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed.add(name)
    return changed


def _copy_columns(model: type[TenantOwned], db: str) -> list[models.Field[Any, Any]] | None:
    """The columns COPY writes for new ``model`` rows (all but the serial id), or None where only ``bulk_create`` may.

    COPY is for PostgreSQL and rows that are exactly their validated values plus field defaults: not for a model
    whose queryset inserts its own way (audit records take their hash-chain positions in
    ``AuditLogQuerySet.bulk_create``), fills fields from others (``compute_derived``), sets ``revoked_at`` or
    computes values on insert.
    """
    if connections[db].vendor != "postgresql":
        return None
    if type(model._default_manager.get_queryset()).bulk_create is not models.QuerySet.bulk_create:
        return None
    if model.compute_derived is not TenantOwned.compute_derived or hasattr(model, "revoked_at"):
        return None
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if not isinstance(model._meta.pk, models.AutoField) or any(
        f.db_default is not NOT_PROVIDED or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        for f in fields
    ):
        return None
    return fields


_AS_IS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.BigIntegerField,
    models.SmallIntegerField,
    models.PositiveIntegerField,
    models.PositiveBigIntegerField,
    models.PositiveSmallIntegerField,
)


def _prepared(field: models.Field[Any, Any], db: str) -> Callable[[Any], Any] | None:
    """How ``bulk_create`` turns a value of ``field`` into a query parameter, or None where it keeps the value.

    On PostgreSQL the stock text, number and boolean fields keep validated values, and a date-time field keeps an
    aware one; JSON and IP addresses get the backend's adapters without the general machinery around them; any
    other field goes through its own ``get_db_prep_save``.
    """
    ops = connections[db].ops
    if type(field) in _AS_IS:
        return None
    if type(field) is models.DateTimeField:
        return lambda value: value if value is None or value.tzinfo else field.get_db_prep_save(value, connections[db])
    if type(field) is models.JSONField:
        return lambda value: None if value is None else ops.adapt_json_value(value, field.encoder)
    if type(field) is models.GenericIPAddressField:
        # Validated IPv4 text is the address as PostgreSQL reads it; IPv6 text goes through Django's normalisation.
        return lambda value: (
            value
            if value and ":" not in value
            else ops.adapt_ipaddressfield_value(field.get_prep_value(value) if value else value)
        )
    return lambda value: field.get_db_prep_save(value, connections[db])


def _copy(kind: LogKind, tenant: Tenant, fields: list[models.Field[Any, Any]], fresh: list[_Record], db: str) -> None:
    """Insert new rows with ``COPY ... FROM STDIN``: their validated values, field defaults and the tenant.

    COPY fires the same triggers as INSERT (the partitioned tables' external_id key table), so a key that a
    concurrent batch committed first fails here with the same unique violation, raised as Django's IntegrityError.
    Where row-level security applies (the app role, authmon.dbroles), PostgreSQL refuses COPY into the table: the
    rows are copied into a temporary table of this transaction and inserted from there in one statement, which the
    tenant policy checks like any INSERT.
    """
    model = _model(kind)
    connection = connections[db]
    tenant_field = model._meta.get_field("tenant")
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_security_active(%s::regclass)", [model._meta.db_table])
        staged = cursor.fetchone()[0]
        if staged:
            # The copied columns only, without constraints or defaults: the INSERT below fills the rest, the id
            # included, from the table's own defaults (a sequence or an identity column).
            cursor.execute(
                f"CREATE TEMPORARY TABLE authmon_ingest_stage ON COMMIT DROP AS SELECT {columns} FROM {table} "  # noqa: S608
                "WITH NO DATA"
            )
    target = "authmon_ingest_stage" if staged else table
    statement = f"COPY {target} ({columns}) FROM STDIN"
    names = [f.name for f in fields]
    inputs = {f.name for f in input_fields(kind)}
    defaults = [(i, f) for i, f in enumerate(fields) if f is not tenant_field and f.name not in inputs]
    preparers = [(i, p) for i, f in enumerate(fields) if f is not tenant_field and (p := _prepared(f, db)) is not None]
    tenant_at = fields.index(tenant_field)
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
        for record in fresh:
            values = record.values
            row = [values.get(name) for name in names]
            row[tenant_at] = tenant.pk  # the tenant_id column, as bulk_create stores it
            for i, field in defaults:
                row[i] = field.get_default()
            for i, prepare in preparers:
                row[i] = prepare(row[i])
            copy.write_row(row)
    if staged:
        with connection.cursor() as cursor, connection.wrap_database_errors:
            cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM authmon_ingest_stage")  # noqa: S608
            cursor.execute("DROP TABLE authmon_ingest_stage")


def _store(kind: LogKind, tenant: Tenant, records: list[_Record]) -> IngestResult:
    model = _model(kind)
    queryset = model.objects.for_tenant(tenant)
    key = kind.upsert_key
    now = timezone.now()
    existing_ids = _existing(queryset, "external_id", (r.values["external_id"] for r in records), tenant=tenant)
    existing_ids.discard(None)
    targets: dict[Any, TenantOwned] = {}
    if key is not None:
        keys = sorted({r.values[key] for r in records})
        for start in range(0, len(keys), BATCH_SIZE):
            locked = queryset.filter(**{f"{key}__in": keys[start : start + BATCH_SIZE]}).select_for_update()
            targets.update((getattr(row, key), row) for row in locked.order_by("pk"))

    created, duplicates, updated, kept_revoked = 0, 0, 0, 0
    kept: dict[Any, TenantOwned] = {}  # by upsert key, in the order first reported
    kept_statuses: set[str] = set()
    seen_ids: set[str] = set()
    new_rows: list[TenantOwned] = []
    db = router.db_for_write(model)
    copy_columns = _copy_columns(model, db) if key is None else None
    fresh: list[_Record] = []  # new rows for COPY
    dirty: dict[int, TenantOwned] = {}
    dirty_fields: set[str] = set()
    for record in records:
        external_id = record.values["external_id"]
        if external_id is not None:
            if external_id in existing_ids or external_id in seen_ids:
                duplicates += 1
                continue
            seen_ids.add(external_id)
        target = targets.get(record.values[key]) if key is not None else None
        if target is None and copy_columns is not None:
            fresh.append(record)
            created += 1
            continue
        if target is None:
            row = _build(kind, tenant, record.values)
            _mark_revoked(row, now)
            new_rows.append(row)
            if key is not None:
                targets[record.values[key]] = row
            created += 1
            continue
        assert key is not None
        if _undoes_revocation(target, record):
            kept_revoked += 1
            kept.setdefault(record.values[key], target)
            kept_statuses.add(record.values["status"])
            continue
        changed = _apply(target, record, key)
        if not changed:
            duplicates += 1
            continue
        if _mark_revoked(target, now):
            changed.add("revoked_at")
        updated += 1
        if target.pk is not None:  # not a row this batch creates
            dirty[target.pk] = target
            dirty_fields |= changed

    if fresh:
        _copy(kind, tenant, copy_columns or [], fresh, db)
    model.objects.bulk_create(new_rows, batch_size=BATCH_SIZE)
    if dirty:
        model.objects.bulk_update(list(dirty.values()), sorted(dirty_fields), batch_size=BATCH_SIZE)
    return IngestResult(
        created=created,
        duplicates=duplicates,
        updated=updated,
        kept_revoked=kept_revoked,
        kept=tuple(kept.values()),
        kept_statuses=tuple(sorted(kept_statuses)),
    )


def _is_conflict(exc: Exception) -> bool:
    """A unique-key collision or deadlock with a concurrent batch: worth re-running the attempt."""
    sqlstate = getattr(exc.__cause__, "sqlstate", None)
    if isinstance(exc, IntegrityError):
        return sqlstate == "23505" or (sqlstate is None and "UNIQUE constraint failed" in str(exc))
    return sqlstate in {"40P01", "40001"}  # deadlock detected, serialization failure


def records_ingest(
    *,
    kind: LogKind | str,
    tenant: Tenant,
    records: list[Any],
    actor: str = DEFAULT_ACTOR,
    token: ApiToken | None = None,
) -> IngestResult:
    """Validate a batch of records of ``kind`` for ``tenant`` and store it atomically.

    ``records`` are parsed JSON values (normally dicts). ``actor`` names who sent the batch (the API names its
    token) in the audit record written when the batch reports a revoked row as not revoked; ``token`` is that API
    token, which the hook keeps server-side beside the audit record (audit records can be ingested). Raises
    :class:`IngestValidationError` (nothing stored) when any record is invalid, :class:`IngestConflictError` when
    concurrent batches kept colliding on the same keys. Returns counts of created, duplicate, updated and
    kept-revoked records; see the module docstring for the rules.
    """
    if isinstance(kind, str):
        kind = registry.get(kind)
    cleaned = records_validate(kind=kind, records=records)
    if not cleaned:
        return IngestResult()
    for attempt in range(1, _ATTEMPTS + 1):
        try:
            with transaction.atomic():
                result = _store(kind, tenant, cleaned)
                if result.kept and kind.kept_revoked_audit is not None:
                    kind.kept_revoked_audit(
                        kind=kind,
                        tenant=tenant,
                        rows=list(result.kept),
                        records=result.kept_revoked,
                        statuses=list(result.kept_statuses),
                        actor=actor,
                        token=token,
                    )
                return result
        except (IntegrityError, OperationalError) as exc:
            if not _is_conflict(exc):
                raise
            logger.info("ingest %s for %s collided with a concurrent batch (attempt %d)", kind.name, tenant, attempt)
    raise IngestConflictError("Concurrent batches with the same keys kept colliding; send the batch again.")


__all__ = [
    "BATCH_SIZE",
    "DEFAULT_ACTOR",
    "MAX_JSON_DEPTH",
    "IngestConflictError",
    "IngestResult",
    "IngestValidationError",
    "RecordError",
    "input_fields",
    "json_type",
    "record_schema",
    "records_ingest",
    "records_validate",
]
