"""authmon's own e-mail, recorded in Notification Logs, and bounces reported back through the API.

Every message sent through :class:`notifications.backends.LoggingEmailBackend` becomes a NotificationLog row:
``pending`` before it is handed to the transport, then ``sent`` or ``failed``. A later bounce (reported with
``POST /api/v1/notifications/bounces/``) turns it ``bounced``.

Where the error goes: DESIGN section 5 gives notifications no error field, and the identity service's own records
carry their failure details in the body too, so the SMTP error (or the bounce reason) is appended to ``body`` below a
marker line (:data:`NOTE_MARK`). It shows on the details page, is searchable ("body contains 'mailbox full'") and is
exported with the record, without changing the record's fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import make_msgid
from typing import Any

from django.core.mail import EmailMessage
from django.core.mail.utils import DNS_NAME
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError, field_validator, model_validator

from authmon.models import Tenant, User
from notifications.models import Category, NotificationLog, NotificationStatus

NOTE_MARK = "-- authmon --"
TENANT_HEADER = "X-Authmon-Tenant"  # slug; taken off the message before it is sent
CATEGORY_HEADER = "X-Authmon-Category"


def _stamp() -> str:
    return timezone.now().isoformat(timespec="seconds").replace("+00:00", "Z")


def _with_note(body: str, note: str) -> str:
    return f"{body.rstrip()}\n\n{NOTE_MARK}\n{note}" if body.strip() else f"{NOTE_MARK}\n{note}"


def _pop_header(message: EmailMessage, name: str) -> str:
    for key in list(message.extra_headers):
        if key.lower() == name.lower():
            return str(message.extra_headers.pop(key)).strip()
    return ""


def _message_id(message: EmailMessage) -> str:
    """The message's Message-ID, fixed now so that the log row and the sent message carry the same one."""
    for key, value in message.extra_headers.items():
        if key.lower() == "message-id":
            return str(value)
    value = make_msgid(domain=DNS_NAME)
    message.extra_headers["Message-ID"] = value
    return value


def notification_tenant(message: EmailMessage) -> Tenant | None:
    """Whose Notification Logs a message belongs in: ``message.authmon_tenant`` (a Tenant or slug), else the
    ``X-Authmon-Tenant`` header (a slug), else the tenant of the first recipient who is a console user."""
    explicit = getattr(message, "authmon_tenant", None) or _pop_header(message, TENANT_HEADER)
    if isinstance(explicit, Tenant):
        return explicit
    if explicit:
        return Tenant.objects.filter(slug=explicit).first()
    addresses = [a for a in (*message.to, *message.cc, *message.bcc) if a]
    if not addresses:
        return None
    condition = Q()
    for address in addresses[:20]:
        condition |= Q(email__iexact=_bare(address))
    users = {u.email.lower(): u.tenant for u in User.objects.filter(condition).select_related("tenant")}
    return next((users[_bare(a).lower()] for a in addresses if _bare(a).lower() in users), None)


def _bare(address: str) -> str:
    from email.utils import parseaddr

    return parseaddr(address)[1] or address


def notification_log_open(*, message: EmailMessage) -> NotificationLog | None:
    """Record a message as ``pending`` before it is sent; None when it belongs to no tenant (nowhere to show it)."""
    tenant = notification_tenant(message)
    category = getattr(message, "authmon_category", None) or _pop_header(message, CATEGORY_HEADER) or Category.SYSTEM
    if category not in Category.values:
        category = Category.SYSTEM
    message_id = _message_id(message)
    if tenant is None:
        return None
    external_id = message_id.strip("<>")[:200]
    values = {
        "subject": str(message.subject)[:500],
        "recipient": (message.to[0] if message.to else "")[:254],
        "cc": ", ".join(message.cc),
        "bcc": ", ".join(message.bcc),
        "timestamp": timezone.now(),
        "status": NotificationStatus.PENDING,
        "category": category,
        "body": str(message.body),
    }
    # The same message object sent again (a retry) keeps its Message-ID: it is the same notification.
    log, _created = NotificationLog.objects.update_or_create(tenant=tenant, external_id=external_id, defaults=values)
    return log


def notification_log_close(*, log: NotificationLog, error: str = "") -> NotificationLog:
    """Record the outcome: ``sent``, or ``failed`` with the transport's error appended to the body."""
    if error:
        log.status = NotificationStatus.FAILED
        log.body = _with_note(log.body, f"Delivery failed at {_stamp()}: {error}")
    else:
        log.status = NotificationStatus.SENT
    log.save(update_fields=["status", "body"])
    return log


def notification_send(
    *,
    tenant: Tenant,
    to: list[str],
    subject: str,
    body: str,
    category: str = Category.SYSTEM,
    fail_silently: bool = False,
) -> int:
    """Send one e-mail from authmon (export ready, alerts, ...) through the configured backend.

    With the default ``LoggingEmailBackend`` it is recorded in ``tenant``'s Notification Logs under ``category``;
    a failure is recorded there too, even when ``fail_silently`` keeps it from raising.
    """
    message = EmailMessage(subject=subject, body=body, to=to)
    message.authmon_tenant = tenant  # type: ignore[attr-defined]
    message.authmon_category = category  # type: ignore[attr-defined]
    return message.send(fail_silently=fail_silently)


# ---------------------------------------------------------------------------------------------------- bounces


class BounceValidationError(ValueError):
    """A bounce report that cannot be applied; ``errors`` are ``{"index", "field", "message"}`` dicts."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} invalid bounce(s)")
        self.errors = errors


class BounceIn(BaseModel):
    """One bounce: the notification by ``id`` or ``external_id`` (for authmon's own mail, its Message-ID)."""

    model_config = ConfigDict(extra="forbid")

    id: StrictInt | None = Field(default=None, ge=1, le=2**63 - 1)
    external_id: str | None = Field(default=None, min_length=1, max_length=200)
    reason: str = Field(default="", max_length=2000)

    @field_validator("external_id", "reason")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is not None:
            if "\x00" in value:
                raise ValueError("text must not contain NUL characters")
            value.encode("utf-8")  # an unpaired surrogate raises UnicodeEncodeError, a ValueError
        return value

    @model_validator(mode="after")
    def _one_key(self) -> BounceIn:
        if (self.id is None) == (self.external_id is None):
            raise ValueError("give exactly one of id or external_id")
        return self


@dataclass
class BounceResult:
    bounced: int = 0
    already_bounced: int = 0
    not_found: list[int] = field(default_factory=list)  # indexes of the reports that matched no notification

    def as_dict(self) -> dict[str, Any]:
        return {"bounced": self.bounced, "already_bounced": self.already_bounced, "not_found": self.not_found}


def _validate_bounces(items: Iterable[Any]) -> list[BounceIn]:
    cleaned: list[BounceIn] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(items):
        if not isinstance(raw, Mapping):
            errors.append({"index": index, "field": None, "message": "Each bounce must be a JSON object."})
            continue
        try:
            cleaned.append(BounceIn.model_validate(raw))
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_context=False):
                loc = err.get("loc") or ()
                message = str(err.get("msg", "Invalid value.")).removeprefix("Value error, ")
                errors.append({"index": index, "field": str(loc[0]) if loc else None, "message": message})
    if errors:
        raise BounceValidationError(errors)
    return cleaned


def notifications_bounce(*, tenant: Tenant, items: list[Any]) -> BounceResult:
    """Mark notifications of ``tenant`` bounced, each with its reason appended to the body. All reports are
    checked first (any invalid one rejects the lot); reports that match no notification are listed, not errors."""
    bounces = _validate_bounces(items)
    result = BounceResult()
    logs = NotificationLog.objects.for_tenant(tenant)
    with transaction.atomic():
        for index, bounce in enumerate(bounces):
            if bounce.id is not None:
                found = logs.filter(pk=bounce.id)
            else:
                key = bounce.external_id or ""
                found = logs.filter(external_id__in={key, key.strip().strip("<>")})
            log = found.select_for_update().first()
            if log is None:
                result.not_found.append(index)
                continue
            if log.status == NotificationStatus.BOUNCED:
                result.already_bounced += 1
                continue
            log.status = NotificationStatus.BOUNCED
            log.body = _with_note(log.body, f"Bounced, reported at {_stamp()}: {bounce.reason or 'no reason given'}")
            log.save(update_fields=["status", "body"])
            result.bounced += 1
    return result
