"""The benchmark's loader (bench/load.py) leaves data the product accepts: chains verify, keys and indexes intact."""

from __future__ import annotations

import argparse

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Count

from audit.chain import chain_verify
from audit.models import AuditLog
from authmon import registry
from authmon.partitions import key_table_name
from bench import load
from bench.harness import raw_sql
from events.models import EventLog

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: the benchmark loads it with COPY"),
    pytest.mark.django_db(transaction=True),  # VACUUM cannot run inside the test's transaction
]


def test_small_load_is_valid_for_the_product() -> None:
    args = argparse.Namespace(events=3_000, others=400, tenants=2, days=40)
    tenants = load.tenants_ensure(args.tenants)
    tables = [kind.model._meta.db_table for kind in registry.kinds()]
    indexes_before = {table: load.secondary_indexes(table) for table in tables}

    seconds = load.dataset_load(args, tenants)

    assert seconds["total"] > 0
    assert {table: load.secondary_indexes(table) for table in tables} == indexes_before  # rebuilt as they were
    for kind in registry.kinds():
        counts = [kind.model.objects.for_tenant(t).count() for t in tenants]
        expected = args.events if kind.name == "events" else args.others
        assert counts == [expected // 2, expected // 2], kind.name
    for tenant in tenants:
        report = chain_verify(tenant=tenant)
        assert report.problem == "" and report.checked == args.others // 2, report
    # the production triggers filled the external_id key table (it exists on PostgreSQL, where this test runs):
    # one key per loaded event, and a known key is refused as a duplicate
    key_table = key_table_name(EventLog._meta.db_table)
    assert raw_sql("SELECT to_regclass(%s)", [key_table])[0][0], f"the key table {key_table} is missing"
    assert raw_sql(f"SELECT count(*) FROM {key_table}")[0][0] == args.events  # noqa: S608 - a model table
    known = EventLog.objects.for_tenant(tenants[0]).filter(external_id__isnull=False).first()
    copy = EventLog(tenant=known.tenant, external_id=known.external_id, event_type=known.event_type)
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()
    shares = dict(EventLog.objects.values_list("event_type").annotate(n=Count("id")))
    assert 0.03 < shares["login_failed"] / args.events < 0.09
    assert AuditLog.objects.filter(seq=1).count() == args.tenants
