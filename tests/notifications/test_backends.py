"""LoggingEmailBackend: real delivery to a local SMTP server, and a Notification Logs record for every message."""

from __future__ import annotations

import smtplib
from typing import ClassVar

import pytest
from django.core import mail
from django.core.mail import EmailMessage, get_connection, send_mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from authmon import registry
from authmon.models import Role
from notifications.models import NotificationLog
from notifications.services import NOTE_MARK, notification_send
from tests.authmon.test_log_views import login
from tests.samples import sample_record
from tests.smtp import LOGGING_BACKEND, free_port


def only_log(**filters) -> NotificationLog:
    return NotificationLog.objects.get(**filters)


def test_mail_to_a_console_user_is_delivered_and_logged_in_their_tenant(smtp, tenant_a, tenant_admin):
    assert send_mail("Hello", "Body text", "authmon@example.test", [tenant_admin.email]) == 1
    assert len(smtp.messages) == 1
    delivered = smtp.messages[0]
    assert delivered["Subject"] == "Hello"
    assert smtp.envelopes[0] == ("authmon@example.test", [tenant_admin.email])
    log = only_log(tenant=tenant_a)
    assert (log.status, log.recipient, log.subject, log.category) == ("sent", tenant_admin.email, "Hello", "system")
    assert log.body == "Body text"
    assert log.external_id == delivered["Message-ID"].strip("<>")  # how a bounce finds it later


def test_alert_with_cc_and_bcc_for_an_explicit_tenant(smtp, tenant_b):
    message = EmailMessage(
        "Suspicious sign-in",
        "Someone signed in",
        to=["ann@ext.example"],
        cc=["sec@ext.example"],
        bcc=["audit@ext.example"],
    )
    message.authmon_tenant = tenant_b
    message.authmon_category = "alert"
    assert message.send() == 1
    assert sorted(smtp.envelopes[0][1]) == ["ann@ext.example", "audit@ext.example", "sec@ext.example"]
    log = only_log(tenant=tenant_b)
    assert (log.category, log.cc, log.bcc, log.status) == ("alert", "sec@ext.example", "audit@ext.example", "sent")


def test_tenant_and_category_headers_are_used_and_not_sent(smtp, tenant_b):
    message = EmailMessage(
        "Welcome", "Hi", to=["new@ext.example"], headers={"X-Authmon-Tenant": "globex", "X-Authmon-Category": "welcome"}
    )
    message.send()
    assert only_log(tenant=tenant_b).category == "welcome"
    assert smtp.messages[0]["X-Authmon-Tenant"] is None and smtp.messages[0]["X-Authmon-Category"] is None


def test_notification_send_records_the_category(smtp, tenant_a):
    assert notification_send(tenant=tenant_a, to=["ops@ext.example"], subject="Alert", body="b", category="alert") == 1
    assert only_log(tenant=tenant_a).category == "alert"
    assert smtp.messages[0]["Subject"] == "Alert"


def test_a_refused_recipient_is_recorded_failed_with_the_smtp_error(smtp, tenant_a):
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        notification_send(tenant=tenant_a, to=["nobody@ext.example"], subject="Reset", body="Your link")
    log = only_log(tenant=tenant_a)
    assert log.status == "failed"
    assert log.body.startswith("Your link\n\n" + NOTE_MARK)
    assert "550" in log.body and "User unknown" in log.body
    assert smtp.messages == []


def test_fail_silently_still_records_the_failure(smtp, tenant_a):
    assert notification_send(tenant=tenant_a, to=["nobody@ext.example"], subject="s", body="b", fail_silently=True) == 0
    assert only_log(tenant=tenant_a).status == "failed"


def test_an_smtp_server_that_is_down_is_recorded(smtp, settings, tenant_a, tenant_admin):
    settings.EMAIL_PORT = free_port()  # nothing listens there
    assert send_mail("Down", "b", None, [tenant_admin.email], fail_silently=True) == 0
    log = only_log(tenant=tenant_a)
    assert log.status == "failed" and "ConnectionRefusedError" in log.body
    with pytest.raises(ConnectionRefusedError):
        send_mail("Down again", "b", None, [tenant_admin.email])
    assert only_log(subject="Down again").status == "failed"


def test_one_bad_message_in_a_batch(smtp, tenant_a):
    good = EmailMessage("good", "b", to=["ann@ext.example"])
    bad = EmailMessage("bad", "b", to=["nobody@ext.example"])
    later = EmailMessage("later", "b", to=["bob@ext.example"])
    for m in (good, bad, later):
        m.authmon_tenant = tenant_a
    connection = get_connection(LOGGING_BACKEND, fail_silently=True)
    assert connection.send_messages([good, bad, later]) == 2
    assert dict(NotificationLog.objects.values_list("subject", "status")) == {
        "good": "sent",
        "bad": "failed",
        "later": "sent",
    }
    # without fail_silently the error is raised and nothing stays pending
    NotificationLog.objects.all().delete()
    fresh = [EmailMessage(s, "b", to=[to]) for s, to in (("x", "nobody@ext.example"), ("y", "c@ext.example"))]
    for m in fresh:
        m.authmon_tenant = tenant_a
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        get_connection(LOGGING_BACKEND).send_messages(fresh)
    assert dict(NotificationLog.objects.values_list("subject", "status")) == {"x": "failed", "y": "failed"}


def test_mail_for_no_tenant_is_sent_and_logged_as_a_warning(smtp, db, caplog):
    assert send_mail("Stranger", "b", None, ["stranger@ext.example"]) == 1
    assert len(smtp.messages) == 1
    assert not NotificationLog.objects.exists()
    assert "belongs to no tenant" in caplog.text


class PeekingBackend(LocmemBackend):
    """A transport that notes the Notification Logs status of each message at the moment it is handed over."""

    seen: ClassVar[list[str]] = []

    def send_messages(self, messages):
        for m in messages:
            external_id = m.extra_headers["Message-ID"].strip("<>")
            PeekingBackend.seen.append(NotificationLog.objects.get(external_id=external_id).status)
        return super().send_messages(messages)


def test_pending_before_sending_then_sent_with_any_transport(settings, tenant_a):
    settings.EMAIL_BACKEND = LOGGING_BACKEND
    settings.AUTHMON_EMAIL_TRANSPORT = f"{__name__}.PeekingBackend"
    PeekingBackend.seen.clear()
    notification_send(tenant=tenant_a, to=["ann@ext.example"], subject="Peek", body="b")
    assert PeekingBackend.seen == ["pending"]
    assert only_log(subject="Peek").status == "sent"
    assert mail.outbox[-1].subject == "Peek"


def test_the_export_ready_mail_goes_through_it(
    smtp, client, tenant_a, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.AUTHMON_EXPORT_DIR = tmp_path
    events = registry.get("events")
    for i in range(2):
        sample_record(events, tenant_a, f"e{i}")
    admin = login(client, tenant_a, Role.TENANT_ADMIN)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(f"{events.export_url}?format=csv&limit=60000").status_code == 302
    assert [m["Subject"] for m in smtp.messages] == ["Your Event Logs export is ready"]
    log = only_log(tenant=tenant_a, recipient=admin.email)
    assert (log.status, log.category) == ("sent", "system")
    assert "2 records were exported as CSV" in log.body
