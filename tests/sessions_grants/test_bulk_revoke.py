"""Bulk revocation from the Sessions and Grants lists (issue 22): the checkboxes and the form on the list, the
confirmation (selected rows, or every active row older than N days under the list's filters), the POST that
revokes, audits each row with the one comment and pushes one webhook batch; roles, another tenant's keys, the cap,
a stale confirmation, CSRF and GETs that change nothing."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from authmon import registry
from authmon.models import Role
from sessions_grants import selectors, views
from sessions_grants.models import BULK_REVOKE_MAX, AccessStatus, Grant, RevocationDelivery, Session
from sessions_grants.services import session_revoke
from tests.authmon.test_log_views import login
from tests.samples import sample_record
from tests.sessions_grants.test_webhooks import Receiver, configure

pytestmark = pytest.mark.django_db

KINDS = ["sessions", "grants"]
ADMINS = [Role.TENANT_ADMIN, Role.SUPER_ADMIN]
NOW = timezone.now


def bulk_url(kind_name: str) -> str:
    return reverse(registry.get(kind_name).url_name("bulk_revoke"))


def make(kind_name: str, tenant, *, days_old: float = 1, **overrides):
    kind = registry.get(kind_name)
    values = {"status": "active", "expires_at": NOW() + dt.timedelta(days=1), "email": "someone@example.com"}
    values.update(overrides)
    return sample_record(kind, tenant, "bulk", when=NOW() - dt.timedelta(days=days_old), **values)


def statuses(rows) -> list[str]:
    return [type(row).objects.get(pk=row.pk).status for row in rows]


def revoke_records(kind_name: str) -> list[AuditLog]:
    model = registry.get(kind_name).model
    return list(AuditLog.objects.filter(action=f"revoke {model.__name__}").order_by("pk"))


def post(client, kind_name: str, rows_or_ids, comment="stale access clean-up, SEC-9", **extra):
    ids = ",".join(str(getattr(r, "pk", r)) for r in rows_or_ids)
    return client.post(bulk_url(kind_name), {"ids": ids, "comment": comment, **extra})


# ------------------------------------------------------------------------------------------------ the list page


@pytest.mark.parametrize("kind_name", KINDS)
@pytest.mark.parametrize("role", [Role.AUDITOR, *ADMINS])
def test_only_those_who_may_revoke_see_checkboxes_and_the_bulk_form(client, tenant_a, kind_name, role):
    make(kind_name, tenant_a)
    login(client, tenant_a, role)
    page = client.get(registry.get(kind_name).list_url).content.decode()
    may = role != Role.AUDITOR
    assert ('id="bulk-revoke-form"' in page) is may
    assert ('name="pk"' in page) is may
    assert ("Revoke all active older than" in page) is may


@pytest.mark.parametrize("kind_name", KINDS)
def test_each_active_row_has_a_labelled_checkbox_and_no_other_row_has_one(client, tenant_a, kind_name):
    active = make(kind_name, tenant_a)
    revoked = make(kind_name, tenant_a, status="revoked", revoked_at=NOW())
    expired_by_time = make(kind_name, tenant_a, expires_at=NOW() - dt.timedelta(minutes=1))
    login(client, tenant_a, Role.TENANT_ADMIN)
    page = client.get(registry.get(kind_name).list_url, {"preset": "all", "status": ["active", "revoked", "expired"]})
    body = page.content.decode()
    boxes = re.findall(r'<input[^>]*name="pk" value="(\d+)" form="bulk-revoke-form"', body)
    assert boxes == [str(active.pk)]
    singular = registry.get(kind_name).singular.lower()
    assert f"Select {singular} {str(active)[:8]}…" in html.unescape(body)
    assert str(revoked.pk) not in boxes and str(expired_by_time.pk) not in boxes
    assert 'id="bulk-select-all"' in body and "Select all on this page" in body


def test_the_bulk_form_carries_the_lists_filters(client, tenant_a):
    make("sessions", tenant_a, client_id="portal")
    login(client, tenant_a, Role.TENANT_ADMIN)
    body = client.get(registry.get("sessions").list_url, {"client_id": "portal", "cursor": ""}).content.decode()
    form = body[body.index('id="bulk-revoke-form"') : body.index("</form>", body.index('id="bulk-revoke-form"'))]
    assert '<input type="hidden" name="client_id" value="portal">' in form
    assert 'name="cursor"' not in form


# ------------------------------------------------------------------------------------------------ roles


@pytest.mark.parametrize("kind_name", KINDS)
def test_an_auditor_can_neither_see_the_confirmation_nor_revoke(client, tenant_a, kind_name):
    rows = [make(kind_name, tenant_a) for _ in range(2)]
    login(client, tenant_a, Role.AUDITOR)
    assert client.get(bulk_url(kind_name), {"pk": [r.pk for r in rows]}).status_code == 403
    assert client.get(bulk_url(kind_name), {"mode": "older", "older_than": "0"}).status_code == 403
    assert post(client, kind_name, rows).status_code == 403
    assert statuses(rows) == ["active", "active"]
    assert not revoke_records(kind_name)


def test_anonymous_is_sent_to_login_and_nothing_changes(client, tenant_a):
    row = make("sessions", tenant_a)
    response = post(client, "sessions", [row])
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert statuses([row]) == ["active"]


# ------------------------------------------------------------------------------------------------ selected rows


@pytest.mark.parametrize("kind_name", KINDS)
@pytest.mark.parametrize("role", ADMINS)
def test_selected_rows_are_confirmed_then_revoked_each_audited_with_the_comment(client, tenant_a, kind_name, role):
    chosen = [make(kind_name, tenant_a, days_old=3), make(kind_name, tenant_a, days_old=2)]
    other = make(kind_name, tenant_a)
    admin = login(client, tenant_a, role)

    confirm = client.get(bulk_url(kind_name), {"mode": "selected", "pk": [r.pk for r in chosen]})
    assert confirm.status_code == 200
    preview = confirm.context["preview"]
    assert preview.count == 2 and preview.ids == sorted(r.pk for r in chosen)
    body = confirm.content.decode()
    noun = registry.get(kind_name).noun
    assert f"Revoke 2 {noun}?" in body
    detail = registry.get(kind_name).url_name("detail")
    assert f'href="{reverse(detail, args=[chosen[0].pk])}"' in body
    assert f'href="{reverse(detail, args=[other.pk])}"' not in body
    assert statuses([*chosen, other]) == ["active"] * 3  # the confirmation changed nothing

    response = post(client, kind_name, preview.ids, comment="  offboarding, ticket HR-7  ")
    assert response.status_code == 200
    assert f"2 {noun} revoked" in response.content.decode()
    assert statuses([*chosen, other]) == ["revoked", "revoked", "active"]
    records = revoke_records(kind_name)
    assert [r.target for r in records] == [str(row) for row in sorted(chosen, key=lambda r: r.pk)]
    for record in records:
        assert record.comments == "offboarding, ticket HR-7"
        assert record.actor == admin.email and record.subject == "someone@example.com"
        assert record.tenant == tenant_a
        assert record.old_entity["status"] == "active" and record.new_entity["status"] == "revoked"


def test_selected_rows_no_longer_active_are_named_and_left_alone(client, tenant_a):
    active = make("sessions", tenant_a)
    revoked = make("sessions", tenant_a, status="revoked", revoked_at=NOW())
    login(client, tenant_a, Role.TENANT_ADMIN)
    confirm = client.get(bulk_url("sessions"), {"pk": [active.pk, revoked.pk]})
    assert confirm.context["preview"].ids == [active.pk]
    assert "1 of the selected sessions is no longer active" in confirm.content.decode()


def test_nothing_selected_asks_to_tick_rows(client, tenant_a):
    login(client, tenant_a, Role.TENANT_ADMIN)
    confirm = client.get(bulk_url("grants"), {"mode": "selected"})
    assert confirm.status_code == 200
    assert "tick the rows to revoke" in confirm.content.decode()
    assert "confirm-bulk-revoke-button" not in confirm.content.decode()


# ------------------------------------------------------------------------------------------------ older than N days


@pytest.mark.parametrize("kind_name", KINDS)
def test_older_than_counts_the_active_rows_the_lists_filters_select(client, tenant_a, tenant_b, kind_name):
    field = "client_id" if kind_name == "sessions" else "client"
    old = [make(kind_name, tenant_a, days_old=40, **{field: "portal"}) for _ in range(3)]
    make(kind_name, tenant_a, days_old=40, **{field: "billing"})  # another client: the list's filter leaves it out
    make(kind_name, tenant_a, days_old=10, **{field: "portal"})  # too young
    make(kind_name, tenant_a, days_old=40, status="revoked", revoked_at=NOW(), **{field: "portal"})
    make(kind_name, tenant_a, days_old=40, expires_at=NOW() - dt.timedelta(hours=1), **{field: "portal"})
    make(kind_name, tenant_b, days_old=40, **{field: "portal"})  # another tenant's
    login(client, tenant_a, Role.TENANT_ADMIN)

    confirm = client.get(bulk_url(kind_name), {"mode": "older", "older_than": "30", field: "portal"})
    preview = confirm.context["preview"]
    assert (preview.count, preview.ids) == (3, sorted(r.pk for r in old))
    body = confirm.content.decode()
    assert "created more than <strong>30 days</strong> ago" in body
    assert "portal" in body  # the filter is shown as a chip
    assert f'name="back" value="{field}=portal"' in body

    everything = client.get(bulk_url(kind_name), {"mode": "older", "older_than": "30"}).context["preview"]
    assert everything.count == 4  # without the filter: the billing one too, still not B's, revoked or expired ones
    assert client.get(bulk_url(kind_name), {"mode": "older", "older_than": "5"}).context["preview"].count == 5

    response = post(client, kind_name, preview.ids, back=f"{field}=portal")
    assert response.context["result"].revoked == sorted(old, key=lambda r: r.pk)
    assert statuses(old) == ["revoked"] * 3
    assert f'href="{registry.get(kind_name).list_url}?{field}=portal"' in response.content.decode()


def test_older_than_with_an_unreadable_question_revokes_nothing(client, tenant_a):
    make("sessions", tenant_a, days_old=40)
    login(client, tenant_a, Role.TENANT_ADMIN)
    confirm = client.get(bulk_url("sessions"), {"mode": "older", "older_than": "30", "q": "colour is ((("})
    preview = confirm.context["preview"]
    assert preview.errors and preview.ids == []
    assert "confirm-bulk-revoke-button" not in confirm.content.decode()


@pytest.mark.parametrize("older_than", ["0", "-3", "ten", "²", "99999999", "9" * 5000])
def test_a_bad_number_of_days_is_refused(client, tenant_a, older_than):
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.get(bulk_url("sessions"), {"mode": "older", "older_than": older_than})
    assert response.status_code == 400
    assert "number of days" in response.content.decode()


# ------------------------------------------------------------------------------------------------ attacks


@pytest.mark.parametrize("kind_name", KINDS)
def test_another_tenants_ids_are_never_revoked_nor_shown(client, tenant_a, tenant_b, kind_name):
    """The attack: an admin of A edits the confirmed form to name B's records (keys are guessable integers)."""
    theirs = [make(kind_name, tenant_b, email="victim@globex.example") for _ in range(2)]
    mine = make(kind_name, tenant_a)
    login(client, tenant_a, Role.TENANT_ADMIN)

    confirm = client.get(bulk_url(kind_name), {"pk": [t.pk for t in theirs]})
    assert confirm.context["preview"].count == 0
    assert "victim@globex.example" not in confirm.content.decode()

    response = post(client, kind_name, [*theirs, mine])
    result = response.context["result"]
    assert (len(result.revoked), result.skipped, result.not_found) == (1, 0, 2)
    assert statuses(theirs) == ["active", "active"]
    assert statuses([mine]) == ["revoked"]
    assert not AuditLog.objects.filter(tenant=tenant_b).exists()
    assert "victim@globex.example" not in response.content.decode()


def test_a_super_admin_revokes_in_the_active_tenant_only(client, tenant_a, tenant_b):
    theirs = make("sessions", tenant_b)
    login(client, tenant_a, Role.SUPER_ADMIN)
    post(client, "sessions", [theirs])
    assert statuses([theirs]) == ["active"]


def test_the_post_needs_a_csrf_token(tenant_a):
    row = make("sessions", tenant_a)
    client = Client(enforce_csrf_checks=True)
    login(client, tenant_a, Role.TENANT_ADMIN)
    assert post(client, "sessions", [row]).status_code == 403
    assert statuses([row]) == ["active"]


def test_a_get_never_revokes(client, tenant_a):
    rows = [make("sessions", tenant_a, days_old=40) for _ in range(2)]
    login(client, tenant_a, Role.TENANT_ADMIN)
    ids = ",".join(str(r.pk) for r in rows)
    assert client.get(bulk_url("sessions"), {"ids": ids, "comment": "via GET"}).status_code == 200
    assert client.get(bulk_url("sessions"), {"mode": "older", "older_than": "1", "comment": "x"}).status_code == 200
    assert client.put(bulk_url("sessions"), {"ids": ids, "comment": "x"}).status_code == 405
    assert statuses(rows) == ["active", "active"]
    assert not revoke_records("sessions")


@pytest.mark.parametrize("ids", ["1,abc", "1;2", "1e3", "-4", "١٢"])
def test_unreadable_ids_are_refused(client, tenant_a, ids):
    row = make("sessions", tenant_a)
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.post(bulk_url("sessions"), {"ids": f"{row.pk},{ids}", "comment": "x"})
    assert response.status_code == 400
    assert statuses([row]) == ["active"]


def test_a_comment_is_required(client, tenant_a):
    row = make("sessions", tenant_a)
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = post(client, "sessions", [row], comment="   ")
    assert response.status_code == 400
    assert "the comment is required" in response.content.decode()
    assert response.context["preview"].ids == [row.pk]  # the confirmation again, to fill in
    assert statuses([row]) == ["active"]


# ------------------------------------------------------------------------------------------------ cap


def test_more_than_the_cap_is_refused_whole(client, tenant_a):
    rows = [make("sessions", tenant_a) for _ in range(2)]
    login(client, tenant_a, Role.TENANT_ADMIN)
    ids = [r.pk for r in rows] + list(range(10**6, 10**6 + BULK_REVOKE_MAX - 1))
    response = post(client, "sessions", ids)
    assert response.status_code == 400
    assert "at most 1,000" in response.content.decode()
    assert statuses(rows) == ["active", "active"]
    assert not revoke_records("sessions")


def test_the_cap_itself_is_allowed(client, tenant_a):
    rows = [make("sessions", tenant_a) for _ in range(2)]
    login(client, tenant_a, Role.TENANT_ADMIN)
    ids = [r.pk for r in rows] + list(range(10**6, 10**6 + BULK_REVOKE_MAX - 2))
    response = post(client, "sessions", ids)
    assert response.status_code == 200
    assert statuses(rows) == ["revoked", "revoked"]


def test_older_than_over_the_cap_says_so_and_offers_no_revocation(client, tenant_a, monkeypatch):
    monkeypatch.setattr(selectors, "BULK_REVOKE_MAX", 2)
    monkeypatch.setattr(views, "BULK_REVOKE_MAX", 2)
    for _ in range(3):
        make("grants", tenant_a, days_old=60)
    login(client, tenant_a, Role.TENANT_ADMIN)
    confirm = client.get(bulk_url("grants"), {"mode": "older", "older_than": "30"})
    body = confirm.content.decode()
    assert confirm.context["preview"].count == 3 and confirm.context["preview"].ids == []
    assert "<strong>3</strong> grants match: more than the 2 one action may revoke" in body
    assert "confirm-bulk-revoke-button" not in body


# ------------------------------------------------------------------------------------------------ stale, webhook


def test_a_stale_confirmation_revokes_and_audits_nothing_twice(client, tenant_a):
    rows = [make("sessions", tenant_a) for _ in range(3)]
    expired_meanwhile = make("sessions", tenant_a)
    admin = login(client, tenant_a, Role.TENANT_ADMIN)
    ids = client.get(bulk_url("sessions"), {"pk": [r.pk for r in [*rows, expired_meanwhile]]}).context["preview"].ids
    assert len(ids) == 4
    # Meanwhile another admin revokes one, and one passes its expiry.
    session_revoke(session=rows[0], actor=admin, comment="single")
    Session.objects.filter(pk=expired_meanwhile.pk).update(expires_at=NOW() - dt.timedelta(seconds=1))

    response = post(client, "sessions", ids)
    result = response.context["result"]
    assert (len(result.revoked), result.skipped) == (2, 2)
    assert "2 sessions revoked; 2 were already not active and left alone (skipped)" in response.content.decode()
    targets = [r.target for r in revoke_records("sessions")]
    assert sorted(targets) == sorted(str(r) for r in rows)  # one record each, the single one included
    assert Session.objects.get(pk=expired_meanwhile.pk).status == "active"  # expired by time, not revoked

    again = post(client, "sessions", ids)  # the same form sent twice (a reload)
    assert (len(again.context["result"].revoked), again.context["result"].skipped) == (0, 4)
    assert "0 sessions revoked; 4 were already not active and left alone (skipped)" in again.content.decode()
    assert len(revoke_records("sessions")) == 3


def test_one_webhook_push_carries_the_whole_batch(client, tenant_a, settings, django_capture_on_commit_callbacks):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    settings.AUTHMON_WEBHOOK_MAX_ATTEMPTS = 1
    sessions = [make("sessions", tenant_a) for _ in range(3)]
    already = make("sessions", tenant_a, status="revoked", revoked_at=NOW())
    login(client, tenant_a, Role.TENANT_ADMIN)
    with Receiver() as receiver:
        configure(tenant_a, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            response = post(client, "sessions", [*sessions, already])
    assert "being pushed to the tenant's revocation webhook as one batch" in html.unescape(response.content.decode())
    assert len(receiver.calls) == 1 and receiver.calls[0]["signature_ok"]
    pushed = sorted(item["id"] for item in receiver.calls[0]["body"]["revocations"])
    assert pushed == sorted(s.pk for s in sessions)
    assert set(RevocationDelivery.objects.values_list("status", flat=True)) == {"delivered"}
    assert RevocationDelivery.objects.values("batch").distinct().count() == 1


def test_without_a_webhook_the_revocations_are_in_the_feed(client, tenant_a):
    grants = [make("grants", tenant_a) for _ in range(2)]
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = post(client, "grants", grants)
    assert response.context["result"].job is None
    assert not RevocationDelivery.objects.exists()
    assert Grant.objects.filter(revoked_at__isnull=False, status=AccessStatus.REVOKED).count() == 2


def test_the_result_links_to_the_audit_records_it_wrote(client, tenant_a):
    row = make("sessions", tenant_a)
    login(client, tenant_a, Role.TENANT_ADMIN)
    body = post(client, "sessions", [row], comment="lost phone").content.decode()
    link = html.unescape(re.search(r'href="([^"]+)" id="bulk-audit-link"', body).group(1))
    audit_page = client.get(link)
    assert audit_page.status_code == 200
    assert str(row) in audit_page.content.decode()
