"""Reading records: the one function that turns a page's URL parameters into a queryset.

The list page, its export and the tests all use :func:`log_search`, so what you see is what you export.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from authmon import registry
from authmon.daterange import PRESETS, DateRange, DateRangeError, custom_range, preset_range
from authmon.filtersets import NOT_SUFFIX, negated
from authmon.questions import question_interpret
from authmon.registry import LogKind
from authmon.tenancy import active_tenant_for
from nlq import NLQError, time_fields

# URL parameters the list understands besides the filterset's own. ``refresh`` (auto-refresh, in seconds) is read by
# the page's script only: it selects nothing, so it is no filter, no chip and no error here.
RESERVED_PARAMS = ("q", "search", "preset", "start", "end", "sort", "cursor", "format", "limit", "console", "refresh")
CONSOLE_HIDE = "hide"  # console=hide: leave out the rows the console wrote itself (LogKind.console_rows)
# A quick search matches anywhere in the field from this many characters on; a shorter term matches the start of it.
# "Contains" needs trigrams (three characters) to use the pg_trgm indexes: "%ab%" would read every row of the range,
# while "ab%" is served by the same index (docs/scaling.md, section 4).
SEARCH_MIN_CONTAINS = 3


@dataclass
class Chip:
    """One active condition shown above the table; ``remove_params`` are the URL keys that drop it, or, with
    ``remove_value``, the one value of the first of them that drops it (one excluded value of several)."""

    text: str
    remove_params: tuple[str, ...] = ()
    kind: str = "filter"  # filter | question | range | ignored | default
    remove_value: str = ""
    # URL keys set on removal: a kind's default filter goes by naming the default range explicitly.
    set_params: dict[str, str] = field(default_factory=dict)

    @property
    def removable(self) -> bool:
        return bool(self.remove_params or self.set_params)


@dataclass
class LogSearch:
    """The outcome of reading a page's parameters: a queryset plus what to tell the user about it."""

    kind: LogKind
    queryset: QuerySet
    date_range: DateRange
    chips: list[Chip] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    question: str = ""
    question_error: Any = None  # nlq.NLQError when the question could not be understood
    interpretation: Any = None  # nlq.Interpretation
    filterset: Any = None
    sort: str = ""
    # Filter values the kind's default view applied, which the URL does not carry (LogKind.default_filters).
    defaults: dict[str, list[str]] = field(default_factory=dict)
    default_label: str = ""  # what the page shows with no range chosen, e.g. "Last 7 days (default)"

    @property
    def runnable(self) -> bool:
        """False when the question failed: a partial filter is never run."""
        return self.question_error is None


def allowed_sorts(kind: LogKind) -> frozenset[str]:
    """Columns a page may be sorted by: orderable, non-null fields (the keyset cursor needs a value in every row)."""
    return _allowed_sorts(kind.name)


@cache
def _allowed_sorts(kind_name: str) -> frozenset[str]:  # building a table per request cost a millisecond
    kind = registry.get(kind_name)
    names = set()
    table = kind.table([])
    for column in table.columns:
        if column.orderable and column.name in {f.name for f in kind.model._meta.concrete_fields}:
            field_obj = kind.model._meta.get_field(column.name)
            if not field_obj.null:
                names.add(column.name)
    return frozenset(names)


def _search_q(kind: LogKind, text: str) -> Q:
    """The quick search: any of the kind's search fields contains ``text`` (starts with it, for a short term)."""
    default = "icontains" if len(text) >= SEARCH_MIN_CONTAINS else "istartswith"
    q = Q()
    for spec in kind.search_fields:
        name, _, lookup = spec.partition("__")
        q |= Q(**{f"{name}__{lookup or default}": text})
    return q


def _search_chip(kind: LogKind, text: str) -> Chip:
    if len(text) >= SEARCH_MIN_CONTAINS or all("__" in spec for spec in kind.search_fields):
        return Chip(f"search: {text}", ("search",))
    return Chip(f"search: starts with {text} (type {SEARCH_MIN_CONTAINS}+ characters to match anywhere)", ("search",))


def log_search(kind: LogKind, user: Any, params: QueryDict, *, now: dt.datetime | None = None) -> LogSearch:
    """Apply tenant, date range, quick search, question and field filters from ``params`` for ``user``."""
    now = now or timezone.now()
    tenant = active_tenant_for(user)
    tz = tenant.tz if tenant else timezone.get_current_timezone()
    qs = kind.model.objects.for_user(user)
    errors: list[str] = []
    chips: list[Chip] = []

    question = params.get("q", "").strip()
    interpretation = question_error = None
    if question:
        try:
            interpretation = question_interpret(kind=kind, question=question, now=now, tz=tz)
        except NLQError as exc:
            question_error = exc
    preset = params.get("preset", "").strip()
    start, end = params.get("start", "").strip(), params.get("end", "").strip()
    # A question may carry its own time phrase; the kind's default view applies only to plain browsing.
    browsing = not (question or preset or start or end)
    default_preset = "all" if question else kind.default_preset
    date_range = preset_range(default_preset, now=now, tz=tz)
    try:
        if start or end:
            date_range = custom_range(start, end, tz=tz)
        elif preset:
            date_range = preset_range(preset, now=now, tz=tz)
    except DateRangeError as exc:
        errors.append(f"{exc} Showing {date_range.label.lower()} instead.")
    time_label = kind.model._meta.get_field(kind.time_field).verbose_name
    if date_range.is_bounded and interpretation is not None and kind.time_field in time_fields(interpretation.node):
        # "failed logins yesterday" with the Today preset would silently find nothing: the question's time wins.
        chips.append(
            Chip(
                f"{time_label}: from the question ({date_range.label} not applied)", ("preset", "start", "end"), "range"
            )
        )
        date_range = preset_range("all", now=now, tz=tz)
    if date_range.start is not None:
        qs = qs.filter(**{f"{kind.time_field}__gte": date_range.start})
    if date_range.end is not None:
        qs = qs.filter(**{f"{kind.time_field}__lt": date_range.end})
    if date_range.is_bounded:
        chips.append(Chip(f"{time_label}: {date_range.label}", ("preset", "start", "end"), "range"))
    elif browsing:
        chips.append(Chip(f"{time_label}: {date_range.label}", (), "range"))  # the default: nothing to remove

    search = params.get("search", "").strip()[:200]
    if search:
        qs = qs.filter(_search_q(kind, search))
        chips.append(_search_chip(kind, search))
    qs = _console_apply(kind, params.get("console", "").strip(), qs, chips, errors)

    result = LogSearch(kind=kind, queryset=qs, date_range=date_range, chips=chips, errors=errors, question=question)
    result.question_error = question_error
    if interpretation is not None:
        result.interpretation = interpretation
        qs = qs.filter(interpretation.q)
        chips.extend(Chip(c.text, ("q",), "question") for c in interpretation.chips)

    data = params.copy()
    defaults = _defaults_apply(kind, data) if browsing else {}
    filterset = kind.filterset(data=data, queryset=qs)
    if not filterset.is_valid():
        for name, messages in filterset.errors.items():
            label = filterset.filters[name].label or name if name in filterset.filters else name
            errors.append(f"Filter '{label}' ignored: {' '.join(messages)}")
            data.pop(name, None)
        filterset = kind.filterset(data=data, queryset=qs)
    qs = filterset.qs
    for name, flt in filterset.filters.items():
        values = [v for v in data.getlist(name) if v.strip()] if name in data else []
        if not values:
            continue
        base = negated(flt)
        if base is not None:  # one chip per excluded value, each removable on its own
            label = filterset.filters[base].label or base
            chips.extend(Chip(f"{label} is not {_choice_label(flt, v)}", (name,), remove_value=v) for v in values)
            continue
        shown = ", ".join(_choice_label(flt, v) for v in values)
        if name in defaults:  # naming the default range turns the kind's default view off
            label = f"{flt.label or name}: {shown} (default)"
            chips.append(Chip(label, (), "default", set_params={"preset": kind.default_preset}))
        else:
            chips.append(Chip(f"{flt.label or name}: {shown}", (name,)))

    sort = params.get("sort", "").strip()
    if sort and sort.removeprefix("-") not in allowed_sorts(kind):  # one "-" at most: "--x" is no field
        errors.append(f"Cannot sort by '{sort.lstrip('-')[:60]}'; sorted by newest first.")
        sort = ""
    result.sort = sort or f"-{kind.time_field}"
    result.queryset = qs
    result.filterset = filterset
    result.errors = errors
    result.defaults = {name: values for name, values in defaults.items() if name in data}
    result.default_label = (
        ", ".join(
            [PRESETS[kind.default_preset], *(c.text.removesuffix(" (default)") for c in chips if c.kind == "default")]
        )
        + " (default)"
    )
    return result


def _console_apply(kind: LogKind, value: str, qs: QuerySet, chips: list[Chip], errors: list[str]) -> QuerySet:
    """``console=hide``: leave out the kind's own console rows, said by a removable chip. A kind the console writes
    nothing of is unchanged by it (there is nothing to hide), so a link carried over from another kind still works."""
    if value == CONSOLE_HIDE:
        if kind.console_rows is None:
            return qs
        chips.append(Chip("Console activity hidden", ("console",)))
        return qs.exclude(kind.console_rows)
    if value not in ("", "show"):
        errors.append(f"Console activity: unknown choice '{value[:30]}' ignored; use console=hide to hide it.")
    return qs


def _defaults_apply(kind: LogKind, data: QueryDict) -> dict[str, list[str]]:
    """Put the kind's default filter values into ``data`` where the URL sets no value of its own, neither for the
    field nor for its negated twin (excluding a status is a choice about the status); return them."""
    applied = {}
    for name, values in kind.default_filters.items():
        if not any(v.strip() for v in (*data.getlist(name), *data.getlist(name + NOT_SUFFIX))):
            data.setlist(name, list(values))
            applied[name] = list(values)
    return applied


def _choice_label(flt: Any, value: str) -> str:
    choices = dict((getattr(flt.extra.get("choices"), "__iter__", None) and flt.extra["choices"]) or [])
    return str(choices.get(value, value))


@dataclass
class TimelineEntry:
    kind: LogKind
    record: Any
    when: dt.datetime
    matched: str  # which field matched, e.g. "actor" or "target"


def activity_timeline(user: Any, *, person: str = "", client: str = "", per_kind: int = 50) -> list[TimelineEntry]:
    """Everything about one user (by e-mail or id) or one application across all kinds, newest first."""
    from authmon import registry

    entries: list[TimelineEntry] = []
    value = person or client
    for kind in registry.kinds():
        names = kind.person_fields if person else kind.client_fields
        if not names:
            continue
        condition = Q()
        for name in names:
            condition |= Q(**{f"{name}__iexact": value})
        rows = kind.model.objects.for_user(user).filter(condition).order_by(f"-{kind.time_field}", "-pk")[:per_kind]
        for row in rows:
            matched = next((n for n in names if str(getattr(row, n) or "").lower() == value.lower()), names[0])
            entries.append(TimelineEntry(kind, row, getattr(row, kind.time_field), matched))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries


def last_24h_counts(user: Any, *, now: dt.datetime | None = None) -> list[tuple[LogKind, int]]:
    """Per-kind record counts for the last 24 hours of the active tenant (index range scans, not table counts)."""
    from authmon import registry

    since = (now or timezone.now()) - dt.timedelta(hours=24)
    return [
        (kind, kind.model.objects.for_user(user).filter(**{f"{kind.time_field}__gte": since}).count())
        for kind in registry.kinds()
    ]
