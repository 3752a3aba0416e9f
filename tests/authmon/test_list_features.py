"""List page behaviour: default range, presets in the tenant's zone, search, filters, chips, keyset paging,
column choice, bad input, and guarded query counts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import models
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from authmon import registry
from authmon.daterange import preset_range
from authmon.models import Role
from authmon.paging import paginate
from tests.authmon.test_log_views import login
from tests.samples import sample_record


@pytest.fixture
def events():
    return registry.get("events")


def rows_in(body: str, marker: str) -> set[str]:
    return set(re.findall(rf"{marker}-email-\d+", body))


def test_default_view_is_last_7_days_newest_first(client, tenant_a, events):
    now = timezone.now()
    old = sample_record(events, tenant_a, "m", when=now - dt.timedelta(days=8))
    a = sample_record(events, tenant_a, "m", when=now - dt.timedelta(days=2))
    b = sample_record(events, tenant_a, "m", when=now - dt.timedelta(hours=1))
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url).content.decode()
    assert old.email not in body
    assert body.index(b.email) < body.index(a.email)
    assert old.email in client.get(events.list_url, {"preset": "all"}).content.decode()


def test_presets_follow_the_tenant_time_zone(tenant_a):
    tz = tenant_a.tz  # Europe/Berlin
    now = dt.datetime(2026, 11, 26, 0, 30, tzinfo=dt.UTC)  # 01:30 in Berlin
    today = preset_range("today", now=now, tz=tz)
    assert today.start == dt.datetime(2026, 11, 26, 0, 0, tzinfo=tz)
    yesterday = preset_range("yesterday", now=now, tz=tz)
    assert (yesterday.start.day, yesterday.end.day) == (25, 26)
    last_month = preset_range("last_month", now=now, tz=tz)
    assert (last_month.start.month, last_month.end.month) == (10, 11)


def test_quick_search_uses_the_pages_default_field(client, tenant_a, events):
    hit = sample_record(events, tenant_a, "m", email="alice@example.com")
    miss = sample_record(events, tenant_a, "m", email="bob@example.com", username="alice")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url, {"search": "alice"}).content.decode()
    assert hit.email in body
    assert miss.email not in body


def test_filters_combine_and_show_removable_chips(client, tenant_a, events):
    sample_record(events, tenant_a, "m", event_type="login_failed", email="x@example.com", ip_address="10.0.0.4")
    sample_record(events, tenant_a, "m", event_type="login_failed", email="y@example.com", ip_address="10.0.0.40")
    sample_record(events, tenant_a, "m", event_type="login", email="z@example.com", ip_address="10.0.0.4")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url, {"event_type": "login_failed", "ip_address": "10.0.0.4"}).content.decode()
    assert "x@example.com" in body
    assert "y@example.com" not in body and "z@example.com" not in body
    assert "Event type: Login failed" in body
    assert 'aria-label="Remove filter Event type: Login failed"' in body


@pytest.mark.parametrize(
    "params,message",
    [
        ({"event_type": "nonsense"}, "ignored"),
        ({"start": "yesterday-ish"}, "is not a date"),
        ({"start": "2026-11-20", "end": "2026-11-01"}, "end date is before the start date"),
        ({"preset": "fortnight"}, "Unknown date preset"),
        ({"cursor": "garbage"}, "no longer valid"),
        ({"sort": "password"}, "Cannot sort by"),
    ],
)
def test_bad_input_is_explained_not_500(client, tenant_a, events, params, message):
    sample_record(events, tenant_a, "m")
    login(client, tenant_a, Role.AUDITOR)
    response = client.get(events.list_url, params)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_empty_state_tells_what_to_do(client, tenant_a, events):
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url).content.decode()
    assert "No events in last 7 days." in body
    assert "Widen the date range" in body


def test_keyset_paging_walks_everything_once(tenant_a, events):
    now = timezone.now()
    same_time = now - dt.timedelta(hours=3)
    made = [
        sample_record(events, tenant_a, "p", when=same_time if i % 3 == 0 else now - dt.timedelta(minutes=i))
        for i in range(23)
    ]
    qs = events.model.objects.for_tenant(tenant_a)
    seen, cursor, pages = [], None, 0
    while True:
        page = paginate(qs, sort="-created_on", cursor=cursor, per_page=5)
        seen.extend(r.pk for r in page.rows)
        pages += 1
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(r.pk for r in made)
    assert pages == 5
    back = paginate(qs, sort="-created_on", cursor=page.prev_cursor, per_page=5)
    assert [r.pk for r in back.rows] == seen[15:20]
    assert back.offset == 15


def test_column_choice_is_remembered(client, tenant_a):
    notifications = registry.get("notifications")
    sample_record(notifications, tenant_a, "n", cc="cc-person@example.com")
    user = login(client, tenant_a, Role.AUDITOR)
    assert "cc-person@example.com" not in client.get(notifications.list_url).content.decode()  # hidden by default
    client.post(notifications.columns_url, {"show": ["subject", "recipient", "cc"]})
    user.refresh_from_db()
    body = client.get(notifications.list_url).content.decode()
    assert "cc-person@example.com" in body
    assert 'id="col-cc" checked' in body
    assert 'id="col-timestamp">' in body  # unchecked now
    assert "Timestamp</a></th>" not in body


@pytest.mark.parametrize("kind_name", [k.name for k in registry.kinds()])
def test_list_page_query_count_is_bounded(client, tenant_a, kind_name, page_queries_at_most):
    kind = registry.get(kind_name)
    for i in range(60):
        sample_record(kind, tenant_a, f"q{i}")
    login(client, tenant_a, Role.TENANT_ADMIN)
    total = kind.model.objects.for_tenant(tenant_a).count()  # audit also holds the sign-in
    with page_queries_at_most(6):
        response = client.get(kind.list_url)
    assert response.status_code == 200
    body = response.content.decode()
    assert f"1–50 of {total}" in body
    assert body.count('<tr class="even">') + body.count('<tr class="odd">') == 50  # every row of the page


# django-tables2's own row markup (its bootstrap5 template plus the data-label this console adds): the reference
# that LogTable.body_html must reproduce.
TABLES2_ROWS = Template(
    "{% for row in table.rows %}<tr {{ row.attrs.as_html }}>{% for column, cell in row.items %}"
    '<td {{ column.attrs.td.as_html }} data-label="{{ column.header }}">{{ cell }}</td>{% endfor %}</tr>\n'
    "{% endfor %}"
)


def _odd_records(kind, tenant):
    """Records that exercise escaping, truncation, empty values (the column default) and JSON previews."""
    blank = {
        f.name: ({} if isinstance(f, models.JSONField) else "")
        for f in kind.data_fields
        if f.editable and not f.choices and isinstance(f, (models.CharField, models.TextField, models.JSONField))
    }
    return [
        sample_record(kind, tenant, "<b>\"quoted\" & 'odd'</b>"),
        sample_record(kind, tenant, "long-" + "x" * 120),
        sample_record(kind, tenant, "blank", **blank),
    ]


@pytest.mark.parametrize("hide_first", [False, True])
@pytest.mark.parametrize("kind_name", [k.name for k in registry.kinds()])
def test_lean_rows_are_django_tables2s_rows(tenant_a, kind_name, hide_first):
    kind = registry.get(kind_name)
    records = _odd_records(kind, tenant_a)
    request = RequestFactory().get(kind.list_url, {"sort": f"-{kind.time_field}"})
    table = kind.table(records, order_by=f"-{kind.time_field}", request=request)
    if hide_first:
        table.columns.hide(next(iter(table.columns)).name)
    expected = TABLES2_ROWS.render(Context({"table": table})).strip()
    assert str(table.body_html()) == expected
    assert expected.count("<tr ") == 3


def test_home_counters_open_lists_of_the_same_24_hours(client, tenant_a):
    """Home counts the last 24 hours; its cards used to open 7-day lists that showed more rows than the count."""
    events = registry.get("events")
    sample_record(events, tenant_a, "zqrecentq", when=timezone.now() - dt.timedelta(hours=2))
    sample_record(events, tenant_a, "zqolderq", when=timezone.now() - dt.timedelta(days=3))
    login(client, tenant_a, Role.AUDITOR)
    home = client.get("/").content.decode()
    href = re.search(r'home-card" href="(/monitoring/events/[^"]*)"', home).group(1).replace("&amp;", "&")
    assert "preset=last24h" in href
    page = client.get(href).content.decode()
    assert "zqrecentq" in page and "zqolderq" not in page


def test_a_time_in_the_question_wins_over_the_preset_and_says_so(client, tenant_a):
    """'failed logins yesterday' with the Today preset used to find nothing, silently."""
    events = registry.get("events")
    yesterday = timezone.now().astimezone(tenant_a.tz) - dt.timedelta(days=1)
    sample_record(events, tenant_a, "zqyesterdayq", when=yesterday, event_type="login_failed")
    login(client, tenant_a, Role.AUDITOR)
    page = client.get(events.list_url, {"q": "failed logins yesterday", "preset": "today"}).content.decode()
    assert "zqyesterdayq" in page
    assert "from the question (Today not applied)" in page
    plain = client.get(events.list_url, {"q": "failed logins", "preset": "today"}).content.decode()
    assert "zqyesterdayq" not in plain, "a question without a time keeps the page's range"


def test_an_in_place_search_answers_with_a_form_rendered_from_its_url(client, tenant_a, events):
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url, {"q": "event type is login", "search": "alice"}, HTTP_HX_REQUEST="true")
    html = body.content.decode()
    assert 'id="results"' in html
    form = re.search(r'<form [^>]*id="search-form"[^>]*>.*?</form>', html, re.S)
    assert form is not None, "the search form should come with the rows"
    assert 'hx-swap-oob="true"' in form.group(0).split(">", 1)[0]
    assert 'value="event type is login"' in form.group(0)
    assert 'name="search" value="alice"' in form.group(0)
    # A question searches all time unless it names a period, and the empty date choice says so.
    assert '<option value="">Any time</option>' in form.group(0)
    assert "Last 7 days (default)" not in form.group(0)
