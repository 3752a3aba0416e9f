"""Checkpoints outside the database (issue 15): what the database alone cannot show is found against them.

Each attack is done with raw SQL, as someone with database access would, after a checkpoint was written: on
PostgreSQL as the tables' owner (the purge switch the issue measured, ``set_config('authmon.audit_purge', 'on',
true)``, opens nothing any more: tests/audit/test_immutability.py), on SQLite with plain statements. The attacker
also removes the database's checkpoint mark; only the checkpoint store, outside the database, remembers.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone

from audit import chain
from audit.models import AuditChain, AuditLog
from authmon.models import Role, Tenant
from authmon.trim import tenant_trim
from jobs.models import JobLog
from tests.audit.test_chain import write
from tests.authmon.test_log_views import login
from tests.samples import retain


@pytest.fixture(autouse=True)
def _archives(settings, tmp_path):
    settings.AUTHMON_ARCHIVE_DIR = tmp_path / "archives"  # the trim archives audit records before removing them


def store():
    return django_settings.AUTHMON_CHECKPOINT_DIR


def checkpoint_file(tenant):
    return store() / f"tenant-{tenant.pk}.jsonl"


def attacker(*statements):
    """Raw SQL in one transaction as the tables' owner, the one role that can still delete audit records on
    PostgreSQL (the app role cannot, whatever it sets: tests/audit/test_immutability.py), with the database's
    checkpoint mark gone too."""
    with transaction.atomic(), connection.cursor() as cursor:
        if "audit_checkpointmark" in connection.introspection.table_names(cursor):
            cursor.execute("DELETE FROM audit_checkpointmark")
        for sql, params in statements:
            cursor.execute(sql, params)


def verify_fails(capsys, slug="acme"):
    """Run verify_audit_chain for the tenant; it must exit non-zero. Returns what it printed on stderr."""
    with pytest.raises(CommandError, match="1 of 1 audit chains are broken"):
        call_command("verify_audit_chain", "--tenant", slug)
    return capsys.readouterr().err


def checkpoint(capsys, *args):
    call_command("audit_checkpoint", *args)
    return capsys.readouterr().out


# ------------------------------------------------------------------------------------------------- the attacks


def test_deleting_the_tail_after_a_checkpoint_is_reported(tenant_a, capsys):
    write(tenant_a, 5)
    checkpoint(capsys)
    attacker(("DELETE FROM audit_auditlog WHERE tenant_id = %s AND seq > 3", [tenant_a.pk]))
    err = verify_fails(capsys)
    assert "acme: BROKEN at seq 4" in err
    assert "seq 4 to 5" in err and "missing" in err and "checkpoint #1" in err


def test_deleting_every_record_after_a_checkpoint_is_reported(tenant_a, capsys):
    write(tenant_a, 4)
    checkpoint(capsys)
    attacker(("DELETE FROM audit_auditlog WHERE tenant_id = %s", [tenant_a.pk]))
    err = verify_fails(capsys)
    assert "seq 1 to 4" in err and "missing" in err and "checkpoint #1" in err


def test_tail_rollback_with_an_older_signed_head_is_reported(tenant_a, capsys):
    """The issue's second attack: the newest records deleted and an earlier signed head put back ("OK, 427")."""
    write(tenant_a, 3)
    old_head = AuditChain.objects.filter(tenant=tenant_a).values_list(
        "last_seq", "last_hash", "anchor_seq", "anchor_hash", "key_id", "signature"
    )[0]
    write(tenant_a, 4, start=3)
    checkpoint(capsys)
    pk = tenant_a.pk
    attacker(
        # The head of a tenant with records cannot be changed backwards (audit/0005), but once the records are gone
        # it can be deleted and an older one inserted; the older records go back in after it.
        ("CREATE TEMPORARY TABLE kept AS SELECT * FROM audit_auditlog WHERE tenant_id = %s AND seq <= 3", [pk]),
        ("DELETE FROM audit_auditlog WHERE tenant_id = %s", [pk]),
        ("DELETE FROM audit_auditchain WHERE tenant_id = %s", [pk]),
        (
            "INSERT INTO audit_auditchain (tenant_id, last_seq, last_hash, anchor_seq, anchor_hash, key_id, signature)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [pk, *old_head],
        ),
        ("INSERT INTO audit_auditlog SELECT * FROM kept", []),
        ("DROP TABLE kept", []),
    )
    assert chain.head_signature_ok(AuditChain.objects.get(tenant=tenant_a), "acme")  # a genuine, older head
    err = verify_fails(capsys)
    assert "acme: BROKEN at seq 4" in err
    assert "replaced by an older one" in err and "seq 4 to 7" in err and "checkpoint #1" in err


def test_whole_tenant_erasure_is_reported(tenant_a, capsys):
    """The issue's first attack: every record and the chain head deleted ("OK, no audit records yet")."""
    write(tenant_a, 6)
    checkpoint(capsys)
    attacker(
        ("DELETE FROM audit_auditlog WHERE tenant_id = %s", [tenant_a.pk]),
        ("DELETE FROM audit_auditchain WHERE tenant_id = %s", [tenant_a.pk]),
    )
    err = verify_fails(capsys)
    assert "erased" in err and "seq 6" in err and "checkpoint #1" in err


def test_a_tenant_erased_with_its_row_is_remembered(tenant_a, tenant_b, capsys):
    write(tenant_b, 2)
    checkpoint(capsys)
    pk = tenant_b.pk
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the foreign keys are checked now, not at a commit
    attacker(
        ("DELETE FROM audit_auditlog WHERE tenant_id = %s", [pk]),
        ("DELETE FROM audit_auditchain WHERE tenant_id = %s", [pk]),
        ("DELETE FROM authmon_tenant WHERE id = %s", [pk]),
    )
    assert not Tenant.objects.filter(pk=pk).exists()
    with pytest.raises(CommandError, match="1 of 2 audit chains are broken"):
        call_command("verify_audit_chain")
    err = capsys.readouterr().err
    assert "globex" in err and "gone" in err and "seq 2" in err


def test_the_verify_page_names_the_erasure(client, tenant_a, capsys):
    write(tenant_a, 3)
    checkpoint(capsys)
    attacker(
        ("DELETE FROM audit_auditlog WHERE tenant_id = %s", [tenant_a.pk]),
        ("DELETE FROM audit_auditchain WHERE tenant_id = %s", [tenant_a.pk]),
    )
    login(client, tenant_a, Role.SUPER_ADMIN)
    body = client.post(reverse("audit_verify")).content.decode()
    assert 'data-ok="false"' in body
    assert "erased" in body and "checkpoint #1" in body
    # The sign-in and the check leave audit records that start a new chain (seq 1, 2): still reported.
    assert AuditChain.objects.get(tenant=tenant_a).last_seq == 2
    body = client.post(reverse("audit_verify")).content.decode()
    assert 'data-ok="false"' in body and "rolled back" in body and "seq 3 are missing" in body


def test_the_verify_page_names_the_rolled_back_tail(client, tenant_a, capsys):
    write(tenant_a, 4)
    checkpoint(capsys)
    attacker(("DELETE FROM audit_auditlog WHERE tenant_id = %s AND seq > 2", [tenant_a.pk]))
    login(client, tenant_a, Role.SUPER_ADMIN)
    body = client.post(reverse("audit_verify")).content.decode()
    assert 'data-ok="false"' in body and "broken at position 3" in body and "seq 3 to 4" in body


def test_the_checkpoint_job_refuses_to_vouch_for_a_rolled_back_chain(tenant_a, capsys):
    """Otherwise the next hourly checkpoint would launder the attack: the latest checkpoint would match again."""
    write(tenant_a, 3)
    checkpoint(capsys)
    before = checkpoint_file(tenant_a).read_bytes()
    attacker(
        ("DELETE FROM audit_auditlog WHERE tenant_id = %s", [tenant_a.pk]),
        ("DELETE FROM audit_auditchain WHERE tenant_id = %s", [tenant_a.pk]),
    )
    write(tenant_a, 1)  # a fresh chain: seq 1 again
    with pytest.raises(CommandError, match="refused"):
        call_command("audit_checkpoint")
    assert "acme" in capsys.readouterr().err
    assert checkpoint_file(tenant_a).read_bytes() == before
    assert "checkpoint #1" in verify_fails(capsys)


# ------------------------------------------------------------------------------------ what must keep verifying


def test_a_trim_after_a_checkpoint_still_verifies(tenant_a, capsys):
    write(tenant_a, 4, days_ago=400)
    write(tenant_a, 2, start=10)
    checkpoint(capsys)
    retain(tenant_a, audit=365)
    assert tenant_trim(tenant=tenant_a).deleted["audit"] == 4
    call_command("verify_audit_chain", "--tenant", "acme")
    assert "acme: OK, 2 records verified" in capsys.readouterr().out
    assert "written" in checkpoint(capsys)
    call_command("verify_audit_chain", "--tenant", "acme")
    assert "checkpoint #2" in capsys.readouterr().out


def test_trimming_past_the_checkpoint_still_verifies(tenant_a, capsys):
    write(tenant_a, 3, days_ago=400)
    checkpoint(capsys)
    write(tenant_a, 2, days_ago=400, start=5)
    retain(tenant_a, audit=365)
    assert tenant_trim(tenant=tenant_a).deleted["audit"] == 5  # everything, the checkpoint's seq 3 included
    call_command("verify_audit_chain", "--tenant", "acme")
    assert "acme: OK" in capsys.readouterr().out
    checkpoint(capsys)
    call_command("verify_audit_chain")
    assert "OK: 1 audit chain verified." in capsys.readouterr().out


def test_new_records_after_a_checkpoint_verify_and_an_unchanged_chain_is_not_written_again(tenant_a, capsys):
    write(tenant_a, 2)
    assert "acme: checkpoint #1 written" in checkpoint(capsys)
    assert "unchanged" in checkpoint(capsys)
    assert len(checkpoint_file(tenant_a).read_bytes().splitlines()) == 1
    write(tenant_a, 3, start=2)
    call_command("verify_audit_chain", "--tenant", "acme")
    out = capsys.readouterr().out
    assert "acme: OK, 5 records verified" in out and "checkpoint #1" in out
    out = checkpoint(capsys)
    assert "checkpoint #2 written" in out and out.strip().splitlines()[-1] == "OK: 1 checkpoint written."


def test_a_tenant_without_records_gets_no_checkpoint(tenant_a, capsys):
    assert "no audit records yet" in checkpoint(capsys)
    assert not checkpoint_file(tenant_a).exists()
    call_command("verify_audit_chain", "--tenant", "acme")
    assert "acme: OK, no audit records yet." in capsys.readouterr().out


# ---------------------------------------------------------------------------------------- the store itself


def test_the_store_is_private_and_lines_are_signed_and_chained(tenant_a, capsys):
    write(tenant_a, 2)
    checkpoint(capsys)
    write(tenant_a, 1, start=2)
    checkpoint(capsys)
    path = checkpoint_file(tenant_a)
    assert stat.S_IMODE(os.stat(store()).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    first, second = (json.loads(line) for line in path.read_text().splitlines())
    head = AuditChain.objects.get(tenant=tenant_a)
    assert (second["tenant"], second["counter"], second["last_seq"], second["last_hash"]) == (
        "acme",
        2,
        3,
        head.last_hash,
    )
    assert first["prev"] == "0" * 64 and second["prev"] != first["prev"]
    assert second["sig"] and second["key_id"] == django_settings.AUTHMON_EXPORT_KEY_ID


def _rewrite(path, lines):
    path.write_bytes(b"".join(line + b"\n" for line in lines))


def test_an_edited_checkpoint_file_is_reported(tenant_a, capsys):
    write(tenant_a, 3)
    checkpoint(capsys)
    path = checkpoint_file(tenant_a)
    line = json.loads(path.read_bytes())
    line["last_seq"] = 2  # an older position, so that a rolled-back chain would match
    _rewrite(path, [json.dumps(line, sort_keys=True, separators=(",", ":")).encode()])
    err = verify_fails(capsys)
    assert "checkpoint file" in err and "line 1" in err and "signature" in err


def test_a_checkpoint_file_cut_short_is_reported(tenant_a, capsys):
    write(tenant_a, 2)
    checkpoint(capsys)
    write(tenant_a, 2, start=2)
    checkpoint(capsys)
    path = checkpoint_file(tenant_a)
    lines = path.read_bytes().splitlines()
    _rewrite(path, lines[:1])  # the last line removed: the file's own chain still holds
    err = verify_fails(capsys)
    assert "checkpoint file" in err and "#2" in err and "removed" in err
    path.write_bytes(lines[0] + b"\n" + lines[1][:40])  # cut in the middle of a line
    err = verify_fails(capsys)
    assert "checkpoint file" in err and "line 2" in err


def test_a_removed_middle_line_or_a_deleted_file_is_reported(tenant_a, capsys):
    for start in range(3):
        write(tenant_a, 1, start=start)
        checkpoint(capsys)
    path = checkpoint_file(tenant_a)
    lines = path.read_bytes().splitlines()
    _rewrite(path, [lines[0], lines[2]])
    err = verify_fails(capsys)
    assert "checkpoint file" in err and "line 2" in err
    path.unlink()
    err = verify_fails(capsys)
    assert "checkpoint file" in err and "missing" in err and "#3" in err
    with pytest.raises(CommandError, match="refused"):
        call_command("audit_checkpoint", "--tenant", "acme")
    assert not path.exists()


def test_an_operator_accepts_a_known_loss_and_the_break_stays_on_record(tenant_a, capsys):
    """After a deliberate restore of the database from a backup, the operator says so; the old file is kept."""
    write(tenant_a, 3)
    checkpoint(capsys)
    attacker(("DELETE FROM audit_auditlog WHERE tenant_id = %s AND seq = 3", [tenant_a.pk]))
    verify_fails(capsys)
    with pytest.raises(CommandError, match="--tenant"):
        call_command("audit_checkpoint", "--accept", "restored from backup")
    out = checkpoint(capsys, "--tenant", "acme", "--accept", "restored from the backup of 03:00")
    assert "accepted" in out
    accepted = AuditLog.objects.get(tenant=tenant_a, action="accept AuditChain")
    assert "restored from the backup of 03:00" in accepted.comments
    lines = [json.loads(line) for line in checkpoint_file(tenant_a).read_text().splitlines()]
    assert lines[-1]["accepted"] == "restored from the backup of 03:00"
    assert "seq 3" in lines[-1]["replaces"]


def test_accepting_a_damaged_file_sets_it_aside_and_starts_again(tenant_a, capsys):
    write(tenant_a, 2)
    checkpoint(capsys)
    path = checkpoint_file(tenant_a)
    path.write_bytes(path.read_bytes()[:-5])
    verify_fails(capsys)
    checkpoint(capsys, "--tenant", "acme", "--accept", "disk repaired")
    kept = [p for p in store().iterdir() if p.name.startswith(path.name + ".set-aside-")]
    assert len(kept) == 1
    call_command("verify_audit_chain", "--tenant", "acme")
    assert "acme: OK" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------------- the hourly job


def test_the_hourly_job_writes_its_own_job_record(tenant_a, tenant_b, django_capture_on_commit_callbacks):
    from audit.tasks import checkpoints_write_all_task

    entry = next(
        e for e in django_settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == checkpoints_write_all_task.name
    )
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].hour == set(range(24))
    write(tenant_a, 2)
    write(tenant_b, 1)
    with django_capture_on_commit_callbacks(execute=True):
        job_pk = checkpoints_write_all_task.delay().get()
    job = JobLog.objects.get(pk=job_pk)
    assert job.console_run is not None
    assert (job.job_type, job.latest_status, job.tenant_id) == ("archive", "success", tenant_a.pk), job.stacktrace
    assert job.details["written"] == 2 and "2 tenants" in job.message
    assert checkpoint_file(tenant_a).exists() and checkpoint_file(tenant_b).exists()


def test_the_hourly_job_fails_and_tells_the_tenant_when_it_refuses(
    tenant_a, tenant_b, capsys, django_capture_on_commit_callbacks
):
    from audit.tasks import checkpoints_write_all_task

    write(tenant_a, 1)
    write(tenant_b, 3)
    checkpoint(capsys)
    attacker(("DELETE FROM audit_auditlog WHERE tenant_id = %s AND seq = 3", [tenant_b.pk]))
    with django_capture_on_commit_callbacks(execute=True):
        job_pk = checkpoints_write_all_task.delay().get()
    job = JobLog.objects.get(pk=job_pk)
    assert job.latest_status == "failed" and job.tenant_id == tenant_a.pk
    assert "globex" not in job.message  # the system tenant's job record names no other tenant
    own = JobLog.objects.get(tenant=tenant_b, job_name="audit chain checkpoint")
    assert own.latest_status == "failed" and "seq 3" in own.message and "missing" in own.message


def test_checkpoints_are_mailed_when_an_address_is_set(settings, tenant_a, capsys):
    settings.AUTHMON_CHECKPOINT_EMAIL = ["witness@operator.example"]
    write(tenant_a, 1)
    checkpoint(capsys)
    (message,) = mail.outbox
    assert message.to == ["witness@operator.example"] and "acme" in message.subject
    line = checkpoint_file(tenant_a).read_text().strip()
    assert line in message.body


def test_checkpoint_time_is_recent(tenant_a, capsys):
    write(tenant_a, 1)
    checkpoint(capsys)
    line = json.loads(checkpoint_file(tenant_a).read_text())
    when = dt.datetime.fromisoformat(line["time"].replace("Z", "+00:00"))
    assert abs(timezone.now() - when) < dt.timedelta(minutes=1)


def test_a_store_that_cannot_be_written_or_read_is_said_plainly(settings, tmp_path, client, tenant_a, capsys):
    write(tenant_a, 1)
    settings.AUTHMON_CHECKPOINT_DIR = tmp_path / "not-a-directory"
    settings.AUTHMON_CHECKPOINT_DIR.write_text("")
    with pytest.raises(CommandError, match="checkpoint store cannot be written"):
        call_command("audit_checkpoint")
    assert "cannot be read" in verify_fails(capsys)
    login(client, tenant_a, Role.SUPER_ADMIN)
    response = client.post(reverse("audit_verify"))
    assert response.status_code == 200 and "cannot be read" in response.content.decode()
