"""The Insights, alert rule, threshold and Review pages: roles, tenants, audit, and what they show."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from authmon.models import Role
from insights.alerts import alert_rule_create
from insights.models import AlertRule, Detection, DetectionSettings, ReviewNote
from jobs.models import JobLog
from tests.conftest import PASSWORD, make_user
from tests.insights.helpers import event, job, mail, session

pytestmark = pytest.mark.django_db

ROLES = [Role.AUDITOR, Role.TENANT_ADMIN, Role.SUPER_ADMIN]
PAGES = ["insights:overview", "insights:review"]
ADMIN_PAGES = ["insights:rules", "insights:settings"]


def login(client, tenant, role):
    user = make_user(tenant, role, f"{role}-{tenant.slug}@example.test")
    assert client.login(username=user.email, password=PASSWORD)
    return user


def attack(tenant, email="victim@example.com", minutes_ago=60):
    start = timezone.now() - dt.timedelta(minutes=minutes_ago)
    for n in range(12):
        event(tenant, "login_failed", start + dt.timedelta(seconds=15 * n), email=email, ip_address="203.0.113.9")


@pytest.mark.parametrize("name", PAGES + ADMIN_PAGES)
def test_anonymous_is_sent_to_login(client, db, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_insights_of_its_own_tenant_only(client, tenant_a, tenant_b, role):
    attack(tenant_a, "own-victim@example.com")
    attack(tenant_b, "foreign-victim@example.com")
    login(client, tenant_a, role)
    response = client.get(reverse("insights:overview"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "12 failed logins for own-victim@example.com" in body
    assert "foreign-victim" not in body
    evidence = html.unescape(re.search(r'href="([^"]+)">Show the rows', body).group(1))
    assert evidence.startswith(reverse("events:eventlog_list") + "?email=own-victim%40example.com")
    listed = client.get(evidence).content.decode()
    assert listed.count("own-victim@example.com</a>") == 12
    assert ("Alert rules" in body) == (role != Role.AUDITOR)


def test_insights_page_has_charts_with_tables_and_no_inline_code(client, tenant_a):
    attack(tenant_a)
    job(tenant_a, "audit log trim", timezone.now() - dt.timedelta(hours=1))
    mail(tenant_a, "user@example.com", timezone.now() - dt.timedelta(hours=1))
    login(client, tenant_a, Role.AUDITOR)
    response = client.get(reverse("insights:overview"), {"preset": "last30"})
    body = response.content.decode()
    for chart in response.context["charts"]:
        assert all(dataset["color"].startswith("#") for dataset in chart.spec["datasets"]), chart.slug
    for slug in ("events-over-time", "failed-by-hour", "top-email", "top-ip-address", "job-health", "email-health"):
        assert f'id="chart-{slug}"' in body
    assert 'id="chart-data-top-ip-address" type="application/json"' in body
    assert "<td>203.0.113.9</td>" in body or "203.0.113.9</a></td>" in body
    assert "vendor/chartjs/chart.umd.min.js" in body
    for tag in re.findall(r"<script[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "style=" not in body


def test_insights_period_comes_from_the_list_parameters(client, tenant_a):
    attack(tenant_a, minutes_ago=60 * 24 * 10)
    login(client, tenant_a, Role.AUDITOR)
    assert "12 failed logins" not in client.get(reverse("insights:overview")).content.decode()
    assert "12 failed logins" in client.get(reverse("insights:overview"), {"preset": "last30"}).content.decode()
    response = client.get(reverse("insights:overview"), {"start": "not a date"})
    assert response.status_code == 200
    assert "is not a date" in response.content.decode()


@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_auditors_cannot_manage_alerts(client, tenant_a, name):
    login(client, tenant_a, Role.AUDITOR)
    assert client.get(reverse(name)).status_code == 403
    assert client.post(reverse(name), {}).status_code == 403
    assert client.post(reverse("insights:evaluate")).status_code == 403


def test_admin_creates_edits_and_deletes_a_rule(client, tenant_a):
    user = login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.post(
        reverse("insights:rules"),
        {"detection": "brute_force", "recipients": "soc@acme.example", "cooldown_minutes": 30, "enabled": "on"},
    )
    assert response.status_code == 302
    rule = AlertRule.objects.get()
    assert (rule.tenant, rule.created_by, rule.cooldown_minutes) == (tenant_a, user.email, 30)
    page = client.get(reverse("insights:rule_edit", args=[rule.pk])).content.decode()
    assert rule.webhook_secret in page
    response = client.post(
        reverse("insights:rule_edit", args=[rule.pk]),
        {"detection": "credential_stuffing", "recipients": "soc@acme.example", "cooldown_minutes": 60},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.detection, rule.enabled) == ("credential_stuffing", False)
    assert client.post(reverse("insights:rule_delete", args=[rule.pk])).status_code == 302
    assert not AlertRule.objects.exists()
    actions = list(AuditLog.objects.for_tenant(tenant_a).filter(actor=user.email).values_list("action", flat=True))
    assert {"create AlertRule", "update AlertRule", "delete AlertRule"} <= set(actions)


def test_invalid_rule_shows_the_error(client, tenant_a):
    login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.post(
        reverse("insights:rules"), {"detection": "brute_force", "recipients": "nobody", "cooldown_minutes": 60}
    )
    assert response.status_code == 400
    assert "is not an e-mail address" in response.content.decode()
    assert not AlertRule.objects.exists()


def test_rules_of_another_tenant_are_404(client, tenant_a, tenant_b):
    foreign = alert_rule_create(
        tenant=tenant_b, actor="x@globex.example", detection=Detection.BRUTE_FORCE, recipients="soc@globex.example"
    )
    login(client, tenant_a, Role.SUPER_ADMIN)
    assert client.get(reverse("insights:rule_edit", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("insights:rule_delete", args=[foreign.pk])).status_code == 404
    assert client.post(reverse("insights:rule_rotate", args=[foreign.pk])).status_code == 404
    assert "soc@globex.example" not in client.get(reverse("insights:rules")).content.decode()
    assert AlertRule.objects.filter(pk=foreign.pk).exists()


def test_evaluate_now_queues_a_job(client, tenant_a, django_capture_on_commit_callbacks):
    login(client, tenant_a, Role.TENANT_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("insights:evaluate"))
    job_record = JobLog.objects.get(job_name="security alert evaluation")
    assert response["Location"] == reverse("jobs:joblog_detail", args=[job_record.pk])
    assert job_record.latest_status == "success"


def test_thresholds_are_tuned_and_audited(client, tenant_a):
    login(client, tenant_a, Role.TENANT_ADMIN)
    form = client.get(reverse("insights:settings")).context["form"]
    data = {name: value for name, value in form.initial.items() if value is not False}
    data.update({name: field.initial for name, field in form.fields.items() if name not in data and field.initial})
    data = {k: ("on" if v is True else v) for k, v in data.items()}
    data["brute_force__failures"] = 5
    data.pop("job_failures__enabled")
    assert client.post(reverse("insights:settings"), data).status_code == 302
    rows = {row.detection: row for row in DetectionSettings.objects.for_tenant(tenant_a)}
    assert rows["brute_force"].thresholds == {"failures": 5}
    assert rows["job_failures"].enabled is False
    assert set(rows) == {"brute_force", "job_failures"}  # untouched detections store nothing
    assert AuditLog.objects.for_tenant(tenant_a).filter(action="update DetectionSettings").count() == 2
    data["brute_force__failures"] = 0
    assert client.post(reverse("insights:settings"), data).status_code == 400


@pytest.mark.parametrize("role", ROLES)
def test_review_page_counts_and_links(client, tenant_a, tenant_b, role):
    now = timezone.now()
    for n in range(3):
        event(tenant_a, "login_failed", now - dt.timedelta(hours=n + 1))
    event(tenant_b, "login_failed", now - dt.timedelta(hours=1))
    event(tenant_a, "login_failed", now - dt.timedelta(days=3))
    session(tenant_a, now - dt.timedelta(days=40), "198.51.100.1", hours=24 * 90)
    job(tenant_a, "audit log trim", now - dt.timedelta(days=2), job_type="trim")
    login(client, tenant_a, role)
    response = client.get(reverse("insights:review"))
    assert response.status_code == 200
    sections = {s.cadence: s for s, _ in response.context["sections"]}
    daily = {item.label: item for item in sections["daily"].items}
    assert daily["Failed logins in the last 24 hours"].count == 3
    weekly = {item.label: item for item in sections["weekly"].items}
    assert weekly["Failed trim jobs this week"].count == 1
    monthly = {item.label: item for item in sections["monthly"].items}
    assert monthly["Active sessions older than 30 days"].count == 1
    link = daily["Failed logins in the last 24 hours"].url
    assert client.get(link).content.decode().count("victim@example.com</a>") == 3
    body = response.content.decode()
    assert ("Mark daily review done" in body) == (role != Role.AUDITOR)


def test_admin_records_a_review_note(client, tenant_a):
    user = login(client, tenant_a, Role.TENANT_ADMIN)
    response = client.post(reverse("insights:review_note"), {"cadence": "weekly", "note": "Checked trims; all good."})
    assert response.status_code == 302
    note = ReviewNote.objects.get()
    assert (note.tenant, note.cadence, note.author) == (tenant_a, "weekly", user.email)
    record = AuditLog.objects.for_tenant(tenant_a).get(action="create ReviewNote")
    assert record.new_entity == {"cadence": "weekly", "note": "Checked trims; all good."}
    page = client.get(reverse("insights:review"))
    weekly = next(s for s, _ in page.context["sections"] if s.cadence == "weekly")
    assert not weekly.due
    assert "Checked trims; all good." in page.content.decode()


def test_auditor_cannot_record_a_review_and_empty_notes_are_refused(client, tenant_a):
    login(client, tenant_a, Role.AUDITOR)
    assert client.post(reverse("insights:review_note"), {"cadence": "daily", "note": "x"}).status_code == 403
    client.logout()
    login(client, tenant_a, Role.TENANT_ADMIN)
    client.post(reverse("insights:review_note"), {"cadence": "daily", "note": "   "})
    client.post(reverse("insights:review_note"), {"cadence": "yearly", "note": "x"})
    assert not ReviewNote.objects.exists()


def test_menu_links_to_insights_and_review(client, tenant_a):
    login(client, tenant_a, Role.AUDITOR)
    body = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("insights:overview")}"' in body
    assert f'href="{reverse("insights:review")}"' in body
