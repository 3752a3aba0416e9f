"""One line of a tenant's checkpoint file: what it says, how it is signed and chained, and how it is read back.

The format and the reasons for it are in :mod:`audit.checkpoints`; this module makes a line (:func:`_line_make`) and
checks one (:func:`_line_read`: its fields and types, its place in the file's chain, its signature), nothing else.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from audit.chain import GENESIS, export_key

if TYPE_CHECKING:
    from audit.models import AuditChain
    from authmon.models import Tenant

VERSION = 1
_SIGN_PREFIX = b"authmon-audit-checkpoint\n"
_HASH = re.compile(r"[0-9a-f]{64}")
_REQUIRED: dict[str, type] = {
    "v": int,
    "counter": int,
    "tenant_id": int,
    "tenant": str,
    "last_seq": int,
    "last_hash": str,
    "anchor_seq": int,
    "anchor_hash": str,
    "time": str,
    "prev": str,
    "key_id": str,
    "sig": str,
}
_OPTIONAL: dict[str, type] = {"accepted": str, "replaces": str}


# ---------------------------------------------------------------------------------------------- a checkpoint


def _when(value: str | dt.datetime) -> str:
    """A checkpoint's time as people read it in a message: ``2026-06-01 10:15:00 UTC``."""
    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00")) if isinstance(value, str) else value
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _span(first: int, last: int) -> str:
    return f"seq {first:,}" if first >= last else f"seq {first:,} to {last:,}"


@dataclass(frozen=True)
class Checkpoint:
    """One valid line of a tenant's checkpoint file."""

    counter: int
    tenant_id: int
    tenant: str
    last_seq: int
    last_hash: str
    anchor_seq: int
    anchor_hash: str
    time: str
    digest: str  # SHA-256 of the line as stored: the next line's ``prev``, and the database's mark
    accepted: str = ""

    def label(self) -> str:
        return f"checkpoint #{self.counter:,} of {_when(self.time)}"

    def describe(self) -> str:
        """The label, and the reason when an operator accepted a break with it (shown by verify)."""
        return self.label() + (f" (an accepted break: {self.accepted})" if self.accepted else "")

    def state(self) -> tuple[int, str, int, str]:
        return (self.last_seq, self.last_hash, self.anchor_seq, self.anchor_hash)


def _head_state(head: AuditChain | None) -> tuple[int, str, int, str]:
    if head is None:
        return (0, GENESIS, 0, GENESIS)
    return (head.last_seq, head.last_hash, head.anchor_seq, head.anchor_hash)


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _signature(key: str, body: dict[str, Any]) -> str:
    unsigned = {name: value for name, value in body.items() if name != "sig"}
    return hmac.new(key.encode(), _SIGN_PREFIX + _dumps(unsigned).encode(), hashlib.sha256).hexdigest()


def _line_make(
    tenant: Tenant, head: AuditChain | None, *, counter: int, prev: str, accepted: str = "", replaces: str = ""
) -> bytes:
    key_id, keys = export_key()
    last_seq, last_hash, anchor_seq, anchor_hash = _head_state(head)
    body: dict[str, Any] = {
        "v": VERSION,
        "counter": counter,
        "tenant_id": tenant.pk,
        "tenant": tenant.slug,
        "last_seq": last_seq,
        "last_hash": last_hash,
        "anchor_seq": anchor_seq,
        "anchor_hash": anchor_hash,
        "time": timezone.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "prev": prev,
        "key_id": key_id,
    }
    if accepted:
        body["accepted"], body["replaces"] = accepted, replaces
    body["sig"] = _signature(keys[key_id], body)
    return _dumps(body).encode("ascii")


def _line_read(raw: bytes, *, number: int, prev: str, tenant_id: int, slug: str | None) -> Checkpoint | str:
    """The checkpoint on line ``number`` of a tenant's file, or what is wrong with it (a phrase after "line N")."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return "is not a checkpoint (not JSON)."
    if not isinstance(body, dict):
        return "is not a checkpoint (not a JSON object)."
    for name, kind in (*_REQUIRED.items(), *_OPTIONAL.items()):
        value = body.get(name)
        if name in _OPTIONAL and name not in body:
            continue
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"is not a checkpoint (field {name} is missing or of the wrong type)."
    if set(body) - set(_REQUIRED) - set(_OPTIONAL):
        return "is not a checkpoint (it has fields authmon does not write)."
    if body["v"] != VERSION:
        return f"has an unknown version {body['v']}."
    _, keys = export_key()
    key = keys.get(body["key_id"])
    if key is None:
        return f"is signed with key '{body['key_id'][:40]}', which is not among AUTHMON_EXPORT_KEYS (keep old keys)."
    if not hmac.compare_digest(_signature(key, body), body["sig"]):
        return "does not match its signature: it was edited, or written without the server's key."
    if body["counter"] != number:
        return f"holds checkpoint #{body['counter']:,} where #{number:,} belongs: a line was removed or inserted."
    if body["prev"] != prev:
        return "does not follow the line before it (its prev differs): a line was removed or changed."
    if body["tenant_id"] != tenant_id or (slug is not None and body["tenant"] != slug):
        return f"belongs to another tenant ('{body['tenant'][:60]}', id {body['tenant_id']})."
    hashes_ok = all(_HASH.fullmatch(body[name]) for name in ("last_hash", "anchor_hash", "prev"))
    if not hashes_ok or not 0 <= body["anchor_seq"] <= body["last_seq"]:
        return "holds positions or hashes that cannot be a chain's."
    try:
        _when(body["time"])
    except ValueError:
        return "has a time that is not a date and time."
    return Checkpoint(
        counter=body["counter"],
        tenant_id=body["tenant_id"],
        tenant=body["tenant"],
        last_seq=body["last_seq"],
        last_hash=body["last_hash"],
        anchor_seq=body["anchor_seq"],
        anchor_hash=body["anchor_hash"],
        time=body["time"],
        digest=hashlib.sha256(raw).hexdigest(),
        accepted=body.get("accepted", ""),
    )
