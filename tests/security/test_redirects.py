"""Every ``next`` a form posts goes through one rule (authmon.redirects.safe_next): a path on this site, or the page's
own default. Each attack below is a way browsers have been talked into leaving a site."""

from __future__ import annotations

import pytest
from django.urls import reverse

from authmon import registry
from authmon.models import Role
from tests.authmon.test_log_views import login

OFFSITE = [
    "https://evil.example/phish",
    "//evil.example/phish",
    "/\\evil.example/phish",
    "\\\\evil.example",
    "javascript:alert(1)",
    "evil.example",
]


def post_columns(client, next_url):
    kind = registry.get("events")
    return client.post(reverse(kind.url_name("columns")), {"show": ["email"], "next": next_url})


@pytest.mark.parametrize("next_url", OFFSITE)
def test_the_column_choice_never_sends_the_user_off_site(client, tenant_a, next_url):
    login(client, tenant_a, Role.AUDITOR)
    response = post_columns(client, next_url)
    assert response.status_code == 302
    assert response["Location"] == reverse(registry.get("events").url_name("list"))


def test_the_column_choice_returns_to_the_page_it_came_from(client, tenant_a):
    login(client, tenant_a, Role.AUDITOR)
    back = reverse(registry.get("events").url_name("list")) + "?preset=today&q=failed+logins"
    assert post_columns(client, back)["Location"] == back


@pytest.mark.parametrize("next_url", OFFSITE)
def test_the_tenant_switch_never_sends_the_user_off_site(client, tenant_a, tenant_b, next_url):
    login(client, tenant_a, Role.SUPER_ADMIN)
    response = client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug, "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
