"""Exports: JSON with a header and an integrity seal, or CSV of the visible columns, streamed in constant memory.

The JSON layout (DESIGN section 8)::

    {"header": {"format": "authmon-export", "version": 1, "kind": ..., "tenant": ..., "filters": {...},
                "count": n, "exported_at": ...},
     "records": [...],
     "seal": {"algorithm": "HMAC-SHA256", "key_id": ..., "records_sha256": ..., "signature": ...}}

``records_sha256`` is the SHA-256 of every record's canonical JSON followed by a newline, in file order; the
signature is an HMAC over the canonical header and that digest, with a key from ``AUTHMON_EXPORT_KEYS`` (old keys
stay listed after a rotation, so old exports still verify).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from authmon.registry import LogKind

FORMAT_NAME = "authmon-export"
FORMAT_VERSION = 1
MAX_LIMIT = 1_000_000
DEFAULT_LIMIT = 10_000
CHUNK = 2_000
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class ExportError(ValueError):
    """A request for an export that cannot be served (bad format or limit)."""


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return value


def serialize_record(kind: LogKind, obj: Any) -> dict[str, Any]:
    """Every field of a record as JSON-ready values; the tenant as its slug, times in UTC ISO 8601."""
    data: dict[str, Any] = {"id": obj.pk, "tenant": obj.tenant.slug}
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
    """Stop spreadsheets from reading a cell as a formula (OWASP CSV injection)."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


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


def _rows(queryset: QuerySet, limit: int) -> Iterator[Any]:
    yield from queryset.select_related("tenant")[:limit].iterator(chunk_size=CHUNK)


def stream_json(
    kind: LogKind,
    queryset: QuerySet,
    *,
    tenant_slug: str,
    filters: dict[str, Any],
    limit: int,
    progress: Any = None,
) -> Iterator[str]:
    """Yield a sealed JSON export piece by piece. ``progress(done, total)`` is called every chunk if given."""
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
        done = 0
        for obj in _rows(queryset, limit):
            line = canonical(serialize_record(kind, obj))
            digest.update(line.encode() + b"\n")
            yield ("" if done == 0 else ",\n") + line
            done += 1
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
    """Yield CSV text: a header row, then one row per record with the table's export values."""
    from django_tables2.rows import BoundRow

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
    table = table_class([])
    with _snapshot():
        for i, obj in enumerate(_rows(queryset, limit), start=1):
            row = BoundRow(obj, table=table)
            writer.writerow([neutralise(row.get_cell_value(name)) for name, _ in columns])
            if i % 500 == 0:
                yield flush()
    yield flush()


def filters_of(params: Iterable[tuple[str, list[str]]]) -> dict[str, Any]:
    """The list parameters that selected an export, for its header (single values unwrapped)."""
    skip = {"format", "limit", "cursor"}
    return {k: (v[0] if len(v) == 1 else v) for k, v in params if k not in skip}


SYNC_EXPORT_MAX = 50_000  # larger exports run as a job with a progress bar


def export_dir() -> Any:
    from pathlib import Path

    path = Path(settings.AUTHMON_EXPORT_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    """Write an export to ``path`` (streamed, constant memory) and return the number of records written."""
    tmp = path.with_suffix(path.suffix + ".part")
    try:
        written = _export_write(kind, queryset, tenant_slug, filters, fmt, limit, columns, tmp, progress)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed export (database gone, worker stopped) leaves no partial file
        raise
    tmp.replace(path)
    return written


def _export_write(
    kind: LogKind,
    queryset: QuerySet,
    tenant_slug: str,
    filters: dict[str, Any],
    fmt: str,
    limit: int,
    columns: list[tuple[str, str]],
    tmp: Any,
    progress: Any,
) -> int:
    written = 0
    with tmp.open("w", encoding="utf-8", newline="") as out:
        if fmt == "json":
            counter = {"done": 0}

            def tick(done: int, total: int) -> None:
                counter["done"] = done
                if progress:
                    progress(done, total)

            for piece in stream_json(
                kind, queryset, tenant_slug=tenant_slug, filters=filters, limit=limit, progress=tick
            ):
                out.write(piece)
            written = counter["done"]
        else:
            total = queryset[:limit].count()
            for piece in stream_csv(kind.table, queryset, columns=columns, limit=limit):
                out.write(piece)
                written += piece.count("\n")
                if progress:
                    progress(min(written, total), total)
            written = total
    return written
