"""Pushing revocations to the identity service's revocation webhook.

Every revocation (made in the console, or arriving through the API as a status change) is also in the feed
``GET /api/v1/revocations/``; when the tenant has an enabled webhook it is pushed as well:

- :func:`revocations_queue` records a pending :class:`RevocationDelivery` per revoked row and queues one job run
  (job type "sync") that carries the whole batch;
- each run POSTs the batch, signed with HMAC-SHA256 (:func:`webhook_signature`), and writes its own JobLog;
- :func:`revocations_delivery_settle` then marks the batch delivered, or queues the next attempt after an exponential
  backoff, or after ``AUTHMON_WEBHOOK_MAX_ATTEMPTS`` runs marks it failed. A failed push loses nothing: the
  revocation is still in the feed, which the identity service polls.

Every push goes through :mod:`authmon.security.outbound`: the URL is checked when it is configured and each address
again when it is sent to, redirects are not followed, and job records and pages show a generic reason, never the
connection error (the detail is in the server log).

Without a broker (embedded mode) runs are in-process and the backoff is not waited for: retries follow at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from audit.services import audit_record
from authmon.models import Tenant
from authmon.security import outbound
from authmon.security.outbound import display_url
from jobs.models import JobLog, JobStatus
from jobs.runner import JobContext, job_create
from sessions_grants.models import DeliveryStatus, Grant, RevocationDelivery, RevocationWebhook, Session

JOB_NAME = "revocation webhook delivery"
SIGNATURE_HEADER = "X-Authmon-Signature"
USER_AGENT = "authmon-revocation-webhook/1"
_MODELS: dict[str, type[Session] | type[Grant]] = {"session": Session, "grant": Grant}


class WebhookDeliveryError(Exception):
    """The webhook did not accept a delivery (unreachable, timed out, or answered other than 2xx)."""


def max_attempts() -> int:
    return int(getattr(settings, "AUTHMON_WEBHOOK_MAX_ATTEMPTS", 6))


def backoff_seconds(attempt: int) -> int:
    """Wait before attempt ``attempt + 1``: base, 2 x base, 4 x base, ... capped at one hour."""
    base = int(getattr(settings, "AUTHMON_WEBHOOK_BACKOFF_SECONDS", 30))
    return int(min(base * 2 ** (attempt - 1), 3600))


def webhook_signature(*, secret: str, body: bytes) -> str:
    """The ``X-Authmon-Signature`` value: ``sha256=`` and the hex HMAC-SHA256 of the raw body under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


# ------------------------------------------------------------------------------------------------ configuration


def _webhook_state(webhook: RevocationWebhook | None) -> dict[str, Any] | None:
    if webhook is None:
        return None
    return {"url": display_url(webhook.url), "enabled": webhook.enabled, "secret": "***"}


def webhook_configure(
    *,
    tenant: Tenant,
    actor: str,
    url: str | None = None,
    secret: str | None = None,
    rotate_secret: bool = False,
    enabled: bool | None = None,
    client_actor: str = "manage.py",
) -> RevocationWebhook:
    """Create or change the tenant's revocation webhook, audited. A new webhook gets a random secret unless given.

    Raises ``django.core.exceptions.ValidationError`` for a URL that is not http(s) or whose address is not allowed
    (:func:`authmon.security.outbound.outbound_url_validate`).
    """
    with transaction.atomic():
        webhook = RevocationWebhook.objects.select_for_update().filter(tenant=tenant).first()
        old = _webhook_state(webhook)
        created = webhook is None
        if webhook is None:
            if not url:
                raise ValueError("A new webhook needs a URL.")
            webhook = RevocationWebhook(tenant=tenant)
        if url:
            webhook.url = url
        if secret:
            webhook.secret = secret
        elif rotate_secret or created:
            webhook.secret = secrets.token_urlsafe(32)
        if enabled is not None:
            webhook.enabled = enabled
        webhook.updated_at = timezone.now()
        problem: ValidationError | None = None
        if url:
            try:
                outbound.outbound_url_validate(webhook.url)
            except ValidationError as exc:
                problem = exc
        if problem is not None and problem.code == "not_allowed":
            # Before the model's URL check, so that 0x7f000001 is refused as the address it is.
            raise ValidationError({"url": problem.messages})
        webhook.full_clean(exclude=["tenant"])
        if problem is not None:
            raise ValidationError({"url": problem.messages})
        webhook.save()
        new = _webhook_state(webhook)
        secret_changed = bool(secret) or rotate_secret
        if created or old != new or secret_changed:
            audit_record(
                tenant=tenant,
                actor=actor,
                action=f"{'create' if created else 'update'} TenantSettings",
                target="revocation webhook",
                old=old,
                new={**new, "secret_rotated": True} if secret_changed and not created else new,
                comments="Revocation webhook configured",
                client_actor=client_actor,
            )
    return webhook


def webhook_remove(*, tenant: Tenant, actor: str, client_actor: str = "manage.py") -> bool:
    """Delete the tenant's webhook (audited). Deliveries still pending end failed at their next attempt."""
    webhook = RevocationWebhook.objects.filter(tenant=tenant).first()
    if webhook is None:
        return False
    audit_record(
        tenant=tenant,
        actor=actor,
        action="delete TenantSettings",
        target="revocation webhook",
        old=_webhook_state(webhook),
        comments="Revocation webhook removed",
        client_actor=client_actor,
    )
    webhook.delete()
    return True


def webhook_for(tenant: Tenant) -> RevocationWebhook | None:
    return RevocationWebhook.objects.filter(tenant=tenant).first()


# ------------------------------------------------------------------------------------------------------ queueing


def revocation_item(record: Session | Grant) -> dict[str, Any]:
    """One revocation as the webhook body and the feed ``GET /api/v1/revocations/`` both show it."""
    item: dict[str, Any] = {"type": record._meta.model_name, "id": record.pk}
    if isinstance(record, Grant):
        item["grant_id"] = record.grant_id
    item.update(session_id=record.session_id, user_id=record.user_id, email=record.email)
    revoked_at = record.revoked_at
    item["revoked_at"] = revoked_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z") if revoked_at else None
    return item


def _ids_by_type(records: Iterable[Session | Grant]) -> dict[str, list[int]]:
    ids: dict[str, list[int]] = {}
    for record in records:
        ids.setdefault(record._meta.model_name, []).append(record.pk)  # type: ignore[arg-type]
    return ids


def _enqueue(job: JobLog, *, countdown: int = 0) -> None:
    # jobs.runner.job_enqueue, plus the countdown that spaces out retries.
    from sessions_grants.tasks import revocations_deliver_task

    transaction.on_commit(
        lambda: revocations_deliver_task.apply_async(
            args=[job.tenant_id, job.pk], task_id=job.job_id, countdown=countdown
        )
    )


def revocations_queue(*, tenant: Tenant, records: Iterable[Session | Grant]) -> JobLog | None:
    """Queue the push of these revoked rows to the tenant's webhook, as one job run; None when there is nothing
    to push (no enabled webhook, or every row was already queued by someone else).

    Call it in the transaction that revoked them: the pending state commits with the revocation, and the run
    starts only after the commit.
    """
    webhook = RevocationWebhook.objects.filter(tenant=tenant, enabled=True).first()
    if webhook is None:
        return None
    records = list(records)
    if not records:
        return None
    batch = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        # A row revoked again after the identity service reactivated it is news again: its finished delivery
        # joins this push. One still pending is left to its own push, which sends the row as it is now.
        for record_type, ids in _ids_by_type(records).items():
            RevocationDelivery.objects.filter(record_type=record_type, record_id__in=ids).exclude(
                status=DeliveryStatus.PENDING
            ).update(batch=batch, status=DeliveryStatus.PENDING, attempts=0, last_error="", updated_at=now)
        # A row is pushed once at a time: the unique (record_type, record_id) lets a concurrent push win quietly.
        RevocationDelivery.objects.bulk_create(
            [
                RevocationDelivery(
                    tenant=tenant, record_type=r._meta.model_name, record_id=r.pk, batch=batch, created_at=now
                )
                for r in records
            ],
            ignore_conflicts=True,
        )
        count = RevocationDelivery.objects.filter(batch=batch).count()
        if not count:
            return None
        job = job_create(
            tenant=tenant,
            job_name=JOB_NAME,
            job_type="sync",
            details={
                "batch": batch,
                "revocations": count,
                "attempt": 1,
                "max_attempts": max_attempts(),
                "webhook": display_url(webhook.url),
            },
        )
        RevocationDelivery.objects.filter(batch=batch).update(job_id=job.job_id, job_pk=job.pk)
        _enqueue(job)
    return job


def revocations_after_ingest(*, kind: Any, tenant: Tenant, since: dt.datetime) -> JobLog | None:
    """API hook: push the rows that an ingested batch revoked (``revoked_at`` set at or after ``since``)."""
    model = kind.model
    if model not in _MODELS.values():
        return None
    pushed = RevocationDelivery.objects.filter(record_type=model._meta.model_name, record_id=OuterRef("pk"))
    revoked = model.objects.for_tenant(tenant).filter(status="revoked", revoked_at__gte=since).filter(~Exists(pushed))
    return revocations_queue(tenant=tenant, records=revoked.order_by("revoked_at", "pk"))


# ------------------------------------------------------------------------------------------------------ delivery


def _batch_records(batch: str) -> list[Session | Grant]:
    ids: dict[str, list[int]] = {}
    for record_type, record_id in RevocationDelivery.objects.filter(batch=batch).values_list(
        "record_type", "record_id"
    ):
        ids.setdefault(record_type, []).append(record_id)
    records: list[Session | Grant] = []
    for record_type, model in _MODELS.items():
        if ids.get(record_type):
            records.extend(model.objects.filter(pk__in=ids[record_type]).order_by("revoked_at", "pk"))
    return records


def delivery_body(*, job: JobLog, tenant: Tenant, records: list[Session | Grant]) -> bytes:
    """The JSON body of one delivery attempt (see the README for its shape)."""
    payload = {
        "type": "revocations",
        "tenant": tenant.slug,
        "delivery_id": job.details["batch"],
        "attempt": job.details.get("attempt", 1),
        "sent_at": timezone.now().astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        "revocations": [revocation_item(r) for r in records],
    }
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def revocations_deliver(context: JobContext) -> str:
    """The work of one delivery run: POST the batch to the webhook. Raises :class:`WebhookDeliveryError` if the
    webhook does not answer 2xx, which fails the run (the runner keeps the message and stack trace)."""
    job = context.job
    webhook = RevocationWebhook.objects.filter(tenant=job.tenant).first()
    if webhook is None or not webhook.enabled:
        raise WebhookDeliveryError("The tenant's revocation webhook was removed or disabled; nothing was sent.")
    records = _batch_records(job.details["batch"])
    body = delivery_body(job=job, tenant=job.tenant, records=records)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Authmon-Event": "revocations",
        "X-Authmon-Delivery": job.details["batch"],
        "X-Authmon-Attempt": str(job.details.get("attempt", 1)),
        SIGNATURE_HEADER: webhook_signature(secret=webhook.secret, body=body),
    }
    timeout = float(getattr(settings, "AUTHMON_WEBHOOK_TIMEOUT_SECONDS", 10))
    target = display_url(webhook.url)
    try:
        status = outbound.outbound_post(webhook.url, body=body, headers=headers, timeout=timeout).status
    except outbound.OutboundError as exc:
        # Not chained: the job record keeps this stack trace, and the connection error is for the server log only.
        raise WebhookDeliveryError(f"{target}: {exc}.") from None
    if not 200 <= status < 300:
        raise WebhookDeliveryError(f"{target} answered HTTP {status}.")
    return f"Delivered {len(records)} revocation{'s' if len(records) != 1 else ''} to {target} (HTTP {status})."


def revocations_delivery_settle(*, job: JobLog) -> JobLog | None:
    """After a run: mark its batch delivered, or queue the next attempt with backoff, or give up after the last.

    Returns the job of the next attempt, if one was queued.
    """
    batch = job.details["batch"]
    attempt = int(job.details.get("attempt", 1))
    last = int(job.details.get("max_attempts", max_attempts()))
    deliveries = RevocationDelivery.objects.filter(batch=batch)
    now = timezone.now()
    if job.latest_status == JobStatus.SUCCESS:
        deliveries.update(status=DeliveryStatus.DELIVERED, attempts=attempt, last_error="", updated_at=now)
        return None
    webhook_usable = RevocationWebhook.objects.filter(tenant=job.tenant, enabled=True).exists()
    if attempt >= last or not webhook_usable:
        deliveries.update(status=DeliveryStatus.FAILED, attempts=attempt, last_error=job.message, updated_at=now)
        JobLog.objects.filter(pk=job.pk).update(
            message=f"{job.message} Gave up after attempt {attempt} of {last}; the revocations stay in "
            "GET /api/v1/revocations/ for the identity service to poll."
        )
        return None
    delay = backoff_seconds(attempt)
    with transaction.atomic():
        retry = job_create(
            tenant=job.tenant,
            job_name=JOB_NAME,
            job_type="sync",
            details={
                **{k: v for k, v in job.details.items() if k not in {"started_at", "duration_seconds", "progress"}},
                "attempt": attempt + 1,
                "retry_of": job.job_id,
                "not_before": (now + dt.timedelta(seconds=delay)).isoformat(),
            },
            message=f"Queued: attempt {attempt + 1} of {last} in {delay} s",
        )
        deliveries.update(
            attempts=attempt, last_error=job.message, job_id=retry.job_id, job_pk=retry.pk, updated_at=now
        )
        JobLog.objects.filter(pk=job.pk).update(
            message=f"{job.message} Retrying in {delay} s as job {retry.job_id} (attempt {attempt + 1} of {last})."
        )
        _enqueue(retry, countdown=delay)
    return retry


def deliveries_attach(records: Iterable[Any]) -> None:
    """Load the webhook delivery of many sessions or grants in one query per type (for lists)."""
    by_type: dict[str, dict[int, Any]] = {}
    for record in records:
        by_type.setdefault(record._meta.model_name, {})[record.pk] = record
    for record_type, rows in by_type.items():
        found = {
            d.record_id: d for d in RevocationDelivery.objects.filter(record_type=record_type, record_id__in=list(rows))
        }
        for pk, record in rows.items():
            record.__dict__["webhook_delivery"] = found.get(pk)  # fills the cached_property
