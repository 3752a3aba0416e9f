"""The list page's query budget over every way people reach it (issue 21): a question, a quick search, a sort, the
htmx partial the search form swaps in, a second page, and every role. Two guards each time:

* the page runs no more than ``BUDGET`` queries of its own (tenant setting, savepoints and role switches aside);
* the count does not grow with the rows: the same page over 55 rows and over 110 runs the same queries, so no
  cell, link or action looks something up per row (both fill the first page, so both need the one bounded count).
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from authmon.tenancy import DB_SETTING
from tests.authmon.test_log_views import login
from tests.conftest import NOT_PAGE_QUERIES
from tests.samples import sample_record

pytestmark = pytest.mark.django_db

BUDGET = 8
KINDS = [k.name for k in registry.kinds()]
ROLES = [Role.AUDITOR, Role.TENANT_ADMIN, Role.SUPER_ADMIN]

# A question naming a field of each kind, which every sample record answers (their text fields hold the marker).
FIELD_QUESTIONS = {
    "audit": "actor contains budget",
    "events": "email contains budget",
    "jobs": "job name contains budget",
    "notifications": "recipient contains budget",
    "sessions": "email contains budget",
    "grants": "email contains budget",
}


def _variants(kind) -> dict[str, tuple[dict[str, str], dict[str, str]]]:
    """name -> (query string, headers) of each way to reach the list."""
    search_field = kind.search_fields[0].split("__")[0] if kind.search_fields else None
    return {
        "plain": ({}, {}),
        "time question": ({"q": "in the last 30 days"}, {}),
        "field question": ({"q": FIELD_QUESTIONS[kind.name]}, {}),
        "quick search": ({"search": "budget"} if search_field else {}, {}),
        "sort ascending": ({"sort": kind.time_field, "preset": "all"}, {}),
        "htmx partial": ({"preset": "last30"}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}),
        # Issue 22: an auto-refresh (the page's script asking for the partial again) and hiding console activity.
        "auto-refresh": ({"refresh": "30"}, {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "results"}),
        "console hidden": ({"console": "hide"}, {}),
    }


def _own_queries(context: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in context.captured_queries
        if not q["sql"].startswith(NOT_PAGE_QUERIES) and f"set_config('{DB_SETTING}'" not in q["sql"]
    ]


def _get(client, url, params, headers) -> tuple[int, list[str], str]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params, **headers)
    return response.status_code, _own_queries(context), response.content.decode()


def _add(kind, tenant, count: int) -> None:
    now = timezone.now()
    for i in range(count):
        sample_record(kind, tenant, "budget", when=now - dt.timedelta(hours=1, minutes=i))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("kind_name", KINDS)
def test_every_way_to_the_list_keeps_its_budget_whatever_the_rows(client, tenant_a, tenant_b, kind_name, role):
    kind = registry.get(kind_name)
    _add(kind, tenant_b, 3)  # another tenant's rows: nothing about them may be counted or looked up
    _add(kind, tenant_a, 55)
    login(client, tenant_a, role)
    variants = _variants(kind)
    few = {name: _get(client, kind.list_url, params, headers) for name, (params, headers) in variants.items()}
    _add(kind, tenant_a, 55)
    many = {name: _get(client, kind.list_url, params, headers) for name, (params, headers) in variants.items()}
    for name in variants:
        status, queries, body = many[name]
        assert status == 200, (name, body[:500])
        assert "budget" in body, name  # the rows are there: a budget kept by an empty page proves nothing
        assert len(queries) <= BUDGET, f"{name}: {len(queries)} queries:\n" + "\n\n".join(queries)
        assert len(queries) == len(few[name][1]), (
            f"{name}: {len(few[name][1])} queries over 55 rows, {len(queries)} over 110: a query per row?\n"
            + "\n\n".join(queries)
        )


@pytest.mark.parametrize("kind_name", KINDS)
def test_the_second_page_keeps_the_budget(client, tenant_a, kind_name):
    kind = registry.get(kind_name)
    _add(kind, tenant_a, 60)
    login(client, tenant_a, Role.TENANT_ADMIN)
    first = client.get(kind.list_url, {"preset": "last30"})
    cursor = first.context["page"].next_cursor
    assert cursor, "60 rows make two pages"
    status, queries, body = _get(client, kind.list_url, {"preset": "last30", "cursor": cursor}, {})
    assert status == 200
    assert "budget" in body
    assert len(queries) <= BUDGET, "\n\n".join(queries)
