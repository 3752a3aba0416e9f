"""Revoking API tokens (DESIGN section 4: "a token stops working at once"): ``manage.py revoke_api_token`` and the
super admin's API tokens page. Every revocation is audited in the token's tenant; other roles cannot reach either."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from audit.models import AuditLog
from authmon.models import ApiToken, Role
from tests.conftest import make_user


def issue(tenant, name="idp ingest", scopes=("ingest", "read")):
    return ApiToken.issue(tenant=tenant, scopes=list(scopes), name=name)


def api_status(raw: str) -> int:
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}").get("/api/v1/events/").status_code


def revoke(*args: str) -> list[str]:
    out = StringIO()
    call_command("revoke_api_token", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def revocations(tenant):
    return AuditLog.objects.filter(tenant=tenant, action="disable Secret")


# ------------------------------------------------------------------------------------------------- command


def test_revoked_by_prefix_the_token_stops_working_at_once(tenant_a):
    token, raw = issue(tenant_a)
    assert api_status(raw) == 200
    assert token.display_prefix == raw[:12] and raw.startswith("amt_")
    lines = revoke("--tenant", "acme", token.display_prefix)
    assert (
        lines[-1]
        == f"Revoked API token {token.display_prefix} (idp ingest) of tenant acme: it no longer authenticates."
    )
    assert api_status(raw) == 401
    [record] = revocations(tenant_a)
    assert record.actor.startswith("cli:") and record.client_actor == "manage.py"
    assert token.display_prefix in record.target
    assert raw not in str(record.new_entity) + record.target + record.comments


def test_the_whole_token_and_a_legacy_id_name_a_token_too(tenant_a):
    _, raw = issue(tenant_a)
    revoke("--tenant", "acme", raw)
    assert api_status(raw) == 401
    legacy, legacy_raw = issue(tenant_a, name="old")
    ApiToken.objects.filter(pk=legacy.pk).update(display_prefix="")  # issued before prefixes were kept
    assert revoke("--tenant", "acme", f"#{legacy.pk}")[-1].startswith(f"Revoked API token #{legacy.pk} (old)")
    assert api_status(legacy_raw) == 401


def test_revoking_twice_says_so_and_audits_once(tenant_a):
    token, _ = issue(tenant_a, name="")
    revoke("--tenant", "acme", token.display_prefix)
    assert "was already revoked at" in revoke("--tenant", "acme", token.display_prefix)[-1]
    assert revocations(tenant_a).count() == 1


@pytest.mark.parametrize(
    ("tenant", "handle", "message"),
    [
        ("nope", "amt_whatever", "No tenant with slug 'nope'"),
        ("acme", "amt_notthere", "Tenant acme has no API token 'amt_notthere'"),
        ("acme", "", "Tenant acme has no API token ''"),
        ("acme", "#999999999999999999999999", "has no API token"),
        ("acme", "amt_\x00", "has no API token"),
        ("ac\x00me", "amt_whatever", "No tenant with slug"),
    ],
)
def test_unknown_tenant_or_token_is_a_clear_error(tenant_a, tenant, handle, message):
    issue(tenant_a)
    with pytest.raises(CommandError, match=message):
        revoke("--tenant", tenant, handle)


def test_a_token_is_found_only_in_its_own_tenant(tenant_a, tenant_b):
    theirs, raw = issue(tenant_b)
    with pytest.raises(CommandError, match="Tenant acme has no API token"):
        revoke("--tenant", "acme", theirs.display_prefix)
    with pytest.raises(CommandError):
        revoke("--tenant", "acme", raw)
    assert api_status(raw) == 200
    assert not revocations(tenant_a).exists() and not revocations(tenant_b).exists()


# ------------------------------------------------------------------------------------------------- console


def test_super_admin_lists_and_revokes_in_the_console(client, tenant_a, super_admin):
    active, raw = issue(tenant_a, name="idp ingest")
    used, _ = issue(tenant_a, name="reader", scopes=("read",))
    gone, _ = issue(tenant_a, name="old one")
    ApiToken.objects.filter(pk=gone.pk).update(revoked_at="2026-01-02T03:04:05Z")
    client.force_login(super_admin)
    page = client.get(reverse("api_tokens"))
    assert page.status_code == 200
    html = page.content.decode()
    for token in (active, used, gone):
        assert token.display_prefix in html and token.name in html
    assert "ingest, read" in html and "Revoked" in html and "Active" in html and "never" in html
    assert raw not in html
    assert 'href="/settings/api-tokens/"' in client.get(reverse("home")).content.decode()  # in the menu

    confirm = client.get(reverse("api_tokens"), {"confirm": active.pk}).content.decode()
    assert 'id="confirm-revoke"' in confirm and reverse("api_token_revoke", args=[active.pk]) in confirm
    assert client.get(reverse("api_token_revoke", args=[active.pk])).status_code == 405
    assert api_status(raw) == 200  # nothing happens before the POST

    response = client.post(reverse("api_token_revoke", args=[active.pk]), {"comment": " leaked in CI log "})
    assert response.status_code == 302 and response["Location"] == reverse("api_tokens")
    assert api_status(raw) == 401
    [record] = revocations(tenant_a)
    assert record.actor == super_admin.email
    assert record.comments == "leaked in CI log"
    assert "revoked" in client.get(reverse("api_tokens")).content.decode()


def test_csrf_protects_the_revoke_button(tenant_a, super_admin):
    token, raw = issue(tenant_a)
    client = Client(enforce_csrf_checks=True)
    client.force_login(super_admin)
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 403
    assert api_status(raw) == 200


def test_another_tenants_token_is_not_found_until_switching(client, tenant_a, tenant_b, super_admin):
    theirs, raw = issue(tenant_b, name="globex-secret-name")
    client.force_login(super_admin)
    assert "globex-secret-name" not in client.get(reverse("api_tokens")).content.decode()
    assert client.get(reverse("api_tokens"), {"confirm": theirs.pk}).status_code == 404
    assert client.post(reverse("api_token_revoke", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("api_token_revoke", args=[10**30])).status_code == 404
    assert api_status(raw) == 200
    client.post(reverse("tenant_switch"), {"tenant": tenant_b.slug, "next": "/"})
    assert "globex-secret-name" in client.get(reverse("api_tokens")).content.decode()
    assert client.post(reverse("api_token_revoke", args=[theirs.pk])).status_code == 302
    assert api_status(raw) == 401
    assert revocations(tenant_b).get().actor == super_admin.email
    assert not revocations(tenant_a).exists()


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.TENANT_ADMIN])
def test_other_roles_cannot_list_or_revoke(client, tenant_a, role):
    token, raw = issue(tenant_a)
    client.force_login(make_user(tenant_a, role))
    assert client.get(reverse("api_tokens")).status_code == 403
    assert client.post(reverse("api_token_revoke", args=[token.pk])).status_code == 403
    assert "/settings/api-tokens/" not in client.get(reverse("home")).content.decode()
    assert api_status(raw) == 200


def test_anonymous_is_sent_to_sign_in(client, tenant_a):
    token, raw = issue(tenant_a)
    for response in (client.get(reverse("api_tokens")), client.post(reverse("api_token_revoke", args=[token.pk]))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert api_status(raw) == 200
