"""The tamper-evident audit chain: every tenant's audit records form one hash chain.

Each record carries ``seq`` (its position: 1, 2, 3, ... per tenant, without gaps), ``prev_hash`` (the hash of the
record before it; 64 zeros for the first) and ``hash``::

    hash = SHA-256(prev_hash + "\\n" + canonical form of every field of the record)

"Every field" is every stored column except ``id`` (a storage detail that exports and restores keep but that bulk
inserts only learn afterwards), ``prev_hash`` (chained in separately) and ``hash`` itself; the tenant appears as its
slug, as in exports. So changing one byte of a record, removing one, reordering them or inserting one anywhere
breaks a link that :func:`chain_verify` reports.

One :class:`~audit.models.AuditChain` row per tenant is the chain head: the last position and hash, and the *anchor*
(the last position removed by the retention trim and its hash). Writers lock the head row (``SELECT ... FOR
UPDATE``; on SQLite every write transaction is already exclusive) before taking the next position, so concurrent
writers to one tenant queue up instead of forking the chain, and the unique constraint on (tenant, seq) backs that
up. The head is signed with the export seal key (HMAC-SHA256), so it cannot be changed or re-anchored without the
server's key; an older signed head, or a tenant whose head and records are all gone, is found against the signed
checkpoints kept outside the database (:mod:`audit.checkpoints`), which :func:`chain_verify` consults too.

Trimming removes a *prefix* of the chain (see :func:`chain_trim_bound`) and moves the anchor, so the records that
remain still verify: the first one links to the anchor. Restored records keep the positions and hashes they were
exported with; a restore is accepted only into trimmed positions and only when the records link to their
neighbours (and the one at the anchor position has the anchor's hash).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, models, transaction
from django.utils.dateparse import parse_datetime

if TYPE_CHECKING:
    from audit.models import AuditChain, AuditLog
    from authmon.models import Tenant

GENESIS = "0" * 64
UNHASHED = frozenset({"id", "prev_hash", "hash"})
_SIGN_PREFIX = "authmon-audit-chain"


class ChainError(ValueError):
    """A write or restore that would break a tenant's audit chain; the message says why."""


# ------------------------------------------------------------------------------------------- canonical form


def _number(value: int | float) -> str:
    """One spelling per numeric value, whatever its JSON type: PostgreSQL's jsonb gives back ``1e20`` as
    ``100000000000000000000`` and ``1.0`` as ``1.0``, which Python reads as an int and a float."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ChainError("NaN and Infinity cannot be stored in an audit record.")
        if value.is_integer() and abs(value) < 2**53:
            value = int(value)
    if isinstance(value, int) and value % 10:  # the common case: digits as they are (no trailing zeros to fold)
        return str(value)
    number = decimal.Decimal(repr(value)) if isinstance(value, float) else decimal.Decimal(value)
    if number.is_zero():
        return "0"
    digits = len(number.as_tuple().digits)
    return str(number.normalize(decimal.Context(prec=digits + 1)))


_text = json.encoder.encode_basestring  # a JSON string literal (what json.dumps(..., ensure_ascii=False) writes)


def _json_key(key: Any) -> str:
    # json.dumps turns non-text keys into text (1 -> "1", True -> "true", None -> "null"); the stored record has that.
    return key if isinstance(key, str) else json.dumps(key)


def _dump_json(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(value)
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, (list, tuple)):
        return "[" + ",".join([_dump_json(item) for item in value]) + "]"
    if isinstance(value, Mapping):
        items = sorted([(_json_key(k), v) for k, v in value.items()], key=lambda item: item[0])
        return "{" + ",".join([_text(k) + ":" + _dump_json(v) for k, v in items]) + "}"
    raise ChainError(f"An audit record cannot hold a value of type {type(value).__name__}.")


def _utc_text(value: Any) -> str:
    if isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is None:
            raise ChainError(f"'{value[:40]}' is not a date and time.")
        value = parsed
    if not isinstance(value, dt.datetime):
        raise ChainError(f"Expected a date and time, not {type(value).__name__}.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def field_text(model_field: models.Field[Any, Any] | None, value: Any) -> str:
    """The canonical text of one field's value, as the hash covers it (a JSON literal: times in UTC to the
    microsecond, JSON values with sorted keys and one spelling per number, anything else as a string)."""
    if value is None:
        return "null"
    if isinstance(model_field, models.DateTimeField):
        return _text(_utc_text(value))
    if isinstance(model_field, models.JSONField):
        return _dump_json(value)
    if isinstance(model_field, models.IntegerField):
        return _number(int(value))
    return _text(str(value))


def _fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    return {f.name: f for f in model._meta.concrete_fields}


def hashed_fields(model: type[models.Model]) -> dict[str, models.Field[Any, Any]]:
    """The fields the hash covers, by name in the order it covers them: every stored column but ``UNHASHED``."""
    fields = _fields(model)
    return {name: fields[name] for name in sorted(fields) if name not in UNHASHED}


def canonical(values: Mapping[str, Any], model: type[models.Model]) -> str:
    """The canonical text of one record's hashed fields (``values`` by field name, the tenant as its slug).

    Keys are sorted, times are UTC to the microsecond, JSON numbers have one spelling; so the same record gives the
    same text whether it comes from a model instance, a database row (SQLite or PostgreSQL) or an export file.
    """
    fields = _fields(model)
    return _canonical_texts(
        {name: field_text(fields.get(name), values[name]) for name in values if name not in UNHASHED}
    )


def _canonical_texts(texts: Mapping[str, str]) -> str:
    return "{" + ",".join([_text(name) + ":" + texts[name] for name in sorted(texts)]) + "}"


def record_hash(prev_hash: str, values: Mapping[str, Any], model: type[models.Model]) -> str:
    """The chain hash of a record with ``values`` that follows the record whose hash is ``prev_hash``."""
    text = prev_hash + "\n" + canonical(values, model)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def record_hash_row(prev_hash: str, texts: Mapping[str, str]) -> str:
    """The chain hash of a record given as the canonical text of each hashed field (:func:`field_text`, the tenant
    as the text of its slug), by field name; the record follows the one whose hash is ``prev_hash``.

    The same hash as :func:`record_hash`, for writers that make rows without model instances and reuse the texts
    of repeated values (``bench/load.py`` copies millions of rows into PostgreSQL this way).
    """
    text = prev_hash + "\n" + _canonical_texts(texts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def instance_values(obj: models.Model, tenant_slug: str) -> dict[str, Any]:
    """The hashed fields of a model instance (also of a migration's historical model)."""
    values: dict[str, Any] = {"tenant": tenant_slug}
    for f in obj._meta.concrete_fields:
        if f.name not in UNHASHED and f.name != "tenant":
            values[f.name] = getattr(obj, f.attname)
    return values


def export_values(record: Mapping[str, Any], model: type[models.Model]) -> dict[str, Any]:
    """The hashed fields of a record as an export file holds it (``serialize_record``'s layout)."""
    values: dict[str, Any] = {"tenant": record.get("tenant")}
    for f in model._meta.concrete_fields:
        if f.name not in UNHASHED and f.name != "tenant":
            values[f.name] = record.get(f.name)
    return values


# ------------------------------------------------------------------------------------------------ the head


def export_key() -> tuple[str, dict[str, str]]:
    keys: dict[str, str] = settings.AUTHMON_EXPORT_KEYS
    return settings.AUTHMON_EXPORT_KEY_ID, keys


def head_message(tenant_slug: str, last_seq: int, last_hash: str, anchor_seq: int, anchor_hash: str) -> bytes:
    return f"{_SIGN_PREFIX}\n{tenant_slug}\n{last_seq}\n{last_hash}\n{anchor_seq}\n{anchor_hash}".encode()


def head_sign(head: AuditChain, tenant_slug: str) -> None:
    """Sign the head's state with the current export key (the anchor is what a trim leaves behind)."""
    key_id, keys = export_key()
    message = head_message(tenant_slug, head.last_seq, head.last_hash, head.anchor_seq, head.anchor_hash)
    head.key_id = key_id
    head.signature = hmac.new(keys[key_id].encode(), message, hashlib.sha256).hexdigest()


def head_signature_ok(head: AuditChain, tenant_slug: str) -> bool:
    _, keys = export_key()
    key = keys.get(head.key_id)
    if key is None or not head.signature:
        return False
    message = head_message(tenant_slug, head.last_seq, head.last_hash, head.anchor_seq, head.anchor_hash)
    return hmac.compare_digest(hmac.new(key.encode(), message, hashlib.sha256).hexdigest(), head.signature)


def head_lock(tenant_id: int) -> AuditChain:
    """The tenant's chain head, created if missing and locked until the current transaction ends."""
    from audit.models import AuditChain

    locked = AuditChain.objects.select_for_update(of=("self",)).select_related("tenant")
    head = locked.filter(tenant_id=tenant_id).first()
    if head is None:  # the tenant's first record; a concurrent first writer may be creating the head too
        AuditChain.objects.bulk_create([AuditChain(tenant_id=tenant_id)], ignore_conflicts=True)
        head = locked.get(tenant_id=tenant_id)
    return head


def _by_tenant(objs: Iterable[AuditLog]) -> dict[int, list[AuditLog]]:
    groups: dict[int, list[AuditLog]] = defaultdict(list)
    for obj in objs:
        groups[obj.tenant_id].append(obj)
    return dict(sorted(groups.items()))  # one lock order for every writer: no deadlocks between tenants


# ------------------------------------------------------------------------------------------------- writing


def chain_append(objs: Iterable[AuditLog]) -> None:
    """Give new records the next positions of their tenants' chains, in the order given.

    Must run inside the transaction that inserts them (the head stays locked until it ends, and a rollback takes
    the positions back).
    """
    for tenant_id, group in _by_tenant(objs).items():
        head = head_lock(tenant_id)
        slug = head.tenant.slug
        for obj in group:
            obj.external_id = obj.external_id or None  # "" is no idempotency key, and must hash as what is stored
            head.last_seq += 1
            obj.seq = head.last_seq
            obj.prev_hash = head.last_hash
            obj.hash = record_hash(obj.prev_hash, instance_values(obj, slug), type(obj))
            head.last_hash = obj.hash
        head_sign(head, slug)
        head.save(update_fields=["last_seq", "last_hash", "key_id", "signature"])


@dataclass(frozen=True)
class Position:
    """A record's place in the chain and the hash of its contents, wherever the record comes from."""

    seq: Any
    prev_hash: Any
    hash: Any
    values: dict[str, Any]
    label: str  # how to name the record in a message: "Record 3" (of an archive), "Audit record 1234"


def _position_problem(position: Position, model: type[models.Model]) -> str | None:
    if not isinstance(position.seq, int) or isinstance(position.seq, bool) or position.seq < 1:
        return f"{position.label} has no audit chain position (seq); only audit exports with chain positions restore."
    for name in ("prev_hash", "hash"):
        value = getattr(position, name)
        if not isinstance(value, str) or len(value) != 64:
            return f"{position.label} has no valid {name}."
    try:
        expected = record_hash(position.prev_hash, position.values, model)
    except ChainError as exc:
        return f"{position.label}: {exc}"
    if not hmac.compare_digest(expected, position.hash):
        return f"{position.label} (seq {position.seq}) does not match its chain hash: its contents were changed."
    return None


def positions_check(
    positions: list[Position], *, tenant: Tenant, model: type[models.Model], head: AuditChain | None, inserting: bool
) -> set[int]:
    """Check that restored records fit their tenant's chain; return the positions already present (duplicates).

    Every record must hash to its own ``hash``; records at consecutive positions must link; a position not in the
    database must be a trimmed one (at or below the anchor), and the record at the anchor position must carry the
    anchor's hash; records next to present ones must link to them. With ``inserting`` (under the head lock, just
    before the insert) a position already taken is an error rather than a duplicate.
    """
    for position in positions:
        if problem := _position_problem(position, model):
            raise ChainError(problem)
    ordered = sorted(positions, key=lambda p: p.seq)
    for before, after in itertools.pairwise(ordered):
        if after.seq == before.seq:
            raise ChainError(f"{after.label} and {before.label} claim the same chain position {after.seq}.")
        if after.seq == before.seq + 1 and after.prev_hash != before.hash:
            raise ChainError(f"{after.label} (seq {after.seq}) does not link to seq {before.seq}.")
    if head is not None and not head_signature_ok(head, tenant.slug):
        raise ChainError("The tenant's audit chain head has a bad signature; run verify_audit_chain before restoring.")
    anchor_seq = head.anchor_seq if head is not None else 0
    anchor_hash = head.anchor_hash if head is not None else GENESIS
    seqs = {p.seq for p in ordered}
    wanted = seqs | {s - 1 for s in seqs} | {s + 1 for s in seqs}
    stored = {
        seq: (prev_hash, hash_)
        for seq, prev_hash, hash_ in model.objects.filter(tenant=tenant, seq__in=wanted).values_list(
            "seq", "prev_hash", "hash"
        )
    }
    present: set[int] = set()
    for position in ordered:
        if position.seq in stored:
            if inserting or stored[position.seq][1] != position.hash:
                raise ChainError(
                    f"{position.label}: chain position {position.seq} of this tenant holds a different record."
                )
            present.add(position.seq)
            continue
        if position.seq > anchor_seq:
            raise ChainError(
                f"{position.label} (seq {position.seq}) was never trimmed from this tenant's audit chain "
                f"(trimmed up to seq {anchor_seq}), so it cannot be restored: the archive belongs to another chain or "
                "the record was removed without the trim job."
            )
        if position.seq == anchor_seq and position.hash != anchor_hash:
            raise ChainError(f"{position.label} (seq {position.seq}) does not match the trim anchor of the chain.")
        after = stored.get(position.seq + 1)
        if after is not None and after[0] != position.hash:
            raise ChainError(f"{position.label} (seq {position.seq}) does not link to the stored next record.")
        before = stored.get(position.seq - 1)
        if before is not None and position.prev_hash != before[1]:
            raise ChainError(f"{position.label} (seq {position.seq}) does not link to the stored record before it.")
    return present


def chain_restore(objs: Iterable[AuditLog]) -> None:
    """Check, under the head lock, that restored records may take back their archived positions."""
    for tenant_id, group in _by_tenant(objs).items():
        head = head_lock(tenant_id)
        positions = [
            Position(o.seq, o.prev_hash, o.hash, instance_values(o, head.tenant.slug), f"Audit record {o.pk}")
            for o in group
        ]
        positions_check(positions, tenant=head.tenant, model=type(group[0]), head=head, inserting=True)


def archive_check(records: list[dict[str, Any]], *, tenant: Tenant, model: type[models.Model]) -> None:
    """Check an archive's chain positions before a restore (the same rules as the insert, without the lock)."""
    from audit.models import AuditChain

    positions = [
        Position(r.get("seq"), r.get("prev_hash"), r.get("hash"), export_values(r, model), f"Record {i}")
        for i, r in enumerate(records)
    ]
    head = AuditChain.objects.filter(tenant=tenant).first()
    positions_check(positions, tenant=tenant, model=model, head=head, inserting=False)


# ------------------------------------------------------------------------------------------------ trimming


def chain_trim_bound(*, tenant: Tenant, cutoff: dt.datetime) -> int:
    """The last position a trim at ``cutoff`` may remove: the end of the chain's prefix that is all older.

    A record past retention that follows a younger one (ingested late with an old timestamp) stays until the
    records before it are old enough too: removing it would leave a hole the chain cannot vouch for.
    """
    from audit.models import AuditChain, AuditLog

    head = AuditChain.objects.filter(tenant=tenant).first()
    if head is None:
        return 0
    young = (
        AuditLog.objects.filter(tenant=tenant, seq__gt=head.anchor_seq, timestamp__gte=cutoff)
        .order_by("seq")
        .values_list("seq", flat=True)
        .first()
    )
    return head.last_seq if young is None else young - 1


def chain_purge(queryset: models.QuerySet[Any]) -> int:
    """Delete the selected records and move each tenant's anchor past them; the one sanctioned removal path.

    Only a prefix of a chain can go: records at or below the anchor (restored ones), plus the records from the
    anchor on up to the first position that is not selected. Anything selected beyond that stays, so that the
    chain keeps verifying; the number returned is what was deleted.
    """
    from audit.models import AuditLog
    from authmon.tenancy import tenant_scope

    deleted = 0
    tenant_ids = sorted(set(queryset.values_list("tenant_id", flat=True)))
    for tenant_id in tenant_ids:
        with tenant_scope(tenant_id, using=queryset.db):
            head = head_lock(tenant_id)
            selected = queryset.filter(tenant_id=tenant_id)
            kept = (
                AuditLog.objects.filter(tenant_id=tenant_id, seq__gt=head.anchor_seq)
                .exclude(pk__in=selected.values("pk"))
                .order_by("seq")
                .values_list("seq", flat=True)
                .first()
            )
            bound = head.last_seq if kept is None else kept - 1
            if bound > head.anchor_seq:
                _anchor_set(head, bound)
            pks = list(selected.filter(seq__lte=bound).values_list("pk", flat=True))
            for start in range(0, len(pks), 5_000):
                deleted += _records_delete(tenant_id, pks[start : start + 5_000], queryset.db)
    return deleted


def _records_delete(tenant_id: int, pks: list[int], db: str) -> int:
    """Delete audit records ``pks`` of ``tenant_id``, whose positions the anchor has passed.

    On PostgreSQL only ``authmon_audit_purge`` may (authmon.dbroles): it runs as the maintenance role and removes
    nothing the signed anchor has not passed, whatever it is asked.
    """
    from audit.models import AuditLog

    connection = connections[db]
    if connection.vendor != "postgresql":
        return AuditLog.objects.filter(pk__in=pks)._raw_delete(db)
    with connection.cursor() as cursor:
        cursor.execute("SELECT authmon_audit_purge(%s, %s)", [tenant_id, pks])
        return int(cursor.fetchone()[0])


def chain_anchor_move(*, tenant_id: int, seq: int) -> None:
    """Move the tenant's trim anchor forward to ``seq``, signed, before its records go with a dropped partition.

    The caller (the trim's partition drop, ``console.maintenance``) has checked that positions up to ``seq`` are a
    prefix of the chain that is all in months being dropped, and archived them. Until the partition is actually
    dropped its records sit at or below the anchor, where ``chain_verify`` accepts them as restored ones, so the
    drop may be deferred to a later run without breaking the chain.
    """
    with transaction.atomic():
        head = head_lock(tenant_id)
        if seq > head.anchor_seq:
            _anchor_set(head, seq)


def _anchor_set(head: AuditChain, seq: int) -> None:
    """Anchor the locked chain head at position ``seq`` (its hash), signed: positions up to it may be gone."""
    from audit.models import AuditLog

    anchor = AuditLog.objects.filter(tenant_id=head.tenant_id, seq=seq).values_list("hash", flat=True).first()
    if anchor is None:
        raise ChainError(f"Position {seq} of the audit chain is missing; run verify_audit_chain.")
    head.anchor_seq, head.anchor_hash = seq, anchor
    head_sign(head, head.tenant.slug)
    head.save(update_fields=["anchor_seq", "anchor_hash", "key_id", "signature"])


# ------------------------------------------------------------------------------------------------ verifying


@dataclass
class ChainReport:
    """The outcome of verifying one tenant's chain: how much was checked and the first broken link, if any."""

    tenant: str
    checked: int = 0
    first_seq: int | None = None
    last_seq: int = 0
    anchor_seq: int = 0
    restored: int = 0
    broken_seq: int | None = None
    broken_id: int | None = None
    problem: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    checkpoint: str = ""  # the latest checkpoint the chain was held against (audit.checkpoints), as people read it

    @property
    def ok(self) -> bool:
        return not self.problem

    def summary(self) -> str:
        if not self.ok:
            where = f" at seq {self.broken_seq}" if self.broken_seq is not None else ""
            record = f" (record id {self.broken_id})" if self.broken_id is not None else ""
            return f"{self.tenant}: BROKEN{where}{record}: {self.problem}"
        if not self.checked and not self.last_seq:
            return f"{self.tenant}: OK, no audit records yet."
        text = f"{self.tenant}: OK, {self.checked:,} records verified up to seq {self.last_seq:,}"
        if self.anchor_seq:
            text += f"; trimmed up to seq {self.anchor_seq:,} (anchor verified)"
        if self.restored:
            text += f"; {self.restored:,} restored records at trimmed positions"
        if self.checkpoint:
            text += f"; consistent with {self.checkpoint}"
        return text + "."


def _rows(tenant: Tenant) -> Iterator[AuditLog]:
    from audit.models import AuditLog

    yield from AuditLog.objects.filter(tenant=tenant).order_by("seq").iterator(chunk_size=2_000)


def chain_verify(*, tenant: Tenant) -> ChainReport:
    """Walk the tenant's chain in order and report the first broken link (or that every link holds).

    Checks: the head's signature; the chain against its latest checkpoint outside the database (nothing it vouched
    for is gone: no erased tenant, rolled-back tail or replaced head, see :mod:`audit.checkpoints`); every record's
    hash against its contents; gap-free positions after the anchor, the first linking to the anchor's hash and each
    to the one before; the last one matching the head (so removed records at the end are noticed too). Records at
    trimmed positions (restored from archives) must hash right and link to whichever neighbours are present.
    """
    from audit.checkpoints import checkpoint_check, checkpoint_log
    from audit.models import AuditChain, AuditLog

    report = ChainReport(tenant=tenant.slug)
    checkpoints = checkpoint_log(tenant)  # before the head: a checkpoint is then never newer than the head read
    head = AuditChain.objects.filter(tenant=tenant).first()

    def broken(problem: str, row: AuditLog | None = None, seq: int | None = None) -> ChainReport:
        report.problem = problem
        report.broken_seq = seq if seq is not None else (row.seq if row is not None else None)
        report.broken_id = row.pk if row is not None else None
        return report

    def against_checkpoint() -> bool:
        check = checkpoint_check(tenant=tenant, head=head, log=checkpoints)
        if check.latest is not None:
            report.checkpoint = check.latest.describe()
        if check.problem:
            broken(check.problem, seq=check.broken_seq)
        return not check.problem

    if head is None:
        row = AuditLog.objects.filter(tenant=tenant).order_by("seq").first()
        if row is not None:
            return broken("audit records exist but the chain head is missing.", row)
        against_checkpoint()  # no head and no records: fine for a tenant that never had any, not for one erased
        return report
    report.anchor_seq, report.last_seq = head.anchor_seq, head.last_seq
    if not head_signature_ok(head, tenant.slug):
        return broken("the chain head's signature does not match (head or anchor changed without the server's key).")
    if head.anchor_seq > head.last_seq:
        return broken("the chain head's anchor lies beyond its last position.")
    if not against_checkpoint():
        return report
    expected_seq = head.anchor_seq + 1
    prev_hash = head.anchor_hash
    previous: AuditLog | None = None
    for row in _rows(tenant):
        report.checked += 1
        if report.first_seq is None:
            report.first_seq = row.seq
        actual = record_hash(row.prev_hash, instance_values(row, tenant.slug), AuditLog)
        if not hmac.compare_digest(actual, row.hash):
            return broken("the record's contents do not match its hash: the record was changed.", row)
        if previous is not None and row.seq == previous.seq + 1 and row.prev_hash != previous.hash:
            return broken(f"the record does not link to seq {previous.seq} (its prev_hash differs).", row)
        previous = row
        if row.seq <= head.anchor_seq:
            report.restored += 1
            if row.seq == head.anchor_seq and row.hash != head.anchor_hash:
                return broken("the restored record at the anchor position does not match the trim anchor.", row)
            continue
        if row.seq != expected_seq:
            gap = f"seq {expected_seq}" if row.seq == expected_seq + 1 else f"seq {expected_seq} to {row.seq - 1}"
            return broken(f"{gap} missing: records were removed outside the trim job.", seq=expected_seq)
        if row.prev_hash != prev_hash:
            what = "the trim anchor" if row.seq == head.anchor_seq + 1 else f"seq {row.seq - 1}"
            return broken(f"the record does not link to {what} (its prev_hash differs).", row)
        prev_hash = row.hash
        expected_seq += 1
    if expected_seq - 1 != head.last_seq:
        missing = f"seq {expected_seq} to {head.last_seq}" if expected_seq < head.last_seq else f"seq {head.last_seq}"
        return broken(f"{missing} missing at the end of the chain (the head says {head.last_seq}).", seq=expected_seq)
    if prev_hash != head.last_hash:
        return broken("the last record does not match the chain head's hash.", seq=head.last_seq)
    return report
