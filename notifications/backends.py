"""The e-mail backend of authmon: sends through a real transport and records every message in Notification Logs."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

from notifications.services import notification_log_close, notification_log_open

logger = logging.getLogger(__name__)

DEFAULT_TRANSPORT = "django.core.mail.backends.smtp.EmailBackend"


class LoggingEmailBackend(BaseEmailBackend):
    """Wraps the transport named by ``AUTHMON_EMAIL_TRANSPORT`` (Django's SMTP backend with the ``EMAIL_*``
    settings by default; the console backend in the embedded mode) and writes each message to its tenant's
    Notification Logs: ``pending`` before handing it over, then ``sent``, or ``failed`` with the transport's error.

    The tenant is the message's ``authmon_tenant``, an ``X-Authmon-Tenant`` header, or the tenant of the recipient
    who is a console user (see :func:`notifications.services.notification_tenant`); a message that belongs to no
    tenant is sent but cannot be listed anywhere, which is logged as a warning.
    """

    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently)
        transport = getattr(settings, "AUTHMON_EMAIL_TRANSPORT", DEFAULT_TRANSPORT)
        # The transport never swallows errors: this backend records them first, then honours fail_silently.
        self.transport = get_connection(transport, fail_silently=False, **kwargs)

    def open(self) -> bool | None:
        return self.transport.open()

    def close(self) -> None:
        self.transport.close()

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        messages = list(email_messages)
        if not messages:
            return 0
        logs = [notification_log_open(message=m) for m in messages]
        for message, log in zip(messages, logs, strict=True):
            if log is None:
                logger.warning(
                    "E-mail %r to %s belongs to no tenant; not in Notification Logs", message.subject, message.to
                )
        try:
            opened = self.transport.open()
        except Exception as exc:  # any transport failure is recorded on every message, then re-raised
            for log in logs:
                if log is not None:
                    notification_log_close(log=log, error=_describe(exc))
            if not self.fail_silently:
                raise
            return 0
        sent = 0
        try:
            for index, (message, log) in enumerate(zip(messages, logs, strict=True)):
                try:
                    accepted = self.transport.send_messages([message])
                except Exception as exc:  # recorded on the message, then re-raised (or dropped if fail_silently)
                    if log is not None:
                        notification_log_close(log=log, error=_describe(exc))
                    if not self.fail_silently:
                        for later in logs[index + 1 :]:  # nothing stays "pending" for a send that will not happen
                            if later is not None:
                                notification_log_close(log=later, error=f"not sent: {_describe(exc)}")
                        raise
                    continue
                if log is not None:
                    notification_log_close(log=log, error="" if accepted else "the transport did not accept it")
                sent += accepted
        finally:
            if opened:
                self.transport.close()
        return sent


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]
