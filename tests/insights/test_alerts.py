"""Alert rules: audited changes, one alert per finding per cooldown, e-mail into Notification Logs, signed webhooks
with retries, and the periodic evaluation that records each run as a job."""

from __future__ import annotations

import datetime as dt
import json
import smtplib
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend

from audit.models import AuditLog
from insights.alerts import (
    EVALUATION_JOB_NAME,
    alert_rule_create,
    alert_rule_delete,
    alert_rule_rotate_secret,
    alert_rule_update,
    alerts_evaluate,
    webhook_signature,
)
from insights.models import AlertMark, AlertRule, Detection
from insights.tasks import alerts_evaluate_all_task
from jobs.models import JobLog
from notifications.models import NotificationLog
from tests.insights.helpers import NOW, event

pytestmark = pytest.mark.django_db

ACTOR = "admin@acme.example"


def brute_force(tenant, *, start, email="victim@example.com", count=12):
    for n in range(count):
        event(tenant, "login_failed", start + dt.timedelta(seconds=20 * n), email=email, ip_address="203.0.113.9")


def alert_logs(tenant):
    return NotificationLog.objects.for_tenant(tenant).filter(category="alert")


@pytest.fixture
def rule(tenant_a):
    return alert_rule_create(
        tenant=tenant_a,
        actor=ACTOR,
        detection=Detection.BRUTE_FORCE,
        recipients="soc@acme.example",
        cooldown_minutes=60,
    )


# ---------------------------------------------------------------------------------------------------- rules


def test_rule_changes_are_audited_without_the_secret(tenant_a, rule):
    alert_rule_update(rule=rule, actor=ACTOR, recipients="soc@acme.example\nciso@acme.example", cooldown_minutes=120)
    alert_rule_rotate_secret(rule=rule, actor=ACTOR)
    alert_rule_delete(rule=rule, actor=ACTOR)
    records = list(AuditLog.objects.for_tenant(tenant_a).order_by("timestamp", "pk"))
    assert [r.action for r in records] == [
        "create AlertRule",
        "update AlertRule",
        "update AlertRule",
        "delete AlertRule",
    ]
    assert records[1].old_entity["recipients"] == ["soc@acme.example"]
    assert records[1].new_entity["recipients"] == ["soc@acme.example", "ciso@acme.example"]
    assert all(r.actor == ACTOR for r in records)
    assert not any(rule.webhook_secret in json.dumps([r.old_entity, r.new_entity]) for r in records)
    assert not AlertRule.objects.exists()


def test_unchanged_rule_writes_no_audit_record(tenant_a, rule):
    alert_rule_update(rule=rule, actor=ACTOR, recipients="soc@acme.example", cooldown_minutes=60)
    assert AuditLog.objects.for_tenant(tenant_a).count() == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"recipients": "not-an-address"}, "recipients"),
        ({"recipients": "", "webhook_url": ""}, "recipients"),
        ({"webhook_url": "ftp://example.com/hook"}, "webhook_url"),
        ({"cooldown_minutes": 1}, "cooldown_minutes"),
        ({"detection": "nonsense"}, "detection"),
    ],
)
def test_invalid_rules_are_refused(tenant_a, changes, field):
    values = {"detection": Detection.BRUTE_FORCE, "recipients": "soc@acme.example", **changes}
    with pytest.raises(ValidationError) as caught:
        alert_rule_create(tenant=tenant_a, actor=ACTOR, **values)
    assert field in caught.value.message_dict
    assert not AlertRule.objects.exists()
    assert not AuditLog.objects.exists()


# ---------------------------------------------------------------------------------------------------- dedup


def test_one_alert_per_finding_not_one_per_evaluation(tenant_a, rule, mailoutbox):
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    first = alerts_evaluate(tenant=tenant_a, now=NOW)
    second = alerts_evaluate(tenant=tenant_a, now=NOW + dt.timedelta(minutes=10))
    assert (first.sent, first.suppressed) == (1, 0)
    assert (second.sent, second.suppressed) == (0, 1)
    [log] = alert_logs(tenant_a)
    assert log.recipient == "soc@acme.example"
    assert log.status == "sent"
    assert log.subject.startswith("[authmon alert] Brute force: 12 failed logins for victim@example.com")
    assert "/monitoring/events/?email=victim%40example.com" in log.body
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["soc@acme.example"]


def test_after_the_cooldown_only_new_evidence_alerts_again(tenant_a, rule):
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    alerts_evaluate(tenant=tenant_a, now=NOW)
    later = NOW + dt.timedelta(hours=3)
    assert alerts_evaluate(tenant=tenant_a, now=later).sent == 0  # same rows, cooldown over: nothing new
    brute_force(tenant_a, start=later - dt.timedelta(minutes=30))
    assert alerts_evaluate(tenant=tenant_a, now=later).sent == 1
    assert alert_logs(tenant_a).count() == 2
    mark = AlertMark.objects.get()
    assert mark.alerts_sent == 2


def test_new_evidence_within_the_cooldown_waits(tenant_a, rule):
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    alerts_evaluate(tenant=tenant_a, now=NOW)
    brute_force(tenant_a, start=NOW - dt.timedelta(minutes=10))
    assert alerts_evaluate(tenant=tenant_a, now=NOW + dt.timedelta(minutes=5)).sent == 0


def test_each_finding_and_each_rule_alerts_separately(tenant_a, rule):
    alert_rule_create(tenant=tenant_a, actor=ACTOR, detection=Detection.BRUTE_FORCE, recipients="ciso@acme.example")
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=3), email="second@example.com")
    assert alerts_evaluate(tenant=tenant_a, now=NOW).sent == 4
    assert (
        sorted(alert_logs(tenant_a).values_list("recipient", flat=True))
        == ["ciso@acme.example"] * 2 + ["soc@acme.example"] * 2
    )


def test_disabled_rules_and_other_tenants_stay_quiet(tenant_a, tenant_b, rule):
    alert_rule_update(rule=rule, actor=ACTOR, enabled=False)
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    alert_rule_create(tenant=tenant_b, actor=ACTOR, detection=Detection.BRUTE_FORCE, recipients="soc@globex.example")
    assert alerts_evaluate(tenant=tenant_a, now=NOW).rules == 0
    assert alerts_evaluate(tenant=tenant_b, now=NOW).findings == 0
    assert not NotificationLog.objects.exists()


def test_findings_outside_the_lookback_do_not_alert(tenant_a, rule, settings):
    settings.INSIGHTS_ALERT_LOOKBACK_HOURS = 24
    brute_force(tenant_a, start=NOW - dt.timedelta(days=3))
    assert alerts_evaluate(tenant=tenant_a, now=NOW).findings == 0


class FailingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


def test_failed_email_is_logged_and_retried_next_time(tenant_a, rule, settings):
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    report = alerts_evaluate(tenant=tenant_a, now=NOW)
    assert report.sent == 0
    assert "Connection unexpectedly closed" in report.failures[0]
    assert list(alert_logs(tenant_a).values_list("status", flat=True)) == ["failed"]
    assert not AlertMark.objects.exists()  # the claim was given back
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert alerts_evaluate(tenant=tenant_a, now=NOW + dt.timedelta(minutes=10)).sent == 1
    assert sorted(alert_logs(tenant_a).values_list("status", flat=True)) == ["failed", "sent"]


def test_with_the_logging_backend_each_alert_is_logged_once(tenant_a, rule, settings, mailoutbox):
    settings.EMAIL_BACKEND = "notifications.backends.LoggingEmailBackend"
    settings.AUTHMON_EMAIL_TRANSPORT = "django.core.mail.backends.locmem.EmailBackend"
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    alerts_evaluate(tenant=tenant_a, now=NOW)
    alerts_evaluate(tenant=tenant_a, now=NOW + dt.timedelta(minutes=10))
    [log] = alert_logs(tenant_a)
    assert (log.recipient, log.status) == ("soc@acme.example", "sent")
    assert len(mailoutbox) == 1


# ---------------------------------------------------------------------------------------------------- webhooks


class Receiver:
    """An HTTP server on 127.0.0.1 answering with the given status codes in turn and recording each request."""

    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fast_retries(settings):
    settings.AUTHMON_OUTBOUND_ALLOW_PRIVATE = True  # the receivers listen on 127.0.0.1 (tests/security/ssrf/)
    settings.INSIGHTS_WEBHOOK_BACKOFF_SECONDS = 0
    settings.INSIGHTS_WEBHOOK_TIMEOUT_SECONDS = 5


def test_webhook_is_signed_and_retried(tenant_a, fast_retries):
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    with Receiver([503, 200]) as receiver:
        hook = alert_rule_create(
            tenant=tenant_a, actor=ACTOR, detection=Detection.BRUTE_FORCE, recipients="", webhook_url=receiver.url
        )
        report = alerts_evaluate(tenant=tenant_a, now=NOW)
    assert report.sent == 1 and not report.failures
    assert len(receiver.requests) == 2
    headers, body = receiver.requests[-1]
    expected = webhook_signature(secret=hook.webhook_secret, timestamp=headers["X-Authmon-Timestamp"], body=body)
    assert headers["X-Authmon-Signature"] == expected
    assert webhook_signature(secret="wrong", timestamp=headers["X-Authmon-Timestamp"], body=body) != expected
    payload = json.loads(body)
    assert payload["detection"] == "brute_force"
    assert payload["key"] == {"email": "victim@example.com"}
    assert payload["tenant"] == "acme"
    assert AlertMark.objects.get().webhook_status == "delivered (HTTP 200) after 2 attempts"
    assert not NotificationLog.objects.exists()  # no recipients: webhook only


def test_webhook_client_errors_are_not_retried_and_server_errors_give_up(tenant_a, fast_retries):
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=4), email="second@example.com")
    with Receiver([400, 500, 500, 500]) as receiver:
        alert_rule_create(
            tenant=tenant_a, actor=ACTOR, detection=Detection.BRUTE_FORCE, recipients="", webhook_url=receiver.url
        )
        report = alerts_evaluate(tenant=tenant_a, now=NOW)
    assert len(receiver.requests) == 4  # one for the rejected alert, three for the failing one
    assert len(report.failures) == 2
    statuses = sorted(AlertMark.objects.values_list("webhook_status", flat=True))
    assert statuses == ["failed after 3 attempts: HTTP 500", "rejected (HTTP 400)"]


# ---------------------------------------------------------------------------------------------------- the job


def test_periodic_evaluation_runs_as_a_job_per_tenant_with_rules(
    tenant_a, tenant_b, rule, django_capture_on_commit_callbacks, settings
):
    settings.INSIGHTS_ALERT_LOOKBACK_HOURS = 24 * 365 * 10  # the job evaluates up to the real now
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert alerts_evaluate_all_task.delay().get() == 1
    [run] = JobLog.objects.filter(job_name=EVALUATION_JOB_NAME)
    assert run.tenant == tenant_a
    assert run.latest_status == "success", run.stacktrace
    assert run.message.startswith("Evaluated 1 alert rule: 1 finding, 1 alert sent")
    assert run.details["sent"] == 1
    assert alert_logs(tenant_a).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        alerts_evaluate_all_task.delay()
    assert JobLog.objects.filter(job_name=EVALUATION_JOB_NAME, latest_status="success").count() == 2
    assert alert_logs(tenant_a).count() == 1


def test_a_failed_delivery_fails_the_job(tenant_a, rule, django_capture_on_commit_callbacks, settings):
    settings.INSIGHTS_ALERT_LOOKBACK_HOURS = 24 * 365 * 10
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=True):
        alerts_evaluate_all_task.delay()
    run = JobLog.objects.get(job_name=EVALUATION_JOB_NAME)
    assert run.latest_status == "failed"
    assert "AlertDeliveryError" in run.message and "Connection unexpectedly closed" in run.message


def test_unreachable_webhook_is_reported(tenant_a, fast_retries):
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    alert_rule_create(
        tenant=tenant_a,
        actor=ACTOR,
        detection=Detection.BRUTE_FORCE,
        recipients="soc@acme.example",
        webhook_url=f"http://127.0.0.1:{port}/hook",
    )
    report = alerts_evaluate(tenant=tenant_a, now=NOW)
    assert report.sent == 1  # the e-mail went out; the webhook failure is reported, not retried forever
    assert AlertMark.objects.get().webhook_status == "failed after 3 attempts: the webhook could not be reached"
    assert "webhook for email=victim@example.com" in report.failures[0]


def test_recorded_values_cannot_break_the_mail_header(tenant_a, rule, mailoutbox):
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2), email="evil\r\nBcc: x@example.com")
    assert alerts_evaluate(tenant=tenant_a, now=NOW).sent == 1
    assert "\n" not in mailoutbox[0].subject and "\r" not in mailoutbox[0].subject
    assert mailoutbox[0].to == ["soc@acme.example"]


# ---------------------------------------------------------------------------------------------------- real SMTP


def test_alert_mail_reaches_a_real_smtp_server_once_per_recipient(tenant_a, smtp):
    """Through the production path: the logging backend, Django's SMTP transport and a real server on a socket."""
    alert_rule_create(
        tenant=tenant_a,
        actor=ACTOR,
        detection=Detection.BRUTE_FORCE,
        recipients="soc@acme.example, ciso@acme.example",
    )
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2), email="evil\r\nBcc: x@example.com")
    assert alerts_evaluate(tenant=tenant_a, now=NOW).sent == 1  # one finding alerted, to each recipient
    assert alerts_evaluate(tenant=tenant_a, now=NOW + dt.timedelta(minutes=10)).sent == 0  # once per finding
    assert sorted(rcpts for _, rcpts in smtp.envelopes) == [["ciso@acme.example"], ["soc@acme.example"]]
    for message in smtp.messages:
        subject = " ".join(message["Subject"].split())  # unfolded: a long header is folded onto lines in transit
        assert subject.startswith("[authmon alert] Brute force: 12 failed logins for evil Bcc: x@example.com")
        assert message["Bcc"] is None  # the header injection stayed text in the subject
        assert message["X-Authmon-Tenant"] is None  # authmon's own routing headers are not sent
        assert "/monitoring/events/?email=evil" in message.get_payload(decode=True).decode()
    assert sorted(alert_logs(tenant_a).values_list("recipient", "status")) == [
        ("ciso@acme.example", "sent"),
        ("soc@acme.example", "sent"),
    ]


def test_a_recipient_the_server_refuses_is_logged_failed_and_retried(tenant_a, smtp):
    alert_rule_create(tenant=tenant_a, actor=ACTOR, detection=Detection.BRUTE_FORCE, recipients="nobody@acme.example")
    brute_force(tenant_a, start=NOW - dt.timedelta(hours=2))
    report = alerts_evaluate(tenant=tenant_a, now=NOW)
    assert report.sent == 0
    assert report.failures and "nobody@acme.example" in report.failures[0]
    assert smtp.messages == []
    assert list(alert_logs(tenant_a).values_list("recipient", "status")) == [("nobody@acme.example", "failed")]
    assert not AlertMark.objects.exists()  # not marked as alerted: the next run tries again
    alerts_evaluate(tenant=tenant_a, now=NOW + dt.timedelta(minutes=10))
    assert alert_logs(tenant_a).count() == 2
