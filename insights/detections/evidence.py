"""Links from a finding to the rows that show it: a record kind's list page, filtered either with DESIGN 6b's URL
parameters (:func:`evidence_url`) or with a query-language question naming the rows (:func:`records_url`).

One home for building these drill-down links, so that every detection's evidence opens the same list pages, with the
same period rules and the same question length limit, as a person using the console would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode

from authmon import registry
from nlq import MAX_LENGTH
from nlq.render import quote


def _iso(moment: dt.datetime, tz: Any) -> str:
    return moment.astimezone(tz).replace(microsecond=0).isoformat()


def evidence_url(kind: str, first: dt.datetime, last: dt.datetime, *, tz: Any, **filters: str | Iterable[str]) -> str:
    """A list-page URL (DESIGN 6b) selecting ``filters`` from ``first`` to ``last`` inclusive.

    The list's ``end`` is exclusive and read to the second, so it is the second after ``last``.
    """
    params: list[tuple[str, str]] = []
    for name, value in filters.items():
        values = [value] if isinstance(value, str) else list(value)
        params.extend((name, str(v)) for v in values)
    end = last.replace(microsecond=0) + dt.timedelta(seconds=1)
    params += [("start", _iso(first, tz)), ("end", _iso(end, tz))]
    return f"{registry.get(kind).list_url}?{urlencode(params)}"


def records_url(kind: str, key: str, ids: list[str]) -> tuple[str, int]:
    """The list page of ``kind`` showing the rows whose ``key`` is one of ``ids`` (as many as fit in one question)."""
    label = registry.get(kind).field_map.field(key).label
    quoted: list[str] = []
    length = len(f"{label} is one of ()")
    for value in ids:
        text = quote(value)
        if length + len(text) + 2 > MAX_LENGTH:
            break
        quoted.append(text)
        length += len(text) + 2
    question = f"{label} is one of ({', '.join(quoted)})"
    return f"{registry.get(kind).list_url}?{urlencode([('q', question), ('preset', 'all')])}", len(quoted)
