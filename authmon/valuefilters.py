"""Click a value to filter: the "Only" and "Exclude" links beside the values of a list page's cells.

A column whose name is also a field filter of the page (DESIGN 6b: any field as a filter) with a negated twin
(``<name>__not``, :mod:`authmon.filtersets`) offers, in each cell with a value, two links to the same list:

* "Only": the filter set to the cell's value (and the field's exclusions dropped: the value decides);
* "Exclude": the value added to the twin's values.

Every other parameter is kept; the cursor is dropped, as it belongs to the rows of the old filter. The query string
is encoded once per column and the value once per cell, so the links cost no query and no ``QueryDict`` per row.
The value is the stored one (``login_failed``, not its label), read from the record as the column's accessor names
it; a column that must not put its whole value in a URL (a shortened session id) says so with
``value_filter = False``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import quote_plus, urlencode

from django.http import QueryDict
from django.utils.html import escape
from django.utils.safestring import mark_safe

from authmon.filtersets import NOT_SUFFIX

# Inline SVG icons (no icon font): a circled plus for "only", a circled minus for "exclude".
ONLY_ICON = mark_safe(
    '<svg class="icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">'
    '<circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.5"/>'
    '<path d="M8 4.75v6.5M4.75 8h6.5" stroke="currentColor" stroke-width="1.5"/></svg>'
)
EXCLUDE_ICON = mark_safe(
    '<svg class="icon" viewBox="0 0 16 16" width="12" height="12" aria-hidden="true" focusable="false">'
    '<circle cx="8" cy="8" r="6.5" fill="none" stroke="currentColor" stroke-width="1.5"/>'
    '<path d="M4.75 8h6.5" stroke="currentColor" stroke-width="1.5"/></svg>'
)
# The links are named by aria-label, not by hidden text or a title: the cell's text stays its value, and a title
# stays what shows a cut-short value in full (app.js, TruncatedColumn).
_LINKS = (
    '<span class="value-filter">'
    '<a class="value-only" href="{only}" aria-label="Only {shown}">' + ONLY_ICON + "</a>"
    '<a class="value-exclude" href="{exclude}" aria-label="Exclude {shown}">' + EXCLUDE_ICON + "</a>"
    "</span>"
)


@dataclass(frozen=True)
class ValueFilter:
    """The links of one column: ``html(record)`` is the markup to put after the cell's content ("" without a value)."""

    name: str  # the filter's URL parameter
    header: str
    accessor: str
    only_prefix: str  # the list URL with the other parameters, ready for "name=value"
    exclude_prefix: str  # the same without the twin's values, ready for them
    excluded: tuple[str, ...]  # the values the twin already excludes
    labels: Mapping[str, str]  # choice labels by stored value

    # The links up to the cell's value, HTML-escaped once per column: a cell then only quotes its value (quote_plus
    # leaves nothing that HTML would escape) and escapes its label. This runs for every cell of a page.
    @cached_property
    def _only_href(self) -> str:
        return escape(f"{self.only_prefix}{quote_plus(self.name)}=")

    @cached_property
    def _kept_exclusions(self) -> str:
        return self.exclude_prefix + urlencode([(self.name + NOT_SUFFIX, v) for v in self.excluded])

    @cached_property
    def _exclude_href(self) -> str:
        joiner = "&" if self.excluded else ""
        return escape(f"{self._kept_exclusions}{joiner}{quote_plus(self.name + NOT_SUFFIX)}=")

    @cached_property
    def _exclude_href_unchanged(self) -> str:  # for a value the twin excludes already
        return escape(self._kept_exclusions)

    def html(self, record: Any) -> str:
        value = getattr(record, self.accessor, None)
        if value is None or value == "":
            return ""
        text = str(value)
        quoted = quote_plus(text)
        exclude = self._exclude_href_unchanged if text in self.excluded else self._exclude_href + quoted
        shown = escape(f"{self.header} {self.labels.get(text, text)}")
        return mark_safe(_LINKS.format(only=self._only_href + quoted, exclude=exclude, shown=shown))  # noqa: S308


def value_filters(table: Any, filterset: Any, path: str, params: QueryDict) -> dict[str, ValueFilter]:
    """The value filters of ``table``'s visible columns, for a page at ``path`` with query ``params``.

    ``filterset`` is the page's (its filters say which columns can be filtered, and their choice labels).
    """
    found = {}
    for bound_column in table.columns:
        name = bound_column.name
        accessor = str(bound_column.accessor)
        if (
            not getattr(bound_column.column, "value_filter", True)
            or name not in filterset.filters
            or name + NOT_SUFFIX not in filterset.filters
            or "." in accessor
            or "__" in accessor
        ):
            continue
        choices = filterset.filters[name + NOT_SUFFIX].extra.get("choices") or ()
        found[name] = ValueFilter(
            name=name,
            header=str(bound_column.header),
            accessor=accessor,
            only_prefix=_prefix(path, _pairs(params, drop={name, name + NOT_SUFFIX})),
            exclude_prefix=_prefix(path, _pairs(params, drop={name + NOT_SUFFIX})),
            excluded=tuple(v for v in params.getlist(name + NOT_SUFFIX) if v.strip()),
            labels={str(value): str(label) for value, label in (choices() if callable(choices) else choices)},
        )
    return found


def _pairs(params: QueryDict, *, drop: set[str]) -> list[tuple[str, str]]:
    return [(key, value) for key, values in params.lists() if key not in drop | {"cursor"} for value in values]


def _prefix(path: str, pairs: Iterable[tuple[str, str]]) -> str:
    query = urlencode(list(pairs))
    return f"{path}?{query}&" if query else f"{path}?"
