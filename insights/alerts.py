"""Services of alerting: alert rules (create, change, delete, rotate the webhook secret), evaluating a tenant's rules
as a job, and delivering each finding once per cooldown by e-mail and signed webhook.

Apart from :mod:`insights.services` because alerting is a job of its own, with outbound delivery, deduplication marks
and retries, built on top of evaluating detections; the insights page, tuning and reviews never need it. Writes are
keyword-only ``<thing>_<verb>`` services, and every change an admin makes is audited.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from audit.services import audit_record
from authmon.models import Tenant
from authmon.security import outbound
from authmon.tenancy import tenant_scope
from insights.detections import Finding
from insights.models import AlertMark, AlertRule, Detection, Severity, split_recipients, webhook_secret_new
from insights.services import findings_evaluate
from jobs.models import JobLog, JobStatus, JobType
from jobs.runner import console_runs, job_create, job_enqueue, stale_after
from notifications.models import Category, NotificationLog, NotificationStatus

logger = logging.getLogger(__name__)

ALERT_SUBJECT_PREFIX = "[authmon alert]"
LOGGING_EMAIL_BACKEND = "notifications.backends.LoggingEmailBackend"  # writes every mail to Notification Logs


def lookback() -> dt.timedelta:
    """How far back each periodic alert evaluation looks; deduplication makes the overlap harmless."""
    return dt.timedelta(hours=getattr(settings, "INSIGHTS_ALERT_LOOKBACK_HOURS", 7 * 24))


# --------------------------------------------------------------------------------------------------------------
# Alert rules
# --------------------------------------------------------------------------------------------------------------


def _rule_snapshot(rule: AlertRule) -> dict[str, Any]:
    return {
        "detection": rule.detection,
        "recipients": rule.recipient_list,
        "webhook_url": rule.webhook_url,
        "enabled": rule.enabled,
        "cooldown_minutes": rule.cooldown_minutes,
    }


def _rule_clean(rule: AlertRule, *, check_webhook: bool = True) -> None:
    """Validate a rule before saving. ``check_webhook`` resolves and checks the webhook address (see
    :mod:`authmon.security.outbound`); an update that leaves the address as it was skips it, so that a name that
    does not resolve at the moment does not block changing the recipients."""
    errors: dict[str, str] = {}
    validate = EmailValidator()
    for address in rule.recipient_list:
        try:
            validate(address)
        except ValidationError:
            errors["recipients"] = f"“{address}” is not an e-mail address."
            break
    if rule.webhook_url and check_webhook:
        try:
            outbound.outbound_url_validate(rule.webhook_url)
        except ValidationError as exc:
            errors["webhook_url"] = " ".join(exc.messages)
    if not rule.recipient_list and not rule.webhook_url:
        errors["recipients"] = "Give at least one recipient or a webhook address."
    if rule.detection not in Detection.values:
        errors["detection"] = "Choose a detection."
    if errors:
        raise ValidationError(errors)
    rule.full_clean(exclude=["tenant", "recipients"])


def alert_rule_create(
    *,
    tenant: Tenant,
    actor: str,
    detection: str,
    recipients: str,
    webhook_url: str = "",
    enabled: bool = True,
    cooldown_minutes: int = 60,
) -> AlertRule:
    """Create an alert rule for ``detection`` in ``tenant``. Audited (the webhook secret never is)."""
    rule = AlertRule(
        tenant=tenant,
        detection=detection,
        recipients=", ".join(split_recipients(recipients or "")),
        webhook_url=webhook_url.strip(),
        enabled=enabled,
        cooldown_minutes=cooldown_minutes,
        created_by=actor,
    )
    _rule_clean(rule)
    rule.save()
    audit_record(
        tenant=tenant,
        actor=actor,
        action="create AlertRule",
        target=f"alert rule {rule.pk}: {rule.get_detection_display()}",
        new=_rule_snapshot(rule),
    )
    return rule


def alert_rule_update(*, rule: AlertRule, actor: str, **changes: Any) -> AlertRule:
    """Change an alert rule's detection, recipients, webhook, cooldown or state. Audited with before and after."""
    old = _rule_snapshot(rule)
    allowed = {"detection", "recipients", "webhook_url", "enabled", "cooldown_minutes"}
    unknown = set(changes) - allowed
    if unknown:
        raise TypeError(f"Cannot change {', '.join(sorted(unknown))} of an alert rule.")
    for name, value in changes.items():
        if name == "recipients":
            value = ", ".join(split_recipients(value or ""))
        elif name == "webhook_url":
            value = value.strip()
        setattr(rule, name, value)
    _rule_clean(rule, check_webhook=rule.webhook_url != old["webhook_url"])
    new = _rule_snapshot(rule)
    if new == old:
        return rule
    rule.updated_at = timezone.now()
    rule.save()
    audit_record(
        tenant=rule.tenant,
        actor=actor,
        action="update AlertRule",
        target=f"alert rule {rule.pk}: {rule.get_detection_display()}",
        old=old,
        new=new,
    )
    return rule


def alert_rule_delete(*, rule: AlertRule, actor: str) -> None:
    """Delete an alert rule and its deduplication marks. Audited."""
    snapshot, tenant, pk, label = _rule_snapshot(rule), rule.tenant, rule.pk, rule.get_detection_display()
    rule.delete()
    audit_record(
        tenant=tenant, actor=actor, action="delete AlertRule", target=f"alert rule {pk}: {label}", old=snapshot
    )


def alert_rule_rotate_secret(*, rule: AlertRule, actor: str) -> AlertRule:
    """Give the rule a new webhook signing secret (the old one stops verifying at once). Audited, secret masked."""
    rule.webhook_secret = webhook_secret_new()
    rule.updated_at = timezone.now()
    rule.save(update_fields=["webhook_secret", "updated_at"])
    audit_record(
        tenant=rule.tenant,
        actor=actor,
        action="update AlertRule",
        target=f"alert rule {rule.pk}: {rule.get_detection_display()}",
        old={"webhook_secret": "***"},
        new={"webhook_secret__rotated": "***"},
        comments="Webhook signing secret rotated",
    )
    return rule


# --------------------------------------------------------------------------------------------------------------
# Alert delivery
# --------------------------------------------------------------------------------------------------------------


class AlertDeliveryError(Exception):
    """Some alerts of an evaluation could not be delivered; the job that ran it fails with this message."""


@dataclass
class AlertReport:
    """What one evaluation of a tenant's alert rules did."""

    rules: int = 0
    findings: int = 0
    sent: int = 0
    suppressed: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"Evaluated {self.rules} alert rule{'s' if self.rules != 1 else ''}: {self.findings} finding"
            f"{'s' if self.findings != 1 else ''}, {self.sent} alert{'s' if self.sent != 1 else ''} sent, "
            f"{self.suppressed} already alerted"
        )
        if self.failures:
            text += f"; {len(self.failures)} failed: " + "; ".join(self.failures[:5])
        return text + "."


def alerts_evaluate(
    *, tenant: Tenant, now: dt.datetime | None = None, progress: Callable[[int, int], None] | None = None
) -> AlertReport:
    """Evaluate the detections that ``tenant``'s enabled rules watch over the look-back window and alert once.

    One alert per finding per rule per cooldown, and only for evidence newer than the last alert (see
    :class:`~insights.models.AlertMark`).
    """
    now = now or timezone.now()
    rules = list(AlertRule.objects.for_tenant(tenant).filter(enabled=True).select_related("tenant"))
    report = AlertReport(rules=len(rules))
    if not rules:
        return report
    results = findings_evaluate(
        tenant=tenant, start=now - lookback(), end=now, only={rule.detection for rule in rules}, now=now
    )
    by_detection = {result.spec.name: result.findings for result in results}
    report.findings = sum(len(findings) for findings in by_detection.values())
    for index, rule in enumerate(rules, start=1):
        for finding in by_detection.get(rule.detection, []):
            outcome = alert_deliver(rule=rule, finding=finding, now=now)
            if outcome.sent:
                report.sent += 1
            else:
                report.suppressed += 1
            report.failures.extend(outcome.errors)
        if progress is not None:
            progress(index, len(rules))
    return report


EVALUATION_JOB_NAME = "security alert evaluation"


def alerts_evaluation_queue(*, tenant: Tenant, requested_by: str = "schedule") -> JobLog | None:
    """Queue an evaluation of ``tenant``'s alert rules as a job; none while another one is pending or running."""
    from insights.tasks import alerts_evaluate_run_task

    busy = JobLog.objects.for_tenant(tenant).filter(
        job_name=EVALUATION_JOB_NAME,
        latest_status__in=[JobStatus.PENDING, JobStatus.RUNNING],
        updated_at__gte=timezone.now() - stale_after(),  # a run lost with its broker must not block the next ones
        pk__in=console_runs(),  # an ingested record named like it is data, not a run: it must not block them either
    )
    if busy.exists():
        return None
    job = job_create(
        tenant=tenant,
        job_name=EVALUATION_JOB_NAME,
        job_type=JobType.EMAIL,  # the evaluation's output is alert e-mail
        details={"triggered_by": requested_by},
    )
    job_enqueue(job, alerts_evaluate_run_task)
    return job


def alerts_evaluation_queue_all() -> int:
    """Queue an evaluation for every tenant with at least one enabled alert rule; returns how many were queued."""
    queued = 0
    for tenant in Tenant.objects.order_by("pk"):
        with tenant_scope(tenant.pk):  # each tenant's rules are visible only with that tenant set
            if AlertRule.objects.filter(tenant=tenant, enabled=True).exists():
                queued += alerts_evaluation_queue(tenant=tenant) is not None
    return queued


@dataclass
class Delivery:
    """What alerting one finding under one rule did: whether it went out, and what failed."""

    sent: bool
    errors: list[str] = field(default_factory=list)


def alert_deliver(*, rule: AlertRule, finding: Finding, now: dt.datetime | None = None) -> Delivery:
    """Alert ``finding`` under ``rule`` unless it already did within the cooldown or has nothing new.

    The deduplication mark is claimed (committed) before the e-mail goes out, so a second worker evaluating at the
    same moment finds it taken; if the e-mail cannot be sent the claim is given back and the next evaluation tries
    again. The webhook is called afterwards, with retries.
    """
    now = now or timezone.now()
    try:
        with transaction.atomic():
            mark = (
                AlertMark.objects.select_for_update()
                .filter(tenant_id=rule.tenant_id, rule=rule, fingerprint=finding.fingerprint)
                .first()
            )
            if mark is not None and (
                now - mark.last_alerted_at < dt.timedelta(minutes=rule.cooldown_minutes)
                or finding.last_seen <= mark.last_evidence_at
            ):
                return Delivery(sent=False)
            previous = None
            if mark is None:
                mark = AlertMark(
                    tenant=rule.tenant,
                    rule=rule,
                    fingerprint=finding.fingerprint,
                    detection=finding.detection,
                    subject=finding.subject,
                    first_alerted_at=now,
                )
            else:
                previous = (mark.last_alerted_at, mark.last_evidence_at, mark.alerts_sent)
            mark.last_alerted_at, mark.last_evidence_at = now, finding.last_seen
            mark.alerts_sent += 1
            mark.save()
    except IntegrityError:
        return Delivery(sent=False)  # another worker claimed the same finding a moment ago
    if rule.recipient_list:
        try:
            alert_email_send(rule=rule, finding=finding, now=now)
        except (smtplib.SMTPException, OSError) as exc:
            logger.warning("Alert e-mail for %s failed: %s", finding.subject, exc)
            if previous is None:
                mark.delete()
            else:
                mark.last_alerted_at, mark.last_evidence_at, mark.alerts_sent = previous
                mark.save(update_fields=["last_alerted_at", "last_evidence_at", "alerts_sent"])
            return Delivery(sent=False, errors=[f"e-mail for {finding.subject}: {exc}"])
    errors = []
    if rule.webhook_url:
        status = webhook_deliver(rule=rule, finding=finding, now=now)
        AlertMark.objects.filter(pk=mark.pk).update(webhook_status=status[:300])
        if not status.startswith("delivered"):
            errors.append(f"webhook for {finding.subject}: {status}")
    return Delivery(sent=True, errors=errors)


def _alert_text(finding: Finding, tenant: Tenant) -> tuple[str, str]:
    base = getattr(settings, "AUTHMON_BASE_URL", "").rstrip("/")
    tz = tenant.tz
    # Titles carry recorded values (e-mails, user agents): no line breaks may reach a mail header.
    subject = " ".join(f"{ALERT_SUBJECT_PREFIX} {finding.detection_label}: {finding.title}".split())[:500]
    body = (
        f"authmon found {finding.detection_label.lower()} in {tenant.name}.\n\n"
        f"{finding.title}\n{finding.summary}\n\n"
        f"Severity: {Severity(finding.severity).label}\n"
        f"Seen: {finding.first_seen.astimezone(tz):%Y-%m-%d %H:%M} – {finding.last_seen.astimezone(tz):%Y-%m-%d %H:%M}"
        f" ({tenant.timezone})\n"
        f"Evidence: {base}{finding.evidence_url}\n\n"
        "You receive this because an alert rule of your tenant names you. Tenant admins change alert rules under "
        "Monitoring > Insights > Alert rules."
    )
    return subject, body


def _logging_backend_active() -> bool:
    return settings.EMAIL_BACKEND == LOGGING_EMAIL_BACKEND


def alert_email_send(*, rule: AlertRule, finding: Finding, now: dt.datetime) -> None:
    """Send the alert to each recipient (one message each, so each has its own delivery status) and make it show in
    Notification Logs with category alert.

    With the logging e-mail backend configured, that backend records every message (pending, then sent or failed);
    with any other backend, this records them itself.
    """
    subject, body = _alert_text(finding, rule.tenant)
    for recipient in rule.recipient_list:
        if _logging_backend_active():
            from notifications.services import notification_send

            notification_send(tenant=rule.tenant, to=[recipient], subject=subject, body=body, category=Category.ALERT)
            continue
        try:
            send_mail(subject, body, None, [recipient], fail_silently=False)
        except (smtplib.SMTPException, OSError):
            _notification_record(rule=rule, recipient=recipient, subject=subject, body=body, now=now, failed=True)
            raise
        _notification_record(rule=rule, recipient=recipient, subject=subject, body=body, now=now, failed=False)


def _notification_record(
    *, rule: AlertRule, recipient: str, subject: str, body: str, now: dt.datetime, failed: bool
) -> NotificationLog:
    return NotificationLog.objects.create(
        tenant=rule.tenant,
        subject=subject,
        recipient=recipient[:254],
        timestamp=now,
        status=NotificationStatus.FAILED if failed else NotificationStatus.SENT,
        category=Category.ALERT,
        body=body,
    )


def webhook_payload(*, rule: AlertRule, finding: Finding, now: dt.datetime) -> bytes:
    """The JSON body of a webhook call: the finding, its evidence link and its fingerprint (stable per finding)."""
    base = getattr(settings, "AUTHMON_BASE_URL", "").rstrip("/")
    document = {
        "type": "authmon.alert",
        "tenant": rule.tenant.slug,
        "rule_id": rule.pk,
        "detection": finding.detection,
        "severity": finding.severity,
        "title": finding.title,
        "summary": finding.summary,
        "key": finding.key,
        "count": finding.count,
        "first_seen": finding.first_seen.isoformat(),
        "last_seen": finding.last_seen.isoformat(),
        "evidence_url": f"{base}{finding.evidence_url}",
        "fingerprint": finding.fingerprint,
        "sent_at": now.isoformat(),
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode()


def webhook_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + HMAC-SHA256 of ``timestamp.body`` with the rule's secret; receivers recompute and compare."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_deliver(*, rule: AlertRule, finding: Finding, now: dt.datetime) -> str:
    """POST the signed alert to the rule's webhook, retrying server errors and timeouts with backoff.

    Goes through :func:`authmon.security.outbound.outbound_post`: an address that is not allowed is refused (and not
    retried), a redirect is not followed. Returns a short status for the rule page, ``delivered (HTTP 200) after
    1 attempt`` or what went wrong on the last attempt, in words that never carry a connection error's detail.
    """
    body = webhook_payload(rule=rule, finding=finding, now=now)
    attempts = max(1, int(getattr(settings, "INSIGHTS_WEBHOOK_ATTEMPTS", 3)))
    backoff = float(getattr(settings, "INSIGHTS_WEBHOOK_BACKOFF_SECONDS", 1.0))
    timeout = float(getattr(settings, "INSIGHTS_WEBHOOK_TIMEOUT_SECONDS", 5.0))
    status = "not attempted"
    for attempt in range(1, attempts + 1):
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "authmon-alerts/1",
            "X-Authmon-Event": "alert",
            "X-Authmon-Timestamp": stamp,
            "X-Authmon-Signature": webhook_signature(secret=rule.webhook_secret, timestamp=stamp, body=body),
            "X-Authmon-Delivery": f"{finding.fingerprint[:16]}-{int(now.timestamp())}",
        }
        try:
            code = outbound.outbound_post(rule.webhook_url, body=body, headers=headers, timeout=timeout).status
        except outbound.OutboundRefused as exc:
            return str(exc)
        except outbound.OutboundRedirect as exc:
            return f"rejected: {exc}"
        except outbound.OutboundError as exc:
            status = str(exc)
            code = None
        if code is not None:
            if 200 <= code < 300:
                return f"delivered (HTTP {code}) after {attempt} attempt{'s' if attempt > 1 else ''}"
            status = f"HTTP {code}"
            if code < 500 and code != 429:
                return f"rejected ({status})"  # the receiver said no; repeating will not change its mind
        if attempt < attempts:
            time.sleep(backoff * 2 ** (attempt - 1))
    return f"failed after {attempts} attempts: {status}"
