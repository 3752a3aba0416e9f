"""Exports: JSON with a header and an integrity seal, or CSV of the visible columns, streamed in constant memory.

The JSON layout (DESIGN section 8)::

    {"header": {"format": "authmon-export", "version": 1, "kind": ..., "tenant": ..., "filters": {...},
                "count": n, "exported_at": ...},
     "records": [...],
     "seal": {"algorithm": "HMAC-SHA256", "key_id": ..., "records_sha256": ..., "signature": ...}}

``records_sha256`` is the SHA-256 of every record's canonical JSON followed by a newline, in file order; the
signature is an HMAC over the canonical header and that digest, with a key from ``AUTHMON_EXPORT_KEYS`` (old keys
stay listed after a rotation, so old exports still verify).

Speed and memory at millions of rows: rows are read as tuples (``values_list``) through one server-side cursor, or in
keyset chunks where a transaction-mode pooler rules cursors out (:func:`_fetch`), inside one snapshot; no model is
built for a JSON record, and a CSV export's cells come from the table's :class:`~authmon.cells.CellPlan`, which works
out once per column what django-tables2 would per cell; both give exactly the bytes the straightforward code gave.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import connection, connections, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from authmon import registry
from authmon.cells import CellPlan
from authmon.registry import LogKind

FORMAT_NAME = "authmon-export"
FORMAT_VERSION = 1
MAX_LIMIT = 1_000_000
DEFAULT_LIMIT = 10_000
CHUNK = 2_000
# CSV injection (OWASP, widened; DESIGN section 8): a spreadsheet reads a cell as a formula when it starts with one
# of these, and some do so after leading spaces, line breaks or characters that show nothing, or from the full-width
# and small forms an input method types ("＝", "＋", "－", "＠", "｜"; NFKC folds them to these). "|" starts a DDE
# call in older spreadsheets.
_FORMULA_STARTS = frozenset("=+-@|\t\r\n")
# What shows nothing and may stand before a formula: every space, line or paragraph separator, control and format
# character (U+00A0, U+200B, U+FEFF, bidi marks...), and the few blank letters and marks Unicode calls ignorable.
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf"})
_INVISIBLE_OTHERS = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u3164\uffa0") | frozenset(
    map(chr, range(0xFE00, 0xFE10))
)


class ExportError(ValueError):
    """A request for an export that cannot be served (bad format or limit)."""


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical(value: Any) -> str:
    """The one JSON text of a value that seals and restore agree on (one shared encoder: no set-up per call)."""
    return _CANONICAL.encode(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


@dataclass(frozen=True)
class _RecordLayout:
    """Which columns a JSON record is read from (``fields``, for ``values_list``) and the keys they go under."""

    fields: tuple[str, ...]
    names: tuple[str, ...]
    times: tuple[tuple[int, str], ...]  # (position, key) of each date-time field


@cache
def _record_layout(model: type[Model]) -> _RecordLayout:
    data_fields = registry.for_model(model).data_fields
    return _RecordLayout(
        fields=("pk", "tenant__slug", *(f.attname for f in data_fields)),
        names=("id", "tenant", *(f.name for f in data_fields)),
        times=tuple(
            (i, f.name) for i, f in enumerate(data_fields, start=2) if f.get_internal_type() == "DateTimeField"
        ),
    )


def serialize_record(kind: LogKind, obj: Any) -> dict[str, Any]:
    """Every field of a record as JSON-ready values; the tenant as its slug, times in UTC ISO 8601.

    ``obj`` is a model instance or, on the export path, a row as :func:`_rows` reads it (no model is built there:
    that cost more than everything else per record).
    """
    if isinstance(obj, tuple):
        layout = _record_layout(kind.model)
        data = dict(zip(layout.names, obj, strict=False))  # rows may carry the paging key after the fields
        for position, name in layout.times:
            value = obj[position]
            if value is not None:
                data[name] = value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
        return data
    data = {"id": obj.pk, "tenant": obj.tenant.slug}
    for field in kind.data_fields:
        data[field.name] = _jsonable(getattr(obj, field.attname))
    return data


def export_keys() -> tuple[str, dict[str, str]]:
    keys: dict[str, str] = getattr(settings, "AUTHMON_EXPORT_KEYS", {})
    key_id: str = getattr(settings, "AUTHMON_EXPORT_KEY_ID", "")
    return key_id, keys


def sign(header: dict[str, Any], records_sha256: str, key_id: str | None = None) -> dict[str, str]:
    current, keys = export_keys()
    key_id = key_id or current
    message = (canonical(header) + "\n" + records_sha256).encode()
    signature = hmac.new(keys[key_id].encode(), message, hashlib.sha256).hexdigest()
    return {"algorithm": "HMAC-SHA256", "key_id": key_id, "records_sha256": records_sha256, "signature": signature}


def parse_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(str(raw).strip())
    except ValueError as exc:
        raise ExportError(f"The number of records must be a whole number, not '{raw}'.") from exc
    if limit < 1 or limit > MAX_LIMIT:
        raise ExportError(f"The number of records must be between 1 and {MAX_LIMIT:,}.")
    return limit


def parse_format(raw: str | None) -> str:
    fmt = (raw or "json").strip().lower()
    if fmt not in {"json", "csv"}:
        raise ExportError(f"Unknown export format '{raw}'. Choose json or csv.")
    return fmt


def neutralise(cell: Any) -> str:
    """Stop spreadsheets from reading a cell as a formula: a leading ``'`` makes it text (see ``_FORMULA_STARTS``).

    The first character that shows decides; invisible ones before it are skipped. Most cells start with a letter
    or digit and are decided by their first character.
    """
    text = "" if cell is None else str(cell)
    for char in text:
        if char in _FORMULA_STARTS:
            return "'" + text
        if "!" <= char <= "~":  # any other visible ASCII character
            return text
        if char.isascii():  # a space or a control character
            continue
        if unicodedata.normalize("NFKC", char)[:1] in _FORMULA_STARTS:
            return "'" + text
        if unicodedata.category(char) not in _INVISIBLE_CATEGORIES and char not in _INVISIBLE_OTHERS:
            return text
    return text


@contextmanager
def _snapshot() -> Iterator[None]:
    """One read transaction, so the count in the header and the streamed rows agree whatever is written meanwhile.

    (A server-side cursor also needs the transaction on PostgreSQL.) When already inside a transaction, that one's
    isolation applies.
    """
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _paging_key(queryset: QuerySet) -> tuple[tuple[str, bool], ...] | None:
    """The queryset's ordering as (field, descending) pairs when it can be resumed by keyset, else None.

    That is a plain non-null field of the model (or none) followed by the primary key, as every export orders.
    """
    query = queryset.query
    order = query.order_by or (query.default_ordering and queryset.model._meta.ordering)
    if query.is_sliced or query.combinator or not order or not all(isinstance(term, str) for term in order):
        return None
    key = tuple((term.lstrip("-"), term.startswith("-")) for term in order)
    *sort, (last, _) = key
    meta = queryset.model._meta
    if last not in {"pk", meta.pk.name} or len(sort) > 1:
        return None
    for name, _ in sort:
        try:
            field = meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not getattr(field, "concrete", False) or field.is_relation or field.null:
            return None
    return tuple(("pk" if name == meta.pk.name else name, desc) for name, desc in key)


def _after(key: tuple[tuple[str, bool], ...], values: tuple[Any, ...]) -> Q:
    """Rows after ``values`` in ``key`` order. The bound on the sort field alone lets an index start there."""
    (name, desc), *rest = key
    if not rest:
        return Q(**{f"{name}__{'lt' if desc else 'gt'}": values[0]})
    (pk, pk_desc), value, pk_value = rest[0], values[0], values[1]
    op = "lt" if desc else "gt"
    tie = Q(**{name: value, f"{pk}__{'lt' if pk_desc else 'gt'}": pk_value})
    return Q(**{f"{name}__{op}e": value}) & (Q(**{f"{name}__{op}": value}) | tie)


def _fetch(queryset: QuerySet, fields: tuple[str, ...], limit: int) -> Iterator[tuple[Any, ...]]:
    """Up to ``limit`` rows of ``fields`` in the queryset's order, in constant memory.

    Normally one server-side cursor. Behind a transaction-mode pooler (``DISABLE_SERVER_SIDE_CURSORS``) Django's
    iterator would load the whole result first, so the rows are read in keyset chunks of ``CHUNK`` instead (inside
    the caller's snapshot, so they are the same rows). Rows may carry the paging key after ``fields``.
    """
    settings_dict = connections[queryset.db].settings_dict
    key = _paging_key(queryset) if settings_dict.get("DISABLE_SERVER_SIDE_CURSORS") else None
    if key is None:
        yield from queryset.values_list(*fields)[:limit].iterator(chunk_size=CHUNK)
        return
    names = [name for name, _ in key]
    extra = tuple(name for name in names if name not in fields)
    read = queryset.values_list(*fields, *extra)
    positions = [(fields + extra).index(name) for name in names]
    remaining = limit
    after: tuple[Any, ...] | None = None
    while remaining > 0:
        page = read if after is None else read.filter(_after(key, after))
        size = min(CHUNK, remaining)
        rows = list(page[:size])
        yield from rows
        if len(rows) < size:
            return
        remaining -= size
        after = tuple(rows[-1][i] for i in positions)


def _rows(queryset: QuerySet, limit: int) -> Iterator[tuple[Any, ...]]:
    """The rows of a JSON export: exactly what :func:`serialize_record` reads, as tuples."""
    return _fetch(queryset, _record_layout(queryset.model).fields, limit)


def stream_json(
    kind: LogKind,
    queryset: QuerySet,
    *,
    tenant_slug: str,
    filters: dict[str, Any],
    limit: int,
    progress: Any = None,
) -> Iterator[str]:
    """Yield a sealed JSON export a chunk of records at a time. ``progress(done, total)`` is called every chunk."""
    with _snapshot():
        count = queryset[:limit].count()
        header = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "kind": kind.name,
            "tenant": tenant_slug,
            "filters": filters,
            "count": count,
            "exported_at": _jsonable(timezone.now()),
        }
        yield '{"header": ' + canonical(header) + ',\n"records": [\n'
        digest = hashlib.sha256()
        encode = _CANONICAL.encode
        rows = _rows(queryset, limit)
        done = 0
        while batch := list(islice(rows, CHUNK)):
            lines = [encode(serialize_record(kind, row)) for row in batch]
            digest.update(("\n".join(lines) + "\n").encode())
            yield ("" if done == 0 else ",\n") + ",\n".join(lines)
            done += len(lines)
            if progress and done % CHUNK == 0:
                progress(done, count)
        seal = sign(header, digest.hexdigest())
        yield '\n],\n"seal": ' + canonical(seal) + "}\n"
        if progress:
            progress(done, count)


def export_columns(table: Any) -> list[tuple[str, str]]:
    return [
        (column.name, str(column.header))
        for column in table.columns
        if column.visible and not column.column.exclude_from_export
    ]


def stream_csv(table_class: Any, queryset: QuerySet, *, columns: list[tuple[str, str]], limit: int) -> Iterator[str]:
    """Yield CSV text: a header row, then one row per record with the table's export values.

    The cells are what django-tables2's ``BoundRow.get_cell_value`` gives, from the table's cell plan (the one
    its page uses), without django-tables2's per-cell cost; then neutralised against formula injection.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)
        return text

    yield "\ufeff"  # a BOM so spreadsheet programs read the file as UTF-8
    writer.writerow([neutralise(header) for _, header in columns])
    yield flush()
    plan = CellPlan(table_class([]), [name for name, _ in columns], model=queryset.model)
    db = queryset.db
    with _snapshot():
        for i, row in enumerate(_fetch(queryset, plan.fields, limit), start=1):
            writer.writerow(map(neutralise, plan.values(row, db)))
            if i % 500 == 0:
                yield flush()
    yield flush()


def filters_of(params: Iterable[tuple[str, list[str]]]) -> dict[str, Any]:
    """The list parameters that selected an export, for its header (single values unwrapped)."""
    skip = {"format", "limit", "cursor", "refresh"}  # how the page was shown, not what it selected
    return {k: (v[0] if len(v) == 1 else v) for k, v in params if k not in skip}


SYNC_EXPORT_MAX = 50_000  # larger exports run as a job with a progress bar


def export_columns_named(kind: LogKind, names: list[str]) -> list[tuple[str, str]]:
    """The CSV columns for a run: the kind's own table columns whose names are in ``names``, in table order.

    Header cells always come from the table; a name the table does not have is dropped, whatever asked for it.
    """
    table = kind.table([])
    wanted = set(names)
    for column in table.columns.iterall():
        if column.name not in wanted:
            table.columns.hide(column.name)
    return export_columns(table)


def export_to_file(
    *,
    kind: LogKind,
    queryset: QuerySet,
    tenant_slug: str,
    filters: dict[str, Any],
    fmt: str,
    limit: int,
    columns: list[tuple[str, str]],
    path: Any,
    progress: Any = None,
) -> int:
    """Write an export to ``path`` (streamed, constant memory) and return the number of records written.

    For the benchmark and tools; the console's export runs write into the tenant's file store instead.
    """
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            written = export_write(
                out,
                kind=kind,
                queryset=queryset,
                tenant_slug=tenant_slug,
                filters=filters,
                fmt=fmt,
                limit=limit,
                columns=columns,
                progress=progress,
            )
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed export (database gone, worker stopped) leaves no partial file
        raise
    tmp.replace(path)
    return written


def export_write(
    out: Any,
    *,
    kind: LogKind,
    queryset: QuerySet,
    tenant_slug: str,
    filters: dict[str, Any],
    fmt: str,
    limit: int,
    columns: list[tuple[str, str]],
    progress: Any = None,
) -> int:
    """Write an export to the open text handle ``out`` (streamed) and return the number of records written."""
    written = 0
    if fmt == "json":
        counter = {"done": 0}

        def tick(done: int, total: int) -> None:
            counter["done"] = done
            if progress:
                progress(done, total)

        for piece in stream_json(kind, queryset, tenant_slug=tenant_slug, filters=filters, limit=limit, progress=tick):
            out.write(piece)
        return counter["done"]
    total = queryset[:limit].count()
    for piece in stream_csv(kind.table, queryset, columns=columns, limit=limit):
        out.write(piece)
        written += piece.count("\n")
        if progress:
            progress(min(written, total), total)
    return total
