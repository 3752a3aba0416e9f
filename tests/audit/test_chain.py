"""The tamper-evident audit chain: every writer takes the next position, verify finds the first broken link."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from audit import chain
from audit.models import AuditChain, AuditLog
from audit.services import audit_record
from authmon import exports, registry
from authmon.ingest import records_ingest
from authmon.restore import RestoreError, archive_restore
from authmon.trim import tenant_trim
from tests.samples import retain, sample_record

AUDIT = "audit"


def write(tenant, n, *, days_ago=0, start=0):
    now = timezone.now()
    return [
        sample_record(registry.get(AUDIT), tenant, f"rec{start + i}", when=now - dt.timedelta(days=days_ago, minutes=i))
        for i in range(n)
    ]


def tamper(sql, params):
    """What a database superuser could do behind authmon's back (the PostgreSQL trigger is switched off first)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL session_replication_role = origin")


def export_all(tenant):
    kind = registry.get(AUDIT)
    queryset = AuditLog.objects.for_tenant(tenant).order_by("-timestamp", "-pk")
    return "".join(exports.stream_json(kind, queryset, tenant_slug=tenant.slug, filters={}, limit=10**6)).encode()


def test_every_writer_takes_the_next_position(tenant_a):
    audit_record(tenant=tenant_a, actor="a@x", action="update Role", old={"n": 1}, new={"n": 2})
    AuditLog.objects.create(tenant=tenant_a, action="create Group", new_entity={"name": "g"})
    records_ingest(kind=AUDIT, tenant=tenant_a, records=[{"action": "delete User", "external_id": "e1"}] * 1)
    AuditLog.objects.bulk_create([AuditLog(tenant=tenant_a, action=f"enable App{i}") for i in range(3)])
    rows = list(AuditLog.objects.filter(tenant=tenant_a).order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[0].prev_hash == chain.GENESIS
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash
    assert rows[2].diff == {} and rows[0].diff == {"n": {"_old": 1, "_new": 2}}
    head = AuditChain.objects.get(tenant=tenant_a)
    assert (head.last_seq, head.last_hash) == (6, rows[-1].hash)
    assert chain.chain_verify(tenant=tenant_a).ok


def test_tenants_have_separate_chains(tenant_a, tenant_b):
    write(tenant_a, 3)
    write(tenant_b, 2)
    assert list(AuditLog.objects.filter(tenant=tenant_b).order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert chain.chain_verify(tenant=tenant_a).checked == 3
    assert chain.chain_verify(tenant=tenant_b).checked == 2


def test_hash_covers_every_field_and_is_stable_through_the_database(tenant_a):
    record = AuditLog.objects.create(
        tenant=tenant_a,
        action="update Secret",
        old_entity={"big": 10**30, "float": 1e20, "one": 1.0, "neg0": -0.0, "nested": [{"b": 1, "a": "é\n"}]},
        new_entity={"1": True},
        external_id="",
    )
    stored = AuditLog.objects.get(pk=record.pk)
    assert stored.external_id is None
    values = chain.instance_values(stored, tenant_a.slug)
    assert chain.record_hash(stored.prev_hash, values, AuditLog) == stored.hash
    for name in [f.name for f in AuditLog._meta.concrete_fields if f.name not in chain.UNHASHED | {"tenant"}]:
        value = values[name]
        if isinstance(value, dt.datetime):
            other = value + dt.timedelta(microseconds=1)
        elif isinstance(value, int):
            other = value + 1
        elif isinstance(value, dict) or value is None:
            other = {"changed": 1}
        else:
            other = value + "x"
        changed = dict(values, **{name: other})
        assert chain.record_hash(stored.prev_hash, changed, AuditLog) != stored.hash, name
    assert chain.record_hash(stored.prev_hash, dict(values, tenant="other"), AuditLog) != stored.hash


def test_row_hash_from_field_texts_is_the_record_hash(tenant_a):
    """What bench/load.py's COPY path computes (field texts, then record_hash_row) is the chain's hash."""
    record = audit_record(tenant=tenant_a, actor="a@example.com", action="update Role", new={"n": 1.0})
    stored = AuditLog.objects.get(pk=record.pk)
    values = chain.instance_values(stored, tenant_a.slug)
    fields = chain.hashed_fields(AuditLog)
    assert set(fields) == set(values)
    texts = {name: chain.field_text(model_field, values[name]) for name, model_field in fields.items()}
    assert chain.record_hash_row(stored.prev_hash, texts) == stored.hash


KNOWN_VALUES = {
    "id": 99,  # not hashed: a storage detail
    "prev_hash": "f" * 64,  # not hashed: chained in separately
    "hash": "e" * 64,  # not hashed: the result
    "tenant": "acme",
    "external_id": None,
    "action": "update Role",
    "target": "t",
    "actor": "a@example.com",
    "subject": "s",
    "client_actor": "",
    "timestamp": dt.datetime(2026, 1, 2, 4, 5, 6, 7, tzinfo=ZoneInfo("Europe/Berlin")),
    "old_entity": None,
    "new_entity": {"b": [1.0, True, None], "a": "é\n"},
    "diff": {},
    "comments": "lone \ud800 surrogate",
    "seq": 7,
}
#: The canonical text of KNOWN_VALUES, written out by hand from the module's description of it.
KNOWN_TEXT = (
    '{"action":"update Role","actor":"a@example.com","client_actor":"","comments":"lone \ud800 surrogate",'
    '"diff":{},"external_id":null,"new_entity":{"a":"é\\n","b":[1,true,null]},"old_entity":null,"seq":7,'
    '"subject":"s","target":"t","tenant":"acme","timestamp":"2026-01-02T03:05:06.000007Z"}'
)


def test_the_hash_is_sha256_of_the_previous_hash_and_the_canonical_text():
    """A known answer: the chain's hash is a format (exports are verified against it), not whatever the code does.
    A change of the canonical text or of how it is hashed would still verify against itself, but not against this."""
    prev = "ab" * 32
    assert chain.canonical(KNOWN_VALUES, AuditLog) == KNOWN_TEXT
    expected = hashlib.sha256((prev + "\n" + KNOWN_TEXT).encode("utf-8", "surrogatepass")).hexdigest()
    assert chain.record_hash(prev, KNOWN_VALUES, AuditLog) == expected
    fields = chain.hashed_fields(AuditLog)
    texts = {name: chain.field_text(fields[name], KNOWN_VALUES[name]) for name in fields}
    assert chain.record_hash_row(prev, texts) == expected


@pytest.mark.parametrize(
    "same",
    [(1, 1.0), (10**20, 1e20), (0, -0.0), (1.5e300, 15 * 10**299), (100, 1e2)],
)
def test_numbers_have_one_spelling(same):
    a, b = same
    assert chain._dump_json({"v": a}) == chain._dump_json({"v": b})


def test_different_numbers_stay_different():
    big = 12345678901234567890123456789012345678901234567890
    assert chain._dump_json(big) != chain._dump_json(big + 1)
    assert chain._dump_json(True) != chain._dump_json(1)
    assert chain._dump_json("1") != chain._dump_json(1)


def test_changed_byte_is_found(tenant_a):
    rows = write(tenant_a, 5)
    victim = sorted(rows, key=lambda r: r.seq)[2]
    tamper("UPDATE audit_auditlog SET comments = %s WHERE id = %s", ["rewritten history", victim.pk])
    report = chain.chain_verify(tenant=tenant_a)
    assert not report.ok
    assert (report.broken_seq, report.broken_id) == (3, victim.pk)
    assert "changed" in report.problem


def test_removed_record_is_found(tenant_a):
    rows = sorted(write(tenant_a, 5), key=lambda r: r.seq)
    tamper("DELETE FROM audit_auditlog WHERE id = %s", [rows[1].pk])
    report = chain.chain_verify(tenant=tenant_a)
    assert report.broken_seq == 2 and "missing" in report.problem


def test_removed_newest_record_is_found(tenant_a):
    rows = sorted(write(tenant_a, 3), key=lambda r: r.seq)
    tamper("DELETE FROM audit_auditlog WHERE id = %s", [rows[-1].pk])
    report = chain.chain_verify(tenant=tenant_a)
    assert not report.ok and report.broken_seq == 3 and "end of the chain" in report.problem


def test_recomputed_hash_still_breaks_the_next_link(tenant_a):
    rows = sorted(write(tenant_a, 3), key=lambda r: r.seq)
    forged = AuditLog.objects.get(pk=rows[1].pk)
    forged.comments = "forged"
    new_hash = chain.record_hash(forged.prev_hash, chain.instance_values(forged, tenant_a.slug), AuditLog)
    tamper("UPDATE audit_auditlog SET comments = %s, hash = %s WHERE id = %s", ["forged", new_hash, forged.pk])
    report = chain.chain_verify(tenant=tenant_a)
    assert report.broken_seq == 3 and "link" in report.problem


def test_rolled_back_head_is_found(tenant_a):
    write(tenant_a, 3)
    tamper("UPDATE audit_auditchain SET last_seq = 2 WHERE tenant_id = %s", [tenant_a.pk])
    report = chain.chain_verify(tenant=tenant_a)
    assert not report.ok and "signature" in report.problem


def test_conflict_handling_is_refused(tenant_a):
    with pytest.raises(chain.ChainError):
        AuditLog.objects.bulk_create([AuditLog(tenant=tenant_a, action="x")], ignore_conflicts=True)


def test_trim_moves_the_anchor_and_the_chain_still_verifies(tenant_a):
    old = write(tenant_a, 4, days_ago=400)
    write(tenant_a, 2, start=10)
    retain(tenant_a, audit=365)
    report = tenant_trim(tenant=tenant_a)
    assert report.deleted["audit"] == 4
    head = AuditChain.objects.get(tenant=tenant_a)
    assert head.anchor_seq == 4
    assert head.anchor_hash == max(old, key=lambda r: r.seq).hash
    result = chain.chain_verify(tenant=tenant_a)
    assert result.ok, result.summary()
    assert (result.checked, result.anchor_seq) == (2, 4)


def test_trim_keeps_an_old_record_that_follows_a_young_one(tenant_a):
    write(tenant_a, 2, days_ago=400)  # seq 1, 2
    write(tenant_a, 1, start=5)  # seq 3, young
    write(tenant_a, 1, days_ago=400, start=6)  # seq 4, old but written after a young one
    retain(tenant_a, audit=365)
    assert tenant_trim(tenant=tenant_a).deleted["audit"] == 2
    assert sorted(AuditLog.objects.filter(tenant=tenant_a).values_list("seq", flat=True)) == [3, 4]
    assert chain.chain_verify(tenant=tenant_a).ok


def test_everything_trimmed_then_new_records_link_to_the_anchor(tenant_a):
    write(tenant_a, 3, days_ago=400)
    retain(tenant_a, audit=365)
    assert tenant_trim(tenant=tenant_a).deleted["audit"] == 3
    assert chain.chain_verify(tenant=tenant_a).ok
    audit_record(tenant=tenant_a, actor="a@x", action="update Role")
    assert AuditLog.objects.get(tenant=tenant_a).seq == 4
    assert chain.chain_verify(tenant=tenant_a).ok


def test_restore_after_trim_takes_back_the_archived_positions(tenant_a):
    write(tenant_a, 4, days_ago=400)
    raw = export_all(tenant_a)
    write(tenant_a, 1, start=9)
    retain(tenant_a, audit=365)
    tenant_trim(tenant=tenant_a)
    result = archive_restore(raw=raw, tenant=tenant_a)
    assert result.created == 4
    report = chain.chain_verify(tenant=tenant_a)
    assert report.ok, report.summary()
    assert report.restored == 4
    assert archive_restore(raw=raw, tenant=tenant_a).duplicates == 4
    # trimmed again: the restored records go, the anchor stays
    assert tenant_trim(tenant=tenant_a).deleted["audit"] == 4
    assert chain.chain_verify(tenant=tenant_a).ok


def test_restore_of_a_partial_archive_links_to_present_neighbours(tenant_a):
    rows = sorted(write(tenant_a, 5, days_ago=400), key=lambda r: r.seq)
    raw = export_all(tenant_a)
    AuditLog.objects.filter(tenant=tenant_a).purge_expired()
    data = json.loads(raw)
    keep = [r for r in data["records"] if r["seq"] in (2, 3)]
    assert archive_restore(raw=resealed(data, keep), tenant=tenant_a).created == 2
    assert chain.chain_verify(tenant=tenant_a).restored == 2
    assert rows


def resealed(data, records):
    """An archive re-signed with the server's key: the seal passes, only the chain can object."""
    import hashlib

    header = dict(data["header"], count=len(records))
    digest = hashlib.sha256()
    for record in records:
        digest.update(exports.canonical(record).encode() + b"\n")
    seal = exports.sign(header, digest.hexdigest())
    return json.dumps({"header": header, "records": records, "seal": seal}).encode()


def test_restore_refuses_a_changed_record_even_with_a_valid_seal(tenant_a):
    write(tenant_a, 3, days_ago=400)
    data = json.loads(export_all(tenant_a))
    AuditLog.objects.filter(tenant=tenant_a).purge_expired()
    data["records"][0]["comments"] = "rewritten"
    with pytest.raises(RestoreError, match="does not match its chain hash"):
        archive_restore(raw=resealed(data, data["records"]), tenant=tenant_a)
    assert not AuditLog.objects.filter(tenant=tenant_a).exists()


def test_restore_refuses_positions_that_were_never_trimmed(tenant_a):
    write(tenant_a, 3)
    data = json.loads(export_all(tenant_a))
    tamper("DELETE FROM audit_auditlog WHERE tenant_id = %s", [tenant_a.pk])  # removed behind the trim job's back
    with pytest.raises(RestoreError, match="never trimmed"):
        archive_restore(raw=resealed(data, data["records"]), tenant=tenant_a)


def test_restore_refuses_an_archive_without_chain_positions(tenant_a):
    write(tenant_a, 2, days_ago=400)
    data = json.loads(export_all(tenant_a))
    AuditLog.objects.filter(tenant=tenant_a).purge_expired()
    for record in data["records"]:
        del record["seq"]
    with pytest.raises(RestoreError, match="no audit chain position"):
        archive_restore(raw=resealed(data, data["records"]), tenant=tenant_a)


def test_restore_refuses_a_record_claiming_a_taken_position(tenant_a):
    write(tenant_a, 2, days_ago=400)
    data = json.loads(export_all(tenant_a))
    record = dict(data["records"][0], id=999_999, external_id="other")
    with pytest.raises(RestoreError, match=r"holds a different record|does not match"):
        archive_restore(raw=resealed(data, [record]), tenant=tenant_a)


def test_purge_only_removes_a_prefix(tenant_a):
    rows = sorted(write(tenant_a, 4), key=lambda r: r.seq)
    assert AuditLog.objects.filter(pk__in=[rows[0].pk, rows[2].pk]).purge_expired() == 1
    assert sorted(AuditLog.objects.filter(tenant=tenant_a).values_list("seq", flat=True)) == [2, 3, 4]
    assert chain.chain_verify(tenant=tenant_a).ok


def test_verify_command(tenant_a, tenant_b, capsys):
    write(tenant_a, 2)
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "acme: OK, 2 records" in out and "globex: OK, no audit records" in out
    assert out.strip().splitlines()[-1] == "OK: 2 audit chains verified."
    tamper("UPDATE audit_auditlog SET actor = %s WHERE tenant_id = %s AND seq = 2", ["mallory", tenant_a.pk])
    with pytest.raises(CommandError, match="1 of 1 audit chains are broken"):
        call_command("verify_audit_chain", "--tenant", "acme")
    assert "acme: BROKEN at seq 2" in capsys.readouterr().err
    with pytest.raises(CommandError, match="No tenant"):
        call_command("verify_audit_chain", "--tenant", "nope")
