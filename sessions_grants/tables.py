from typing import Any

import django_tables2 as tables
from django.utils.html import format_html

from authmon.tables import (
    SHORT_ID_LENGTH,
    TRASH_ICON,
    ClientColumn,
    DetailsColumn,
    LogTable,
    PersonColumn,
    RevokeColumn,
    ShortIdColumn,
    StatusColumn,
    TimeColumn,
    record_url,
)
from sessions_grants.models import AccessStatus, Grant, Session


class EffectiveStatusColumn(StatusColumn):
    """The status as it is now: an active row past its expiry shows (and exports) as expired; sorts by the stored
    status."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("accessor", "effective_status")
        kwargs.setdefault("order_by", ("status",))
        kwargs.setdefault("verbose_name", "Status")
        super().__init__(*args, **kwargs)

    def render(self, value: Any, record: Any, bound_column: Any) -> str:
        return super().render(AccessStatus(value).label, record, bound_column)


def _short(record: Any) -> str:
    """The id's first characters, as the list shows it (ShortIdColumn): a hidden label is still in the page."""
    name = str(record)
    return name if len(name) <= SHORT_ID_LENGTH else f"{name[:SHORT_ID_LENGTH]}…"


class ConfirmRevokeColumn(RevokeColumn):
    """The Remove (delete) icon of an active row: opens the record's details with the revocation confirmation."""

    def render(self, record: Any) -> str:
        from authmon import registry

        if record.effective_status != AccessStatus.ACTIVE:
            return ""
        kind = registry.for_model(type(record))
        return format_html(
            '<a class="btn btn-outline-danger btn-sm py-0 revoke-link" href="{}?confirm=revoke#confirm-revoke" '
            'title="Revoke">{}<span class="visually-hidden">Revoke {}</span></a>',
            record_url(kind.url_name("detail"), record.pk),
            TRASH_ICON,
            _short(record),
        )


class SelectColumn(RevokeColumn):
    """A checkbox for each active row, in the list's bulk revocation form (``sessions_grants/list_actions.html``).

    The box is outside the form in the page (it is in the table) and joins it by the ``form`` attribute; its label,
    hidden but read out, names the row ("Select session 1a2b3c4d…"). Like the Remove icon, only for those who may
    revoke, and only for rows that are active now.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("verbose_name", "Select")
        kwargs.setdefault("attrs", {"th": {"class": "col-select"}, "td": {"class": "col-select"}})
        super().__init__(*args, **kwargs)

    def render(self, record: Any) -> str:
        from authmon import registry

        if record.effective_status != AccessStatus.ACTIVE:
            return ""
        return format_html(
            '<label class="bulk-select"><input class="form-check-input" type="checkbox" name="pk" value="{}" '
            'form="bulk-revoke-form"><span class="visually-hidden">Select {} {}</span></label>',
            record.pk,
            registry.for_model(type(record)).singular.lower(),
            _short(record),
        )


class SessionTable(LogTable):
    select = SelectColumn()
    session_id = ShortIdColumn(verbose_name="Session ID")
    protocol = tables.Column()
    client_id = ClientColumn(verbose_name="Client ID")
    user_id = PersonColumn(verbose_name="User ID")
    created_at = TimeColumn(verbose_name="Created At")
    status = EffectiveStatusColumn()
    details = DetailsColumn(copy_field="details")
    remove = ConfirmRevokeColumn(verbose_name="Remove")

    class Meta(LogTable.Meta):
        model = Session
        fields = ("session_id", "protocol", "client_id", "user_id", "created_at", "status", "details")
        sequence = ("select", *fields, "remove")


class GrantTable(LogTable):
    select = SelectColumn()
    grant_id = tables.Column(verbose_name="Grant ID")
    email = PersonColumn()
    provider = tables.Column()
    client = ClientColumn()
    session_id = ShortIdColumn(verbose_name="Session ID")
    created_at = TimeColumn(verbose_name="Created At")
    status = EffectiveStatusColumn()
    details = DetailsColumn(copy_field="details")

    class Meta(LogTable.Meta):
        model = Grant
        fields = ("grant_id", "email", "provider", "client", "session_id", "created_at", "status", "details")
        sequence = ("select", *fields)
