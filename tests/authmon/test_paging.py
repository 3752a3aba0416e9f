"""Keyset paging (the index bound of a cursor, ties across page boundaries, both directions) and result totals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authmon import paging, registry
from authmon.models import Role
from authmon.paging import EXACT_COUNT_LIMIT, Total, paginate, total_measure
from tests.authmon.test_log_views import login
from tests.samples import sample_record


@pytest.fixture
def events():
    return registry.get("events")


def _bulk_events(events, tenant, count: int, *, when: dt.datetime | None = None, step: dt.timedelta | None = None):
    """``count`` events, newest first from ``when``; ``step`` None gives them all the same time."""
    when = when or timezone.now() - dt.timedelta(hours=1)
    step = step or dt.timedelta(0)
    template = sample_record(events, tenant, "bulk", when=when)
    rows = []
    for i in range(1, count):
        row = events.model(
            **{f.attname: getattr(template, f.attname) for f in events.model._meta.concrete_fields if not f.primary_key}
        )
        row.created_on = when - step * i
        row.email = f"bulk-{i}@example.com"
        rows.append(row)
    events.model.objects.bulk_create(rows, batch_size=500)


def _walk(qs, sort: str, per_page: int) -> tuple[list[list[int]], list[str]]:
    """Every page from the first, forwards: the ids of each page and the SQL of each cursor page."""
    pages, sql, cursor = [], [], None
    while True:
        with CaptureQueriesContext(connection) as ctx:
            page = paginate(qs, sort=sort, cursor=cursor, per_page=per_page)
        if cursor:
            sql.append(ctx.captured_queries[-1]["sql"])
        pages.append([r.pk for r in page.rows])
        if not page.next_cursor:
            return pages, sql
        cursor = page.next_cursor


@pytest.mark.parametrize(
    "sort,bound",
    [("-created_on", '"created_on" <='), ("created_on", '"created_on" >='), ("email", '"email" >=')],
)
def test_cursor_pages_are_index_ranges_and_ties_neither_skip_nor_repeat(tenant_a, events, sort, bound):
    now = timezone.now()
    tie = now - dt.timedelta(hours=2)
    made = [
        sample_record(
            events,
            tenant_a,
            "tie",
            when=tie if i % 4 else now - dt.timedelta(minutes=i),
            email="same@example.com" if i % 3 else f"p{i:02}@example.com",
        )
        for i in range(37)
    ]
    qs = events.model.objects.for_tenant(tenant_a)
    name = sort.lstrip("-")
    expected = list(qs.order_by(sort, "-pk" if sort.startswith("-") else "pk").values_list("pk", flat=True))
    pages, sql = _walk(qs, sort, per_page=5)

    assert [pk for page in pages for pk in page] == expected
    assert len(pages) == 8 and sorted(expected) == sorted(r.pk for r in made)
    # Every cursor page bounds the sort column on its own, so the index walk starts at the cursor.
    assert sql and all(bound in statement for statement in sql), sql[0]

    # Backwards from the last page gives the same pages in reverse, with the same offsets.
    last = paginate(qs, sort=sort, cursor=None, per_page=5)
    while last.next_cursor:
        last = paginate(qs, sort=sort, cursor=last.next_cursor, per_page=5)
    back, page = [], last
    while page.prev_cursor:
        with CaptureQueriesContext(connection) as ctx:
            page = paginate(qs, sort=sort, cursor=page.prev_cursor, per_page=5)
        opposite = bound.replace("<=", ">=") if "<=" in bound else bound.replace(">=", "<=")
        assert opposite in ctx.captured_queries[-1]["sql"], name
        back.append([r.pk for r in page.rows])
    assert back == pages[-2::-1]
    assert page.offset == 0


def test_small_results_are_counted_exactly_and_a_short_first_page_needs_no_count(tenant_a, events):
    _bulk_events(events, tenant_a, 12, step=dt.timedelta(seconds=1))
    qs = events.model.objects.for_tenant(tenant_a)
    page = paginate(qs, sort="-created_on", cursor=None, per_page=5)
    total = total_measure(qs, page=page)
    assert (total.value, total.exact, str(total)) == (12, True, "12")

    short = paginate(qs, sort="-created_on", cursor=None, per_page=50)
    with CaptureQueriesContext(connection) as ctx:
        total = total_measure(qs, page=short)
    assert (str(total), len(ctx.captured_queries)) == ("12", 0)


def test_large_results_are_never_counted_in_full(tenant_a, events):
    _bulk_events(events, tenant_a, EXACT_COUNT_LIMIT + 200, step=dt.timedelta(seconds=1))
    qs = events.model.objects.for_tenant(tenant_a)
    page = paginate(qs, sort="-created_on", cursor=None, per_page=50)
    with CaptureQueriesContext(connection) as ctx:
        total = total_measure(qs, page=page)
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all(f"LIMIT {EXACT_COUNT_LIMIT + 1}" in sql for sql in counts)
    assert not total.exact
    if connection.vendor == "postgresql":
        assert str(total).startswith("about ") or str(total) == "more than 1,000"
    else:
        assert (str(total), len(ctx.captured_queries)) == ("more than 1,000", 1)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL: its planner estimates")
def test_postgresql_estimates_large_results_and_trusts_large_estimates(tenant_a, events, monkeypatch):
    _bulk_events(events, tenant_a, 3000, step=dt.timedelta(seconds=1))
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {events.model._meta.db_table}")
    qs = events.model.objects.for_tenant(tenant_a)
    page = paginate(qs, sort="-created_on", cursor=None, per_page=50)
    total = total_measure(qs, page=page)
    assert total.estimated and not total.exact
    assert 2000 <= total.value <= 4500, total.value
    assert str(total).startswith("about ")

    monkeypatch.setattr(paging, "ESTIMATE_TRUSTED", 2000)
    with CaptureQueriesContext(connection) as ctx:
        trusted = total_measure(qs, page=page)
    assert [q["sql"].split()[0] for q in ctx.captured_queries] == ["EXPLAIN"]  # nothing counted
    assert trusted == total


@pytest.mark.parametrize(
    "total,text",
    [
        (Total(312, exact=True), "312"),
        (Total(1000, exact=True), "1,000"),
        (Total(1000, exact=False), "more than 1,000"),
        (Total(1234, exact=False, estimated=True), "about 1,200"),
        (Total(78_940, exact=False, estimated=True), "about 79,000"),
        (Total(1_234_567, exact=False, estimated=True), "about 1.2 million"),
        (Total(999_999, exact=False, estimated=True), "about 1 million"),
        (Total(10_480_000, exact=False, estimated=True), "about 10 million"),
    ],
)
def test_totals_read_as_plain_words(total, text):
    assert str(total) == text


def test_list_page_says_how_many(client, tenant_a, events, page_queries_at_most):
    _bulk_events(events, tenant_a, 7, step=dt.timedelta(minutes=1))
    login(client, tenant_a, Role.AUDITOR)
    assert "1–7 of 7" in client.get(events.list_url).content.decode()
    _bulk_events(events, tenant_a, EXACT_COUNT_LIMIT, step=dt.timedelta(seconds=1))
    with page_queries_at_most(6):  # the estimate and the bounded count fit the list page's budget
        body = client.get(events.list_url).content.decode()
    if connection.vendor == "postgresql":
        assert "1–50 of about " in body or "1–50 of more than 1,000" in body
    else:
        assert "1–50 of more than 1,000" in body
