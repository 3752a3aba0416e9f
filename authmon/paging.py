"""Keyset pagination: pages stay fast at any depth because no OFFSET and no COUNT(*) are ever run.

A cursor names the sort, the last row's sort value and id, the direction and the offset (for "51–100" only). It is
signed so that users cannot hand-craft one; a cursor that does not fit the current sort is refused with a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db import models

_SALT = "authmon.paging"


class CursorError(ValueError):
    pass


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    offset: int
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def first_number(self) -> int:
        return self.offset + 1 if self.rows else 0

    @property
    def last_number(self) -> int:
        return self.offset + len(self.rows)

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


def _encode(field: models.Field, row: Any, sort: str, offset: int, direction: str) -> str:
    value = field.value_to_string(row)
    return signing.dumps({"s": sort, "v": value, "i": row.pk, "o": offset, "d": direction}, salt=_SALT, compress=True)


def decode(cursor: str) -> dict[str, Any]:
    try:
        data = signing.loads(cursor, salt=_SALT)
    except signing.BadSignature as exc:
        raise CursorError("That page link is no longer valid; showing the first page.") from exc
    if not isinstance(data, dict) or not {"s", "v", "i", "o", "d"} <= set(data):
        raise CursorError("That page link is no longer valid; showing the first page.")
    return data


def paginate(queryset: models.QuerySet, *, sort: str, cursor: str | None, per_page: int) -> Page:
    """One page of ``queryset`` ordered by ``sort`` (a field name, ``-`` for descending) and then by id."""
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    field = queryset.model._meta.get_field(name)
    offset = 0
    backwards = False
    if cursor:
        data = decode(cursor)
        if data["s"] != sort:
            raise CursorError("The sort order changed; showing the first page.")
        value = field.to_python(data["v"])
        backwards = data["d"] == "p"
        offset = max(0, int(data["o"]))
        forward_desc = descending != backwards  # walking towards smaller values?
        op = "lt" if forward_desc else "gt"
        queryset = queryset.filter(
            models.Q(**{f"{name}__{op}": value}) | models.Q(**{name: value, f"pk__{op}": data["i"]})
        )
    walk_desc = descending != backwards
    order = [f"-{name}", "-pk"] if walk_desc else [name, "pk"]
    rows = list(queryset.order_by(*order)[: per_page + 1])
    more = len(rows) > per_page
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
        offset = max(0, offset - len(rows))
        has_next, has_prev = True, more
    else:
        has_next, has_prev = more, offset > 0
    next_cursor = _encode(field, rows[-1], sort, offset + len(rows), "n") if rows and has_next else None
    prev_cursor = _encode(field, rows[0], sort, offset, "p") if rows and has_prev else None
    return Page(rows=rows, offset=offset, next_cursor=next_cursor, prev_cursor=prev_cursor)
