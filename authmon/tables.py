"""Base table and shared columns. One table class per kind renders the page and the CSV export."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

import django_tables2 as tables
from django.http import HttpRequest
from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timesince import timesince

from authmon.cells import CellPlan
from authmon.valuefilters import ValueFilter, value_filters

# Inline SVG icons: the console ships no icon font and must not depend on emoji fonts.
COPY_ICON = mark_safe(
    '<svg class="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">'
    '<path fill="currentColor" d="M4 2a2 2 0 0 1 2-2h6a2 2 0 0 1 2 2v8a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2zm2-1a1 1 0 0 0-1 '
    "1v8a1 1 0 0 0 1 1h6a1 1 0 0 0 1-1V2a1 1 0 0 0-1-1zM2 5a1 1 0 0 0-1 1v8a1 1 0 0 0 1 1h6a1 1 0 0 0 1-1v-1h1v1a2 2 0 "
    '0 1-2 2H2a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2h1v1z"/></svg>'
)
TRASH_ICON = mark_safe(
    '<svg class="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true" focusable="false">'
    '<path fill="currentColor" d="M5.5 5.5A.5.5 0 0 1 6 6v6a.5.5 0 0 1-1 0V6a.5.5 0 0 1 .5-.5m2.5 0a.5.5 0 0 1 .5.5'
    "v6a.5"
    ".5 0 0 1-1 0V6a.5.5 0 0 1 .5-.5m3 .5a.5.5 0 0 0-1 0v6a.5.5 0 0 0 1 0zM14.5 3a1 1 0 0 1-1 1H13v9a2 2 0 0 1-2 2H5a2 "
    "2 0 0 1-2-2V4h-.5a1 1 0 0 1 0-2H6a1 1 0 0 1 1-1h2a1 1 0 0 1 1 1h3.5a1 1 0 0 1 1 1M4 4v9a1 1 0 0 0 1 1h6a1 1 0 0 0 "
    '1-1V4z"/></svg>'
)


class LogTable(tables.Table):
    """Base of every kind's table: Bootstrap styling, ``sort`` as the ordering parameter, no built-in paging.

    Paging is keyset-based and done by the generic list view, so the table only renders the rows it is handed.
    ``hidden_by_default`` names columns a user must opt into (the guide hides CC and BCC).
    """

    hidden_by_default: tuple[str, ...] = ()
    # The "Only" / "Exclude" links of the page's value cells, by column name (authmon.valuefilters); none by default.
    value_filters: Mapping[str, ValueFilter] = MappingProxyType({})

    class Meta:
        template_name = "authmon/table.html"
        order_by_field = "sort"
        attrs = {"class": "table table-sm table-hover align-middle log-table"}
        empty_text = ""

    def offer_value_filters(self, filterset: Any, request: HttpRequest) -> None:
        """Give each value cell of a filterable column its "Only" and "Exclude" links to the page at ``request``."""
        self.value_filters = value_filters(self, filterset, request.path, request.GET)

    def body_html(self) -> SafeString:
        """The ``<tr>`` of every record, for ``authmon/table.html``: the markup django-tables2 renders, 3-4x faster.

        django-tables2 resolves each cell through ``BoundRow`` and a template loop, about 1 ms per row. Here the
        cells come from the table's :class:`~authmon.cells.CellPlan` (the one a CSV export of it uses), and the
        ``<td>`` attributes and labels are worked out once per page. A test holds the rows to django-tables2's
        rendering of the same table; :meth:`offer_value_filters` adds links after some cells' content.
        """
        plan = CellPlan(self)
        tds = [_td_open(column) for column in self.columns]
        links = [self.value_filters.get(column.name) for column in self.columns]
        rows = []
        for number, record in enumerate(self.data):
            cells = "".join(
                f"{td}{cell}{link.html(record) if link else ''}</td>"
                for td, cell, link in zip(tds, plan.html(record), links, strict=True)
            )
            rows.append(f'<tr class="{"odd" if number % 2 else "even"}">{cells}</tr>')
        return mark_safe("\n".join(rows))  # noqa: S308 (every cell and attribute above is escaped)


def _td_open(bound_column: Any) -> str:
    attrs = bound_column.attrs["td"].as_html()
    return f'<td {attrs} data-label="{conditional_escape(bound_column.header)}">'


class RawValueColumn(tables.Column):
    """Exports the stored value, whatever HTML the page renders around it."""

    def value(self, value: Any) -> Any:
        return value


class TimeColumn(tables.Column):
    """A time in the tenant's zone as ``YYYY-MM-DD HH:MM``, exact ISO time and age on hover; exported as ISO."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("attrs", {"td": {"class": "text-nowrap"}})
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        local = timezone.localtime(value)
        return format_html(
            '<time datetime="{}" title="{} ({} ago)">{}</time>',
            value.isoformat(),
            local.isoformat(timespec="seconds"),
            timesince(value),
            local.strftime("%Y-%m-%d %H:%M"),
        )

    def value(self, value: Any) -> str:
        return timezone.localtime(value).isoformat(timespec="seconds") if value else ""


class PersonColumn(RawValueColumn):
    """A user (e-mail or id) that opens the user view."""

    def render(self, value: Any) -> str:
        return _pivot_link("user_view", value)


class ClientColumn(RawValueColumn):
    """An application that opens the client view."""

    def render(self, value: Any) -> str:
        return _pivot_link("client_view", value)


_PK_MARK = 918273645  # a number no URL prefix contains, to find where the id goes


@cache
def _record_url_parts(view: str, script_prefix: str) -> tuple[str, str] | None:
    parts = reverse(view, args=[_PK_MARK]).split(str(_PK_MARK))
    return (parts[0], parts[1]) if len(parts) == 2 else None


def record_url(view: str, pk: int) -> str:
    """``reverse(view, args=[pk])`` for a view that takes one record id, reversed once per view, not once per row.

    A page of 50 rows links every row's details (and its revocation): resolving the pattern each time was a tenth
    of the page's rendering.
    """
    parts = _record_url_parts(view, get_script_prefix())
    if parts is None:
        return reverse(view, args=[pk])
    return f"{parts[0]}{int(pk)}{parts[1]}"


def _pivot_link(view: str, value: Any) -> str:
    """A link to the user or client view; plain text for a value no URL can carry (e.g. one with a slash)."""
    try:
        return format_html('<a href="{}">{}</a>', reverse(view, args=[value]), value)
    except NoReverseMatch:
        return format_html("{}", value)


class TruncatedColumn(RawValueColumn):
    """Long text shown shortened, the full value on hover; exported whole."""

    def __init__(self, *args: Any, length: int = 60, **kwargs: Any) -> None:
        self.length = length
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        text = str(value)
        short = _shorten(text, self.length)
        if short == text:
            return text
        return format_html('<span title="{}">{}</span>', text, short)


def _shorten(text: str, length: int) -> str:
    """``Truncator(text).chars(length)``, without its walk over every character when the text is short already."""
    if len(text) <= length and unicodedata.is_normalized("NFC", text):
        return text
    return Truncator(text).chars(length)


SHORT_ID_LENGTH = 8  # characters of a sensitive id that a list shows


class ShortIdColumn(RawValueColumn):
    """An identifier too sensitive to show whole in a list (a session id): its first characters only.

    The details page shows it whole, and exports carry it whole (an export is an admin's deliberate act). Its cells
    offer no "Only"/"Exclude" links, whose URLs would carry it whole.
    """

    value_filter = False

    def __init__(self, *args: Any, length: int = SHORT_ID_LENGTH, **kwargs: Any) -> None:
        self.length = length
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        text = str(value)
        if len(text) <= self.length:
            return text
        return format_html(
            '<span class="font-monospace" title="Shortened; the details page shows it whole">{}…</span>',
            text[: self.length],
        )


class CopyColumn(tables.Column):
    """A long value (JSON or text) with a copy-to-clipboard button and a short preview (no "Only"/"Exclude" links)."""

    value_filter = False

    def __init__(self, *args: Any, length: int = 40, **kwargs: Any) -> None:
        self.length = length
        kwargs.setdefault("orderable", False)
        super().__init__(*args, **kwargs)

    def render(self, value: Any) -> str:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        return format_html(
            '<button type="button" class="btn btn-link btn-sm p-0 copy-btn" data-copy="{}" title="Copy to clipboard">'
            '{}<span class="visually-hidden">Copy</span></button> '
            '<code class="preview">{}</code>',
            text,
            COPY_ICON,
            _shorten(text, self.length),
        )

    def value(self, value: Any) -> str:
        return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


class DetailsColumn(tables.Column):
    """Link to the record's details page.

    Its cells carry ``col-details``: on a wide table the column sticks to the right edge of the scroll box, so the
    page's most-used action is on screen whatever the table's width (app.css).
    """

    def __init__(self, *args: Any, copy_field: str | None = None, **kwargs: Any) -> None:
        self.copy_field = copy_field
        kwargs.setdefault("attrs", {"th": {"class": "col-details"}, "td": {"class": "col-details"}})
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("exclude_from_export", copy_field is None)
        kwargs.setdefault("verbose_name", "Details")
        super().__init__(*args, **kwargs)

    def render(self, record: Any) -> str:
        from authmon import registry

        kind = registry.for_model(type(record))
        link = format_html(
            '<a class="btn btn-outline-secondary btn-sm py-0" href="{}">Details</a>',
            record_url(kind.url_name("detail"), record.pk),
        )
        if self.copy_field is None:
            return link
        return format_html(
            '<span class="text-nowrap">{} <button type="button" class="btn btn-link btn-sm p-0 copy-btn" '
            'data-copy="{}" title="Copy {} to clipboard">{}<span class="visually-hidden">Copy {}</span>'
            "</button></span>",
            link,
            _text(getattr(record, self.copy_field)),
            self.copy_field,
            COPY_ICON,
            self.copy_field,
        )

    def value(self, record: Any) -> str:
        return _text(getattr(record, self.copy_field)) if self.copy_field else ""


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


class StatusColumn(tables.Column):
    """A status or type shown as a coloured badge."""

    COLOURS = {
        "success": "success",
        "sent": "success",
        "active": "success",
        "login": "success",
        "failed": "danger",
        "login_failed": "danger",
        "mfa_failed": "danger",
        "account_locked": "danger",
        "bounced": "warning",
        "revoked": "secondary",
        "expired": "light",
        "running": "info",
        "pending": "warning",
    }

    def render(self, value: Any, record: Any, bound_column: Any) -> str:
        raw = getattr(record, bound_column.accessor, value)
        colour = self.COLOURS.get(str(raw), "light")
        text_class = " text-dark" if colour in {"light", "warning", "info"} else ""
        return format_html('<span class="badge text-bg-{}{}">{}</span>', colour, text_class, value)

    def value(self, record: Any, bound_column: Any) -> str:
        return str(getattr(record, bound_column.accessor))


class RevokeColumn(tables.Column):
    """A delete icon that opens the revocation confirmation for an active record; blank otherwise."""

    required_perm = "revoke"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("orderable", False)
        kwargs.setdefault("empty_values", ())
        kwargs.setdefault("exclude_from_export", True)
        super().__init__(*args, **kwargs)

    def render(self, record: Any) -> str:
        from authmon import registry

        if getattr(record, "status", None) != "active":
            return ""
        kind = registry.for_model(type(record))
        return format_html(
            '<a class="btn btn-outline-danger btn-sm py-0 revoke-link" href="{}" title="Revoke">'
            '{}<span class="visually-hidden">Revoke {}</span></a>',
            record_url(kind.url_name("revoke"), record.pk),
            TRASH_ICON,
            record,
        )
