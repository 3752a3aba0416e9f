"""Concurrent writers to one tenant's audit chain on PostgreSQL: they queue on the head row, the chain never forks."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from audit.chain import chain_verify
from audit.models import AuditLog
from audit.services import audit_record
from authmon.ingest import records_ingest

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's concurrent writers"),
]


def test_concurrent_writers_do_not_fork_the_chain(tenant_a):
    writers = 6
    barrier = threading.Barrier(writers)
    errors: list[BaseException] = []

    def work(slot: int) -> None:
        try:
            barrier.wait()
            for n in range(15):
                if slot % 2:
                    audit_record(tenant=tenant_a, actor=f"w{slot}@x", action="update Role", comments=str(n))
                else:
                    records_ingest(kind="audit", tenant=tenant_a, records=[{"action": f"create Group{n}"}] * 3)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    expected = 3 * 15 + 3 * 15 * 3
    seqs = sorted(AuditLog.objects.filter(tenant=tenant_a).values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    report = chain_verify(tenant=tenant_a)
    assert report.ok, report.summary()
    assert report.checked == expected
