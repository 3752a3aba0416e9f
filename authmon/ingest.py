"""Ingesting records of any registered kind: the service behind ``POST /api/v1/{kind}/`` and archive restore.

Validation comes first and is all-or-nothing: every record is checked against a schema generated from the kind's
model (:func:`record_schema`), and one bad record rejects the batch with an error per problem (index, field,
message). Only then is the batch stored, in one transaction.

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
import difflib
import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Annotated, Any, Literal, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import IntegrityError, OperationalError, connections, models, router, transaction
from django.db.models import NOT_PROVIDED
from django.db.models.expressions import RawSQL
from django.utils import timezone
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    create_model,
)
from pydantic import ValidationError as PydanticValidationError

from authmon import partitions, registry
from authmon.models import ApiToken, Tenant, TenantOwned
from authmon.registry import LogKind
from authmon.security.masking import mask, mask_fields

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_JSON_DEPTH = 100
_ATTEMPTS = 4
_REVOKED = "revoked"
DEFAULT_ACTOR = "ingest"  # the actor of audit records for a batch whose caller names none


@dataclass(frozen=True)
class RecordError:
    """One problem with one record: ``index`` in the batch (None for the batch as a whole) and the field."""

    index: int | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "message": self.message}


class IngestValidationError(Exception):
    """The batch was rejected before anything was stored; ``errors`` says what to fix, record by record."""

    def __init__(self, errors: list[RecordError]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the batch")
        self.errors = errors


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


# --------------------------------------------------------------------------------------------------- schemas


def _require_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string such as 2026-11-19T08:30:00Z")
    return value


def _to_utc(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("date-time is out of range") from None


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _django_validators(field: models.Field[Any, Any]) -> Callable[[Any], Any]:
    """Run the model field's own normalisation and validators (e.g. IP address syntax) on a typed value."""

    # Dotted-quad IPv4 text as written (no leading zeros) is what Django's to_python and validators make of it.
    ipv4_as_is = isinstance(field, models.GenericIPAddressField) and field.protocol.lower() == "both"

    def check(value: Any) -> Any:
        if value is None or (ipv4_as_is and _IPV4.fullmatch(value)):
            return value
        try:
            value = field.to_python(value)
            field.run_validators(value)
        except DjangoValidationError as exc:
            raise ValueError(" ".join(exc.messages)) from None
        return value

    return check


def _plain_text(field: models.Field[Any, Any]) -> bool:
    """Whether Django's own checks of a text field are exactly pydantic's ``max_length`` (and the NUL check).

    Then the schema need not call back into Django for every value, which is most of validation's cost; a field
    with any other validator or normalisation (an IP address, a custom validator) keeps the Django call.
    """
    if type(field).to_python not in (models.CharField.to_python, models.TextField.to_python):
        return False
    return all(isinstance(v, (MaxLengthValidator, ProhibitNullCharactersValidator)) for v in field.validators)


def _annotation(field: models.Field[Any, Any]) -> tuple[Any, dict[str, Any]]:
    """The pydantic type and Field() keywords for one model field."""
    constraints: dict[str, Any] = {}
    annotation: Any
    if field.choices:
        annotation = Literal[tuple(value for value, _label in field.flatchoices)]
    elif isinstance(field, models.JSONField):
        annotation = dict[str, Any] if field.default is dict else Any
        constraints["description"] = "Any JSON value." if annotation is Any else "A JSON object."
    elif isinstance(field, models.DateTimeField):
        annotation = Annotated[dt.datetime, BeforeValidator(_require_text), AfterValidator(_to_utc)]
        constraints["description"] = "ISO 8601 date-time. A time without an offset is taken as UTC."
    elif isinstance(field, models.BooleanField):
        annotation = StrictBool
    elif isinstance(field, models.IntegerField):
        annotation = Annotated[StrictInt, AfterValidator(_django_validators(field))]
    elif isinstance(field, (models.CharField, models.TextField, models.GenericIPAddressField)):
        annotation = str if _plain_text(field) else Annotated[str, AfterValidator(_django_validators(field))]
        if field.max_length:
            constraints["max_length"] = field.max_length
        if not field.blank or field.null:
            # A required text field must say something; on a nullable one, "" would be a second kind of "none"
            # (and an empty external_id would silently make every later empty one a duplicate).
            constraints["min_length"] = 1
    else:
        raise TypeError(f"{field.model.__name__}.{field.name}: no API type for {type(field).__name__}")
    if field.null:
        annotation = annotation | None
    return annotation, constraints


def input_fields(kind: LogKind) -> list[models.Field[Any, Any]]:
    """Fields a client may send: the editable record fields (not id, tenant or anything computed by authmon)."""
    return [f for f in kind.data_fields if f.editable and f.name not in kind.computed_fields]


@cache
def _record_schema(name: str) -> type[BaseModel]:
    kind = registry.get(name)
    definitions: dict[str, Any] = {}
    for field in input_fields(kind):
        annotation, constraints = _annotation(field)
        if field.has_default():
            if callable(field.default):
                constraints["default_factory"] = field.default
            else:
                constraints["default"] = field.default
        elif field.null:
            constraints["default"] = None
        elif field.blank and isinstance(field, (models.CharField, models.TextField)) and not field.choices:
            constraints["default"] = ""
        # else: required
        definitions[field.name] = (annotation, Field(**constraints))
    return create_model(
        f"{kind.model.__name__}In",
        __config__=ConfigDict(extra="forbid", title=f"{kind.model.__name__}In"),
        __doc__=f"One {kind.name} record as a client sends it.",
        **definitions,
    )


def record_schema(kind: LogKind) -> type[BaseModel]:
    """The pydantic model of one incoming record of ``kind``, generated from the model's fields.

    Unknown fields are refused, choice fields are literals, text lengths come from the model, JSON fields take
    any JSON (an object where the model defaults to one), date-times must be ISO 8601 strings and are stored in
    UTC (a naive time is taken as UTC). Fields with a model default may be left out.
    """
    return _record_schema(kind.name)


# ------------------------------------------------------------------------------------------------ validation


@dataclass(frozen=True)
class _Record:
    index: int
    values: dict[str, Any]  # every input field, defaults applied
    sent: frozenset[str]  # the fields the client actually sent


def _unknown_field_message(kind: LogKind, name: str, allowed: list[str]) -> str:
    if name == "tenant":
        return "The tenant comes from the API token; remove this field."
    if name == "id":
        return "id is assigned by authmon; send your own key as external_id."
    if name in kind.computed_fields:
        return f"{name} is computed by authmon; do not send it."
    if name in {f.name for f in kind.data_fields}:
        return f"{name} is set by authmon; do not send it."
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"Unknown field.{hint} Allowed fields: {', '.join(allowed)}."


def _json_problem(value: Any, depth: int = 0) -> str | None:
    """Why a parsed JSON value cannot be stored (NUL characters, invalid Unicode, absurd nesting), or None."""
    if isinstance(value, str):
        if "\x00" in value:
            return "Text must not contain NUL (\\u0000) characters."
        if value.isascii():  # the common case, and no surrogate can hide in it
            return None
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Text contains an unpaired UTF-16 surrogate (invalid Unicode)."
        return None
    if value is None or type(value) is int or type(value) is bool:
        return None
    if depth > MAX_JSON_DEPTH:
        return f"JSON is nested more than {MAX_JSON_DEPTH} levels deep."
    if isinstance(value, dict):
        for key, item in value.items():
            problem = _json_problem(key, depth + 1) or _json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, list):
        for item in value:
            problem = _json_problem(item, depth + 1)
            if problem:
                return problem
    elif isinstance(value, float) and not math.isfinite(value):
        return "NaN and Infinity are not valid JSON numbers."
    return None


def json_type(value: Any) -> str:
    """The JSON name of a parsed value's type, for messages."""
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "number", float: "number"}.get(
        type(value), "null" if value is None else type(value).__name__
    )


def _pydantic_errors(kind: LogKind, index: int, exc: PydanticValidationError) -> Iterator[RecordError]:
    allowed = [f.name for f in input_fields(kind)]
    for err in exc.errors(include_url=False, include_context=False):
        loc = err.get("loc") or ()
        name = str(loc[0]) if loc else None
        kind_of_error = err.get("type", "")
        if kind_of_error == "extra_forbidden" and name is not None:
            message = _unknown_field_message(kind, name, allowed)
        elif kind_of_error == "missing":
            message = "This field is required."
        elif kind_of_error == "model_type":
            message = f"Each record must be a JSON object, not {json_type(err.get('input'))}."
        else:
            message = str(err.get("msg", "Invalid value.")).removeprefix("Value error, ")
            message = message[:1].upper() + message[1:]
            if not message.endswith("."):
                message += "."
        yield RecordError(index, name, message)


@cache
def _batch_adapter(name: str) -> TypeAdapter[list[BaseModel]]:
    return TypeAdapter(list[_record_schema(name)])  # type: ignore[valid-type]


@cache
def _json_names(model: type[models.Model]) -> tuple[str, ...]:
    return tuple(f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField))


def _records_fast(kind: LogKind, records: list[Any]) -> list[_Record] | None:
    """The whole batch validated in one pydantic call, or None when any record has a problem.

    The common case, a valid batch, then costs one pass; a batch with a problem is checked again record by record
    by :func:`records_validate`, which alone words the errors (so they are the same whichever path ran).
    """
    for raw in records:
        if type(raw) is not dict:
            return None
        for name, value in raw.items():
            if _json_problem(name) or _json_problem(value):
                return None
    adapter = _batch_adapter(kind.name)
    try:
        validated = adapter.validate_python(records)
    except PydanticValidationError:
        return None
    json_names = _json_names(kind.model)
    cleaned: list[_Record] = []
    for index, (record, values) in enumerate(zip(validated, adapter.dump_python(validated), strict=True)):
        for name in json_names:
            if name in values:
                values[name] = mask(values[name])  # secrets never reach storage
        cleaned.append(_Record(index, values, frozenset(record.model_fields_set)))
    return cleaned


def records_validate(*, kind: LogKind, records: Iterable[Any]) -> list[_Record]:
    """Check every record of a batch; return them cleaned, or raise :class:`IngestValidationError` with all errors."""
    records = records if isinstance(records, list) else list(records)
    fast = _records_fast(kind, records)
    if fast is not None:
        return fast
    schema = record_schema(kind)
    cleaned: list[_Record] = []
    errors: list[RecordError] = []
    for index, raw in enumerate(records):
        flagged: set[str] = set()
        if isinstance(raw, Mapping):
            for name, value in raw.items():
                if problem := _json_problem(name) or _json_problem(value):
                    errors.append(RecordError(index, str(name), problem))
                    flagged.add(name)
            if flagged:  # still check the rest of the record, so that the client sees every problem at once
                raw = {name: value for name, value in raw.items() if name not in flagged}
        try:
            record = schema.model_validate(raw)
        except PydanticValidationError as exc:
            errors.extend(e for e in _pydantic_errors(kind, index, exc) if e.field not in flagged)
            continue
        if not flagged:
            values = mask_fields(record.model_dump(), kind.model)  # secrets never reach storage
            cleaned.append(_Record(index, values, frozenset(record.model_fields_set)))
    if errors:
        raise IngestValidationError(errors)
    return cleaned


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
