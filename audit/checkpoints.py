"""Signed checkpoints of every tenant's audit chain, kept outside the database (issue 15).

Why: the chain (:mod:`audit.chain`) finds a changed byte or a missing middle record, but not everything someone who
can rewrite the database can do. An older chain head is still validly signed, so deleting the newest records and
putting back an earlier head verifies; a tenant whose records and head are both gone looks like one that never had
any. A checkpoint is a statement, signed with the server's key and kept where the database cannot reach, of how far
a tenant's chain went at a moment. Later the chain may grow and a trim may remove a prefix (the signed anchor moves
past the checkpoint), but the position it names never goes back: :func:`checkpoint_check`, which ``chain_verify``
(so ``verify_audit_chain`` and the Verify page) runs, reports a chain that is behind its latest checkpoint, records
it vouched for that are gone, a head or history that was replaced, and a tenant that was erased.

The store (``AUTHMON_CHECKPOINT_DIR``, its own directory, mode 0700): one file per tenant, ``tenant-<id>.jsonl``,
mode 0600, only ever opened to append (``O_APPEND``): lines are added, never rewritten. Each line is one JSON
object::

    {"anchor_hash": "...", "anchor_seq": 0, "counter": 3, "key_id": "default", "last_hash": "...", "last_seq": 427,
     "prev": "<SHA-256 of line 2>", "sig": "<HMAC-SHA256>", "tenant": "acme", "tenant_id": 7,
     "time": "2026-06-01T10:15:00.000000Z", "v": 1}

``counter`` is the line's number (1, 2, 3, ...) and ``prev`` the SHA-256 of the line before it as stored (64 zeros
for the first), so a line removed, inserted or reordered breaks the file's own chain; ``sig`` is an HMAC-SHA256 with
the export seal key (``AUTHMON_EXPORT_KEYS``, as the chain head's signature) over every other field, so no line can
be made or changed without the server's key. A file cut short at its end still chains; the database keeps the
counter and digest of the last line written (:class:`audit.models.CheckpointMark`) to show that, so neither store
alone can hide a loss. Someone who can rewrite both could cut the file back to an older checkpoint (that needs no
key) and lower the mark: against that, mount the directory from storage the database's host and users cannot write,
make the files append-only (``chattr +a``), and have each new line e-mailed to ``AUTHMON_CHECKPOINT_EMAIL`` (a third
witness, also recorded in the tenant's Notification Logs). Revocation webhooks are not used for this: they speak a
revocation feed's format, which has no place for a checkpoint.

A checkpoint is written only when a chain moved (hourly, ``audit.tasks``, and ``manage.py audit_checkpoint``) and
only when the chain still extends the latest checkpoint: otherwise the next checkpoint would make a rolled-back
chain look right again. A known loss (a database restored from a backup) is acknowledged by an operator with
``audit_checkpoint --tenant SLUG --accept REASON``, which writes an audit record and a checkpoint that carries the
reason and what it replaces; a damaged file is then set aside (renamed, kept) and a new one started.

The writers of one store take a lock file (``.lock``, ``flock``) for each write, so concurrent runs cannot both
append counter N+1. Web and worker processes must all see the same directory (``/data`` in docker-compose).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hmac
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.chain import GENESIS, head_signature_ok
from audit.checkpoint_lines import Checkpoint, _head_state, _line_make, _line_read, _span, _when

if TYPE_CHECKING:
    from audit.models import AuditChain
    from authmon.models import Tenant

_FILE = re.compile(r"tenant-([0-9]{1,19})\.jsonl")
REASON_MAX = 500

WRITTEN, UNCHANGED, EMPTY, REFUSED = "written", "unchanged", "empty", "refused"


# ------------------------------------------------------------------------------------------------ the store


def checkpoint_dir() -> Path:
    return Path(settings.AUTHMON_CHECKPOINT_DIR)


def checkpoint_path(tenant_id: int) -> Path:
    """The tenant's file: named by the tenant's id, which nothing a user or a record sends can choose."""
    return checkpoint_dir() / f"tenant-{int(tenant_id)}.jsonl"


def _private_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # also when it existed with a looser mode
    return path


def _read(path: Path) -> bytes:
    """The file's bytes (empty when it does not exist). Never follows a symbolic link."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except FileNotFoundError:
        return b""
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


@dataclass
class CheckpointLog:
    """What a tenant's checkpoint file holds: the digest of each valid line, the latest checkpoint, any damage."""

    digests: list[str] = field(default_factory=list)
    latest: Checkpoint | None = None
    problem: str = ""


def _parse(raw: bytes, *, tenant_id: int, slug: str | None) -> CheckpointLog:
    log = CheckpointLog()
    lines = raw.split(b"\n")
    tail = lines.pop()  # empty when the file ends with a line end, as every whole write leaves it
    for number, line in enumerate(lines, 1):
        prev = log.digests[-1] if log.digests else GENESIS
        read = _line_read(line, number=number, prev=prev, tenant_id=tenant_id, slug=slug)
        if isinstance(read, str):
            log.problem = f"the checkpoint file is damaged: line {number:,} {read}"
            return log
        log.digests.append(read.digest)
        log.latest = read
    if tail:
        log.problem = (
            f"the checkpoint file is damaged: line {len(lines) + 1:,} is cut short (no line end): the file was "
            "truncated, or a write was interrupted."
        )
    return log


def checkpoint_log(tenant: Tenant) -> CheckpointLog:
    """Read and check the tenant's checkpoint file, and hold it against the database's mark of the last line written.

    The file must be whole (every line signed, numbered and chained to the one before); the mark's line must be in
    it with the same digest, so that lines cut off the end, or a file removed or rewritten, are reported.
    """
    from audit.models import CheckpointMark

    try:
        log = _parse(_read(checkpoint_path(tenant.pk)), tenant_id=tenant.pk, slug=tenant.slug)
    except OSError as exc:
        return CheckpointLog(problem=f"the checkpoint file cannot be read ({exc.strerror or exc}).")
    if log.problem:
        return log
    mark = CheckpointMark.objects.filter(tenant_id=tenant.pk).first()
    if mark is None:
        return log
    when = _when(mark.written_at)
    if not log.digests:
        log.problem = (
            f"the checkpoint file is missing or empty, but checkpoint #{mark.counter:,} was written to it at {when}: "
            "it was removed, or AUTHMON_CHECKPOINT_DIR points somewhere else now."
        )
    elif mark.counter > len(log.digests):
        log.problem = (
            f"the checkpoint file ends at checkpoint #{len(log.digests):,}, but #{mark.counter:,} was written to it "
            f"at {when}: its last lines were removed."
        )
    elif not hmac.compare_digest(log.digests[mark.counter - 1], mark.digest):
        log.problem = (
            f"checkpoint #{mark.counter:,} in the checkpoint file is not the one written at {when}: the file was "
            "rewritten."
        )
    return log


# -------------------------------------------------------------------------------------------- the comparison


def _compare(tenant: Tenant, head: AuditChain | None, checkpoint: Checkpoint) -> tuple[str, int | None] | None:
    """What the chain lost against ``checkpoint`` (a problem and the first position concerned), or None.

    Allowed: records after the checkpoint (new ones) and records at or below the head's anchor (trimmed, which the
    signed anchor vouches for). Everything else the checkpoint vouched for must still be there, unchanged.
    """
    from audit.models import AuditLog

    said = checkpoint.label()
    if head is None:
        if checkpoint.last_seq == 0:
            return None
        return (
            f"the tenant's audit log was erased: {said} vouched for its chain up to seq {checkpoint.last_seq:,}, "
            "and now the chain head and every record are gone.",
            None,
        )
    if head.last_seq < checkpoint.last_seq:
        return (
            f"the chain was rolled back: it ends at seq {head.last_seq:,}, but {said} vouched for it up to seq "
            f"{checkpoint.last_seq:,}, so the records at {_span(head.last_seq + 1, checkpoint.last_seq)} are missing "
            "and the chain head was replaced by an older one (or the log was erased and started again).",
            head.last_seq + 1,
        )
    if head.anchor_seq < checkpoint.anchor_seq:
        return (
            f"the chain head was replaced by an older one: it is trimmed up to seq {head.anchor_seq:,}, but {said} "
            f"already had it trimmed up to seq {checkpoint.anchor_seq:,}.",
            head.anchor_seq + 1,
        )
    if head.last_seq == checkpoint.last_seq and head.last_hash != checkpoint.last_hash:
        return (
            f"the chain head was replaced: it ends at seq {head.last_seq:,} as {said} does, but with another hash: "
            "the chain was rewritten.",
            head.last_seq,
        )
    if checkpoint.last_seq > head.anchor_seq:
        stored = AuditLog.objects.filter(tenant=tenant, seq=checkpoint.last_seq).values_list("hash", flat=True).first()
        if stored is None and _trimmed_meanwhile(tenant, checkpoint.last_seq):
            return None
        if stored is None:
            before = AuditLog.objects.filter(
                tenant=tenant, seq__gt=head.anchor_seq, seq__lt=checkpoint.last_seq
            ).aggregate(last=Max("seq"))["last"]
            first = (before or head.anchor_seq) + 1
            return (
                f"the records at {_span(first, checkpoint.last_seq)} are missing: {said} vouched for the chain up to "
                f"seq {checkpoint.last_seq:,}, and they were removed outside the trim job.",
                first,
            )
        if stored != checkpoint.last_hash:
            return (
                f"the record at seq {checkpoint.last_seq:,} is not the one {said} vouched for: the chain was "
                "rewritten.",
                checkpoint.last_seq,
            )
    elif checkpoint.last_seq == head.anchor_seq and head.anchor_hash != checkpoint.last_hash:
        return (
            f"the chain's trim anchor at seq {head.anchor_seq:,} is not the record {said} vouched for: the chain "
            "was rewritten.",
            head.anchor_seq,
        )
    return None


def _trimmed_meanwhile(tenant: Tenant, seq: int) -> bool:
    """Whether a trim running since the head was read has moved the (validly signed) anchor to ``seq`` or past it."""
    from audit.models import AuditChain

    head = AuditChain.objects.filter(tenant=tenant).first()
    return head is not None and head.anchor_seq >= seq and head_signature_ok(head, tenant.slug)


@dataclass(frozen=True)
class CheckpointCheck:
    """The chain held against its latest checkpoint: that checkpoint (if any) and what is wrong (if anything)."""

    latest: Checkpoint | None
    problem: str = ""
    broken_seq: int | None = None


def checkpoint_check(*, tenant: Tenant, head: AuditChain | None, log: CheckpointLog | None = None) -> CheckpointCheck:
    """Hold the tenant's chain head (None: there is none) against the checkpoint store; see :func:`_compare`.

    ``log`` is the store as read *before* the head: a checkpoint written meanwhile by the hourly job is then never
    newer than the head it is held against (which would look like a rollback).
    """
    log = log if log is not None else checkpoint_log(tenant)
    if log.problem:
        return CheckpointCheck(log.latest, log.problem)
    if log.latest is None:
        return CheckpointCheck(None)
    found = _compare(tenant, head, log.latest)
    return CheckpointCheck(log.latest, *found) if found else CheckpointCheck(log.latest)


def checkpoint_orphans(tenant_ids: set[int]) -> list[tuple[str, str]]:
    """Checkpoint files of tenants that no longer exist, as (tenant slug, problem): a tenant erased with its row.

    There is no way to delete a tenant in authmon; an operator who removes one by hand moves its file away too.
    """
    root = checkpoint_dir()
    try:
        paths = sorted(root.iterdir()) if root.is_dir() else []
    except OSError as exc:
        problem = f"AUTHMON_CHECKPOINT_DIR cannot be listed ({exc.strerror or exc}): erased tenants cannot be found."
        return [("checkpoint store", problem)]
    found = []
    for path in paths:
        match = _FILE.fullmatch(path.name)
        if match is None or int(match[1]) in tenant_ids:
            continue
        tenant_id = int(match[1])
        try:
            log = _parse(_read(path), tenant_id=tenant_id, slug=None)
        except OSError as exc:
            log = CheckpointLog(problem=f"the checkpoint file cannot be read ({exc.strerror or exc}).")
        if log.latest is not None:
            found.append(
                (
                    log.latest.tenant,
                    f"the tenant (id {tenant_id}) is gone, but {log.latest.label()} vouched for its audit chain up "
                    f"to seq {log.latest.last_seq:,}: it was erased with its records.",
                )
            )
        elif log.problem:
            found.append((f"tenant id {tenant_id}", f"the tenant is gone, and {log.problem}"))
    return found


# ---------------------------------------------------------------------------------------------------- writing


@contextmanager
def _store_lock() -> Iterator[None]:
    """Hold the store's lock file: one writer at a time reads a file's last line and appends the next."""
    root = _private_dir(checkpoint_dir())
    fd = os.open(root / ".lock", os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _append(path: Path, line: bytes) -> None:
    """Append one whole line (O_APPEND, 0600, never following a link) and make it durable before going on."""
    created = not path.exists()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        data = memoryview(line + b"\n")
        while data:
            data = data[os.write(fd, data) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:  # the new directory entry must survive a crash too
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _set_aside(path: Path) -> None:
    """Rename a damaged file, keeping it as evidence, so that a new one can start."""
    if not path.exists():
        return
    stamp = timezone.now().astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.set-aside-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.set-aside-{stamp}-{number}")
    path.rename(target)


@dataclass(frozen=True)
class CheckpointResult:
    """What :func:`checkpoint_write` did for one tenant."""

    tenant: str
    outcome: str  # WRITTEN, UNCHANGED, EMPTY or REFUSED
    checkpoint: Checkpoint | None = None
    problem: str = ""

    def summary(self) -> str:
        cp = self.checkpoint
        if self.outcome == WRITTEN and cp is not None:
            text = f"{self.tenant}: checkpoint #{cp.counter:,} written (chain up to seq {cp.last_seq:,}"
            text += f", trimmed up to seq {cp.anchor_seq:,})" if cp.anchor_seq else ")"
            return text + (f"; accepted: {cp.accepted}" if cp.accepted else "") + "."
        if self.outcome == UNCHANGED and cp is not None:
            return f"{self.tenant}: unchanged since checkpoint #{cp.counter:,} (seq {cp.last_seq:,})."
        if self.outcome == EMPTY:
            return f"{self.tenant}: no audit records yet, nothing to checkpoint."
        return (
            f"{self.tenant}: REFUSED, no checkpoint written: {self.problem} Run verify_audit_chain; if the loss is "
            f"known (a database restored from a backup), accept it: audit_checkpoint --tenant {self.tenant} "
            "--accept REASON."
        )


def _head(tenant: Tenant, *, lock: bool) -> AuditChain | None:
    from audit.models import AuditChain

    heads = AuditChain.objects.select_for_update() if lock else AuditChain.objects.all()
    return heads.filter(tenant=tenant).first()


def _problem(tenant: Tenant, log: CheckpointLog, head: AuditChain | None) -> str:
    if log.problem:
        return log.problem
    if log.latest is not None and (found := _compare(tenant, head, log.latest)):
        return found[0]
    if head is not None and head.last_seq and not head_signature_ok(head, tenant.slug):
        return "the chain head's signature does not match (head or anchor changed without the server's key)."
    return ""


def checkpoint_write(tenant: Tenant, *, accept: str = "", actor: str = "", client_actor: str = "") -> CheckpointResult:
    """Append a checkpoint of the tenant's chain head to its file, if the head moved and still extends the last one.

    Refused (nothing written) when the file is damaged or the chain no longer holds what the latest checkpoint
    vouched for: the refusal names the problem, and the evidence stays as it is. With ``accept`` (an operator's
    reason) the checkpoint is written anyway, after an audit record ("accept AuditChain", by ``actor``) saying what
    is accepted; it carries the reason and the problem it replaces, and a damaged file is first set aside. The head
    is read under its lock, so the checkpoint is of a committed state that no trim is moving at the same moment.
    """
    from audit.models import CheckpointMark
    from audit.services import audit_record

    accept = " ".join(accept.split())[:REASON_MAX]
    path = checkpoint_path(tenant.pk)
    with _store_lock():
        log = checkpoint_log(tenant)
        replaces = ""
        if accept:
            replaces = _problem(tenant, log, _head(tenant, lock=False)) or "nothing: the chain matched its checkpoint."
            audit_record(
                tenant=tenant,
                actor=actor or "authmon",
                action="accept AuditChain",
                target="audit chain checkpoint",
                new={"accepted": accept, "replaces": replaces},
                comments=f"Accepted: {accept}. It replaces: {replaces}",
                **({"client_actor": client_actor} if client_actor else {}),
            )
        with transaction.atomic():
            head = _head(tenant, lock=True)
            if not accept:
                if problem := _problem(tenant, log, head):
                    return CheckpointResult(tenant.slug, REFUSED, log.latest, problem)
                if head is None or not head.last_seq:
                    return CheckpointResult(tenant.slug, EMPTY, log.latest)
                if log.latest is not None and log.latest.state() == _head_state(head):
                    return CheckpointResult(tenant.slug, UNCHANGED, log.latest)
            if log.problem:
                _set_aside(path)
                log = CheckpointLog()
            counter, prev = len(log.digests) + 1, (log.digests[-1] if log.digests else GENESIS)
            line = _line_make(tenant, head, counter=counter, prev=prev, accepted=accept, replaces=replaces)
            _append(path, line)
            written = _line_read(line, number=counter, prev=prev, tenant_id=tenant.pk, slug=tenant.slug)
            if isinstance(written, str):  # cannot happen: the line was just made by this code
                raise RuntimeError(f"A checkpoint just written does not read back: {written}")
            CheckpointMark.objects.update_or_create(
                tenant=tenant,
                defaults={"counter": counter, "digest": written.digest, "written_at": timezone.now()},
            )
    _publish(tenant, written, line)
    return CheckpointResult(tenant.slug, WRITTEN, written)


def _publish(tenant: Tenant, checkpoint: Checkpoint, line: bytes) -> None:
    """E-mail the new line to ``AUTHMON_CHECKPOINT_EMAIL`` (a witness the database cannot reach), if set.

    Recorded in the tenant's Notification Logs (sent, or failed with the SMTP error); a failure does not undo the
    checkpoint, which is already in the file.
    """
    recipients = list(getattr(settings, "AUTHMON_CHECKPOINT_EMAIL", []) or [])
    if not recipients:
        return
    from notifications.services import notification_send

    notification_send(
        tenant=tenant,
        to=recipients,
        subject=f"authmon audit checkpoint: {tenant.slug} #{checkpoint.counter}",
        body=(
            f"Audit chain checkpoint #{checkpoint.counter} of tenant {tenant.slug}: the chain reached seq "
            f"{checkpoint.last_seq:,} at {_when(checkpoint.time)}. Keep this message: the line below is signed by "
            f"the server and lets verify_audit_chain's findings be checked against a copy the database cannot reach."
            f"\n\n{line.decode('ascii')}\n"
        ),
        category="system",
        fail_silently=True,
    )
