"""Click a value to filter: every value cell of a list links to "only this value" and "exclude this value".

The links keep the page's parameters, drop its cursor, encode the value, put nothing of it in markup, and lead to a
list that holds only (or none of) the rows with that value, for several kinds; the exclusion shows as a chip that
removes it; the page's query count does not grow with its rows.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from authmon import registry
from authmon.models import Role
from tests.authmon.test_log_views import login
from tests.samples import sample_record

XSS = '"><script>alert(1)</script>'


def links(body: str, label: str, action: str = "only") -> list[str]:
    """The hrefs of the "Only" (or "Exclude") links in the cells of column ``label``, top to bottom."""
    cells = re.findall(rf'<td [^>]*data-label="{re.escape(label)}">(.*?)</td>', body, re.DOTALL)
    found = [re.search(rf'<a class="value-{action}" href="([^"]*)"', cell) for cell in cells]
    return [html.unescape(match.group(1)) for match in found if match]


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


def cell_texts(body: str, label: str) -> list[str]:
    """The visible value of each cell of column ``label`` (its content before the value links)."""
    cells = re.findall(rf'<td [^>]*data-label="{re.escape(label)}">(.*?)</td>', body, re.DOTALL)
    return [
        html.unescape(re.sub(r"<[^>]+>", "", cell.split('<span class="value-filter">')[0])).strip() for cell in cells
    ]


@pytest.fixture
def events():
    return registry.get("events")


def test_links_keep_the_parameters_drop_the_cursor_and_encode_the_value(client, tenant_a, events):
    now = timezone.now()
    for i in range(55):
        sample_record(events, tenant_a, "p", when=now - dt.timedelta(minutes=i + 1), ip_address=f"10.0.0.{i + 1}")
    sample_record(
        events, tenant_a, "p", when=now - dt.timedelta(hours=5), email="a+b@example.com", ip_address="2001:db8::1"
    )
    login(client, tenant_a, Role.AUDITOR)
    first = client.get(
        events.list_url, {"preset": "last30", "sort": "-created_on", "provider_name": "p-"}
    ).content.decode()
    older = re.search(r'href="([^"]*)" rel="next"', first).group(1)
    page_two = html.unescape(older)
    assert "cursor=" in page_two
    body = client.get(page_two).content.decode()
    assert "a+b@example.com" in body

    only = query(links(body, "IP Address")[-1])
    assert only == {
        "preset": ["last30"],
        "sort": ["-created_on"],
        "provider_name": ["p-"],
        "ip_address": ["2001:db8::1"],
    }
    exclude = query(links(body, "Email", "exclude")[-1])
    assert exclude == {
        "preset": ["last30"],
        "sort": ["-created_on"],
        "provider_name": ["p-"],
        "email__not": ["a+b@example.com"],
    }
    raw = re.findall(r'<a class="value-(?:only|exclude)" href="([^"]*)"', body)
    assert all(href.startswith(events.list_url + "?") and "cursor" not in href for href in raw)
    assert any("email__not=a%2Bb%40example.com" in href for href in raw)  # a "+" read back as a space would be lost
    assert any("ip_address=2001%3Adb8%3A%3A1" in href for href in raw)


def test_exclude_adds_to_the_values_already_excluded_and_only_replaces_the_field(client, tenant_a, events):
    sample_record(events, tenant_a, "m", ip_address="10.0.0.7")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(
        events.list_url, {"ip_address__not": "10.0.0.1", "ip_address": "10.0.0.7", "event_type": "login"}
    ).content.decode()
    assert query(links(body, "IP Address", "exclude")[0])["ip_address__not"] == ["10.0.0.1", "10.0.0.7"]
    only = query(links(body, "IP Address")[0])
    assert only == {"ip_address": ["10.0.0.7"], "event_type": ["login"]}  # the field's own exclusions go
    assert query(links(body, "Event Type")[0])["event_type"] == ["login"]


def test_only_and_exclude_on_event_logs(client, tenant_a, events):
    sample_record(events, tenant_a, "hit", ip_address="203.0.113.9", event_type="login_failed")
    sample_record(events, tenant_a, "other", ip_address="203.0.113.90", event_type="login")
    sample_record(events, tenant_a, "none", ip_address=None, event_type="logout")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url).content.decode()
    only = next(url for url in links(body, "IP Address") if query(url)["ip_address"] == ["203.0.113.9"])
    shown = client.get(only).content.decode()
    assert cell_texts(shown, "IP Address") == ["203.0.113.9"]
    assert "Ip address: 203.0.113.9" in shown  # the chip

    exclude = next(
        url for url in links(body, "IP Address", "exclude") if "203.0.113.9" in query(url)["ip_address__not"]
    )
    left = client.get(exclude).content.decode()
    assert sorted(cell_texts(left, "IP Address")) == ["203.0.113.90", "—"]  # a row without an address stays
    assert "Ip address is not 203.0.113.9" in left

    by_type = next(url for url in links(body, "Event Type", "exclude") if query(url)["event_type__not"] == ["login"])
    assert sorted(cell_texts(client.get(by_type).content.decode(), "Event Type")) == ["Login failed", "Logout"]


def test_exclude_on_audit_actor_is_the_whole_value_ignoring_case(client, tenant_a):
    audit = registry.get("audit")
    sample_record(audit, tenant_a, "a", actor="Admin@Example.com")
    sample_record(audit, tenant_a, "b", actor="sub.admin@example.com")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(audit.list_url, {"actor__not": "admin@example.com"}).content.decode()
    actors = cell_texts(body, "Actor")
    assert "sub.admin@example.com" in actors and "Admin@Example.com" not in actors
    assert "Actor is not admin@example.com" in body
    only = next(url for url in links(body, "Actor") if query(url)["actor"] == ["sub.admin@example.com"])
    assert cell_texts(client.get(only).content.decode(), "Actor") == ["sub.admin@example.com"]


def test_exclude_on_notifications_status_and_sessions_effective_status(client, tenant_a):
    notifications, sessions = registry.get("notifications"), registry.get("sessions")
    sample_record(notifications, tenant_a, "n", status="failed")
    sample_record(notifications, tenant_a, "n", status="sent")
    now = timezone.now()
    sample_record(sessions, tenant_a, "s", status="active", expires_at=now + dt.timedelta(days=1))
    sample_record(sessions, tenant_a, "s", status="active", expires_at=now - dt.timedelta(days=1))  # expired now
    sample_record(sessions, tenant_a, "s", status="revoked")
    login(client, tenant_a, Role.AUDITOR)

    body = client.get(notifications.list_url).content.decode()
    exclude = next(url for url in links(body, "Status", "exclude") if query(url)["status__not"] == ["failed"])
    assert cell_texts(client.get(exclude).content.decode(), "Status") == ["Sent"]

    body = client.get(sessions.list_url, {"preset": "all"}).content.decode()
    assert links(body, "Session ID") == []  # shortened in the list: never whole in a URL
    exclude = next(url for url in links(body, "Status", "exclude") if query(url)["status__not"] == ["expired"])
    assert sorted(cell_texts(client.get(exclude).content.decode(), "Status")) == ["Active", "Revoked"]
    only = next(url for url in links(body, "Status") if query(url)["status"] == ["expired"])
    assert cell_texts(client.get(only).content.decode(), "Status") == ["Expired"]


def test_exclusion_chips_remove_one_value_each_and_travel_with_the_search_form(client, tenant_a, events):
    sample_record(events, tenant_a, "m", ip_address="10.0.0.8")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(
        events.list_url, {"ip_address__not": ["10.0.0.1", "10.0.0.2"], "preset": "last7", "cursor": "x"}
    ).content.decode()
    remove = re.search(r'href="([^"]*)" aria-label="Remove filter Ip address is not 10.0.0.1"', body)
    assert query(html.unescape(remove.group(1))) == {"ip_address__not": ["10.0.0.2"], "preset": ["last7"]}
    form = body.split('id="search-form"')[1].split("</form>")[0]
    hidden = re.findall(r'<input type="hidden" name="ip_address__not" value="([^"]*)"', form)
    assert hidden == ["10.0.0.1", "10.0.0.2"]


def test_an_exclusion_that_cannot_be_read_is_reported_and_exports_refuse_it(client, tenant_a, events):
    sample_record(events, tenant_a, "m")
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(events.list_url, {"ip_address__not": "not-an-ip"})
    assert response.status_code == 200
    assert "Filter &#x27;Not Ip address&#x27; ignored" in response.content.decode()
    response = client.get(events.export_url, {"format": "csv", "ip_address__not": "not-an-ip"})
    assert response.status_code == 302


def test_export_holds_what_an_exclusion_leaves(client, tenant_a, events):
    sample_record(events, tenant_a, "keep", ip_address="10.0.0.1")
    sample_record(events, tenant_a, "drop", ip_address="10.0.0.2")
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(events.export_url, {"format": "csv", "ip_address__not": "10.0.0.2"})
    text = b"".join(response.streaming_content).decode()
    assert "10.0.0.1" in text and "10.0.0.2" not in text


def test_no_value_becomes_markup(client, tenant_a, events):
    sample_record(events, tenant_a, "x", username=XSS, client_name=XSS, provider_name=XSS)
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url).content.decode()
    assert "<script>alert(1)" not in body
    assert '"><script' not in body
    href = links(body, "Username")[0]
    assert query(href)["username"] == [XSS]
    assert 'aria-label="Only Username &quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in body
    followed = client.get(href).content.decode()  # and the chip it makes is text too
    assert "<script>alert(1)" not in followed
    assert "Username: &quot;&gt;&lt;script&gt;" in followed


@pytest.mark.parametrize("kind_name", ["events", "audit", "sessions"])
def test_the_links_cost_no_query_per_row(client, tenant_a, kind_name):
    kind = registry.get(kind_name)
    login(client, tenant_a, Role.TENANT_ADMIN)

    def page_queries() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as context:
            body = client.get(kind.list_url, {"preset": "all"}).content.decode()
        return len(context.captured_queries), body.count('class="value-only"')

    for i in range(3):
        sample_record(kind, tenant_a, f"few{i}")
    few, few_links = page_queries()
    for i in range(60):
        sample_record(kind, tenant_a, f"many{i}")
    many, many_links = page_queries()
    assert many_links > few_links >= 3
    # A full page sizes its total once (on PostgreSQL an estimate and a bounded count: two queries, on SQLite one);
    # nothing grows with its 50 rows. tests/authmon/test_query_budget.py compares two full pages exactly.
    assert many <= few + 2
