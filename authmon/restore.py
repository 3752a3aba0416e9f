"""Restoring a sealed JSON export (DESIGN section 8): verify everything first, then import atomically.

A file is refused, with a reason a person can act on, when it is not JSON, not an authmon export, of another kind
or tenant, signed with an unknown key, modified (checksum or signature mismatch) or truncated (count mismatch), or
when any record is invalid. Shapes no export has are refused while reading, before anything else looks at them:
JSON nested deeper than a stored record may be, numbers longer than Python converts (4,300 digits), NaN and
Infinity; a crafted file meets a RestoreError, never a RecursionError or ValueError (a 500 in the console, a crash
in the restore job). Nothing is written unless everything checks out. Importing the same archive twice adds
nothing: a record whose id or external_id is already present is counted as a duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sys
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from authmon import registry
from authmon.exports import FORMAT_NAME, FORMAT_VERSION, canonical, export_keys
from authmon.ingest import MAX_JSON_DEPTH
from authmon.models import Tenant
from authmon.registry import LogKind
from authmon.strictjson import NotJsonNumber, strict_loads

BATCH = 1_000
# How deep an archive may nest: the file, its records list and a record are three levels; a JSON field holds up to
# MAX_JSON_DEPTH + 1 (what ingest stores), and a derived one a little more (the audit diff wraps a changed value in
# {"_old", "_new"}). The rest is room to spare, far below where Python's recursion limit would be met.
MAX_NESTING = MAX_JSON_DEPTH + 20
# A \uD800-\uDFFF escape: the only way a lone surrogate (text no UTF-8 encoder accepts) gets into parsed JSON.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class RestoreError(ValueError):
    """The archive cannot be restored; the message says why."""


@dataclass
class RestoreResult:
    created: int
    duplicates: int
    kind: str


def _nested_deeper_than(value: Any, limit: int) -> bool:
    """Whether ``value`` has containers more than ``limit`` levels deep; iterative, memory bounded by the depth."""
    stack = [iter((value,))]
    while stack:
        for item in stack[-1]:
            if isinstance(item, dict):
                children = iter(item.values())
            elif isinstance(item, list):
                children = iter(item)
            else:
                continue
            if len(stack) > limit:
                return True
            stack.append(children)
            break
        else:
            stack.pop()
    return False


def archive_read(raw: bytes) -> dict[str, Any]:
    """Parse an uploaded archive; a RestoreError (with the reason) for anything that is not an export's JSON."""
    if not raw.strip():
        raise RestoreError("The file is empty.")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RestoreError("The file is not UTF-8 text, so it is not an authmon JSON export.") from exc
    too_deep = RestoreError(
        f"The file nests JSON more than {MAX_NESTING} levels deep; no authmon export does. Nothing was restored."
    )
    if not text.lstrip().startswith("{"):
        # A CSV export (or any other file) is not an archive: say so, rather than "not valid JSON at line 1".
        raise RestoreError(
            "Only JSON exports of authmon can be restored; this file is not one (a CSV export cannot be restored). "
            "Nothing was restored."
        )
    try:
        data = strict_loads(text)
    except json.JSONDecodeError as exc:
        raise RestoreError(
            f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}); it may be truncated or not an "
            "authmon export."
        ) from exc
    except RecursionError:
        raise too_deep from None
    except NotJsonNumber as exc:
        raise RestoreError(f"The file is not valid JSON: {exc}. Nothing was restored.") from None
    except ValueError:  # what remains is an integer too long to convert
        raise RestoreError(
            f"The file holds a number of more than {sys.get_int_max_str_digits():,} digits; no authmon export "
            "does. Nothing was restored."
        ) from None
    if _nested_deeper_than(data, MAX_NESTING):
        raise too_deep
    if _SURROGATE_ESCAPE.search(text):  # rare: then check the whole file encodes, as the seal check will need
        try:
            canonical(data).encode()
        except UnicodeEncodeError:
            raise RestoreError(
                "The file holds text that is not valid Unicode (an unpaired surrogate escape); no authmon export "
                "does. Nothing was restored."
            ) from None
    if not isinstance(data, dict) or not {"header", "records", "seal"} <= set(data):
        raise RestoreError("This is not an authmon export: it has no header, records and seal.")
    return data


def archive_verify(data: dict[str, Any], *, tenant: Tenant, kind_name: str) -> tuple[LogKind, list[dict[str, Any]]]:
    """Check format, kind, tenant, seal and count. Returns the kind and the records."""
    header, records, seal = data["header"], data["records"], data["seal"]
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise RestoreError("This is not an authmon export (unknown format).")
    if header.get("version") != FORMAT_VERSION:
        raise RestoreError(f"Export format version {header.get('version')!r} is not supported.")
    if header.get("kind") != kind_name:
        try:
            other = registry.get(str(header.get("kind"))).label
        except KeyError:
            other = repr(header.get("kind"))
        raise RestoreError(f"This is an export of {other}, not {registry.get(kind_name).label}.")
    if header.get("tenant") != tenant.slug:
        raise RestoreError(
            f"This archive belongs to tenant '{header.get('tenant')}', not '{tenant.slug}'. "
            "Archives can only be restored into the tenant they were exported from."
        )
    if not isinstance(records, list) or not isinstance(seal, dict):
        raise RestoreError("This is not an authmon export: records must be a list and the seal an object.")
    _, keys = export_keys()
    key = keys.get(str(seal.get("key_id")))
    if key is None:
        raise RestoreError("The archive is signed with a key this server does not know; it cannot be verified.")
    if header.get("count") != len(records):
        raise RestoreError(
            f"The archive is incomplete: its header promises {header.get('count')} records but it holds {len(records)}."
        )
    digest = hashlib.sha256()
    for record in records:
        digest.update(canonical(record).encode() + b"\n")
    if not hmac.compare_digest(digest.hexdigest(), str(seal.get("records_sha256"))):
        raise RestoreError("The records were modified after export (checksum mismatch). Nothing was restored.")
    message = (canonical(header) + "\n" + digest.hexdigest()).encode()
    expected = hmac.new(key.encode(), message, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, str(seal.get("signature"))):
        raise RestoreError("The archive's header or seal was modified after export (bad signature).")
    check = getattr(registry.get(kind_name).model, "archive_check", None)
    if check is not None:  # the audit chain: restored records must fit the positions they were exported from
        try:
            check(records, tenant=tenant)
        except ValueError as exc:
            raise RestoreError(f"{exc} Nothing was restored.") from exc
    return registry.get(kind_name), records


def _build(kind: LogKind, tenant: Tenant, index: int, record: Any) -> Any:
    if not isinstance(record, dict):
        raise RestoreError(f"Record {index} is not an object.")
    if record.get("tenant") != tenant.slug:
        raise RestoreError(f"Record {index} belongs to tenant '{record.get('tenant')}'.")
    values: dict[str, Any] = {}
    for field in kind.data_fields:
        if field.attname not in record:
            continue
        value = record[field.attname]
        if field.get_internal_type() == "DateTimeField" and value is not None:
            parsed = parse_datetime(str(value))
            if parsed is None:
                raise RestoreError(f"Record {index}: {field.name} '{value}' is not a date and time.")
            value = parsed
        values[field.attname] = value
    if not isinstance(record.get("id"), int):
        raise RestoreError(f"Record {index} has no numeric id.")
    obj = kind.model(pk=record["id"], tenant=tenant, **values)
    try:
        obj.clean_fields(exclude=["tenant", *kind.computed_fields])
    except ValidationError as exc:
        problems = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        raise RestoreError(f"Record {index} is invalid: {problems}") from exc
    obj.external_id = obj.external_id or None  # "" is no idempotency key
    obj.restored_from_archive = True  # kept as archived: audit records keep their chain positions and hashes
    obj.compute_derived()
    return obj


def archive_restore(*, raw: bytes, tenant: Tenant, kind_name: str = "audit", progress: Any = None) -> RestoreResult:
    """Verify and import an archive into ``tenant``; all or nothing.

    Records become model instances a batch at a time, inside the one transaction: a record found invalid late in
    a large archive rolls back everything before it, and memory holds one batch of instances, not the archive's.
    """
    data = archive_read(raw)
    kind, records = archive_verify(data, tenant=tenant, kind_name=kind_name)
    model = kind.model
    created = duplicates = 0
    with transaction.atomic():
        for start in range(0, len(records), BATCH):
            batch = [_build(kind, tenant, start + i, r) for i, r in enumerate(records[start : start + BATCH])]
            ids = [o.pk for o in batch]
            ext = [o.external_id for o in batch if o.external_id]
            owners = dict(model.objects.filter(pk__in=ids).values_list("pk", "tenant_id"))
            if any(owner != tenant.pk for owner in owners.values()):
                raise RestoreError("Some record ids of this archive are used by another tenant; nothing was restored.")
            present_ids = set(owners)
            present_ext: set[str | None] = set(
                model.objects.for_tenant(tenant).filter(external_id__in=ext).values_list("external_id", flat=True)
            )
            fresh = [o for o in batch if o.pk not in present_ids and o.external_id not in present_ext]
            model.objects.bulk_create(fresh, batch_size=BATCH)
            created += len(fresh)
            duplicates += len(batch) - len(fresh)
            if progress:
                progress(start + len(batch), len(records))
        if created and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(no_style(), [model]):
                    cursor.execute(sql)
    return RestoreResult(created=created, duplicates=duplicates, kind=kind.name)
