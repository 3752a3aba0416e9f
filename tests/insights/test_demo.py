"""Issue 10's "done when": on the demo data the Insights page shows the planted brute-force burst and the
credential-stuffing spread, and an alert for each reaches Notification Logs once, not once per evaluation."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from authmon.models import Tenant
from authmon.world import BRUTE_FORCE_IP, STUFFING_IP
from console.demo import demo_data_load
from insights.alerts import ALERT_SUBJECT_PREFIX, alert_rule_create, alerts_evaluate
from insights.models import Detection
from notifications.models import NotificationLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    now = timezone.now()
    result = demo_data_load(tenants=1, rows=4000, now=now)
    return Tenant.objects.get(slug="acme"), result.logins, now


def test_insights_page_shows_the_planted_attacks(client, demo):
    _tenant, logins, _ = demo
    admin = next(login for login in logins if login.role == "tenant_admin")
    assert client.login(username=admin.email, password=admin.password)
    response = client.get(reverse("insights:overview"))
    results = {r.spec.name: r.findings for r in response.context["results"]}
    [brute] = results[Detection.BRUTE_FORCE]
    assert brute.count == 30
    assert BRUTE_FORCE_IP in brute.summary
    stuffing = [f for f in results[Detection.CREDENTIAL_STUFFING] if f.key == {"ip_address": STUFFING_IP}]
    assert len(stuffing) == 1
    assert stuffing[0].facts["accounts"] >= 20
    body = response.content.decode()
    assert brute.title in body and stuffing[0].title in body


def test_each_demo_attack_alerts_once_across_evaluations(demo):
    tenant, _, now = demo
    for detection in (Detection.BRUTE_FORCE, Detection.CREDENTIAL_STUFFING):
        alert_rule_create(
            tenant=tenant, actor="admin@acme.example.com", detection=detection, recipients="soc@acme.example.com"
        )
    for minutes in (0, 10, 20, 90):
        alerts_evaluate(tenant=tenant, now=now + dt.timedelta(minutes=minutes))
    alerts = NotificationLog.objects.for_tenant(tenant).filter(
        category="alert", subject__startswith=ALERT_SUBJECT_PREFIX
    )
    subjects = sorted(alerts.values_list("subject", flat=True))
    assert len(subjects) == 2, subjects
    assert any("Brute force: 30 failed logins" in s for s in subjects)
    assert any("Credential stuffing: Failed logins for" in s and STUFFING_IP in s for s in subjects)
