"""Quick search: a term of three characters or more matches anywhere; a shorter one matches the start only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from authmon import registry
from authmon.models import Role
from tests.authmon.test_log_views import login
from tests.samples import sample_record


@pytest.fixture
def events():
    return registry.get("events")


def test_a_long_term_matches_anywhere_in_the_field(client, tenant_a, events):
    inside = sample_record(events, tenant_a, "q", email="mallory@example.com")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url, {"search": "LORY@"}).content.decode()
    assert inside.email in body
    assert "search: LORY@" in body


def test_a_short_term_matches_the_start_and_says_so(client, tenant_a, events):
    start = sample_record(events, tenant_a, "q", email="al@example.com")
    middle = sample_record(events, tenant_a, "q", email="sal@example.com")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(events.list_url, {"search": "Al"}).content.decode()
    assert start.email in body
    assert middle.email not in body
    assert "starts with Al" in body
    assert "3+ characters" in body


def test_an_exact_search_field_is_not_changed_by_the_term_length(client, tenant_a):
    sessions = registry.get("sessions")
    mine = sample_record(sessions, tenant_a, "q", user_id="u7")
    other = sample_record(sessions, tenant_a, "q", user_id="u77")
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(sessions.list_url, {"search": "u7"}).content.decode()
    assert "search: u7" in body
    assert "search: starts with" not in body
    assert reverse(sessions.url_name("detail"), args=[mine.pk]) in body
    assert reverse(sessions.url_name("detail"), args=[other.pk]) not in body
