"""Intermediate form -> the words a page shows for it: chips above the table and a one-line summary.

Kept apart from :mod:`nlq.compiler` (which builds the ``Q``) so the wording can change without touching what is
asked of the database. Times are shown resolved ("Mon 3 Nov 00:00 – now") next to the phrase that was typed, so a
user sees both what they asked and what it meant at this moment; the canonical question that keeps time phrases
relative is :mod:`nlq.render`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nlq.fields import FieldMap, FieldType
from nlq.ir import And, Condition, Node, Not, Op, Or, TimeCondition
from nlq.render import time_phrase
from nlq.timeres import Bounds, Clock
from nlq.vocabulary import MONTH_ABBR, OP_WORDS

_WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Chips sit side by side above the table, so (in)equality is a symbol there to keep them short.
_CHIP_OPS = {**OP_WORDS, Op.EQ: "=", Op.NE: "≠"}


@dataclass(frozen=True)
class Chip:
    """One part of how a question was understood, shown above the table; ``field`` is None for a group."""

    text: str
    field: str | None = None


class Describer:
    """Words for one question's intermediate form on one page, now and time zone."""

    def __init__(self, field_map: FieldMap, clock: Clock) -> None:
        self.fm = field_map
        self.clock = clock

    # ---- chips ----------------------------------------------------------------------------------------

    def chips(self, node: Node | None) -> list[Chip]:
        """One chip per top-level "and" part; an "or"/"not" group is one chip."""
        if node is None:
            return []
        parts = node.children if isinstance(node, And) else (node,)
        return [Chip(self._chip_text(p), _single_field(p)) for p in parts]

    def _chip_text(self, node: Node) -> str:
        if isinstance(node, Condition):
            return self._condition_words(node, _CHIP_OPS)
        if isinstance(node, TimeCondition):
            b = self.clock.bounds(node)
            label = self.fm.field(node.field).label
            return f"{label}: {self._range(b)} ({time_phrase(node)}, {b.kind})"
        if isinstance(node, Not):
            inner = self._chip_text(node.child)
            return f"not ({inner})" if isinstance(node.child, And | Or) else f"not {inner}"
        joiner = " and " if isinstance(node, And) else " or "
        return joiner.join(
            f"({self._chip_text(c)})" if isinstance(c, And | Or) else self._chip_text(c) for c in node.children
        )

    def _range(self, b: Bounds) -> str:
        if b.exact and b.lower is not None:
            return f"at {self._short(b.lower)}"
        if b.lower is not None and b.upper is not None:
            return f"{self._short(b.lower)} – {'now' if b.upper_is_now else self._short(b.upper)}"
        if b.lower is not None:
            return f"{'from' if b.lower_inclusive else 'after'} {self._short(b.lower)}"
        assert b.upper is not None
        return f"{'up to' if b.upper_inclusive else 'before'} {self._short(b.upper)}"

    def _short(self, moment: datetime) -> str:
        local = moment.astimezone(self.clock.tz)
        year = f" {local.year}" if local.year != self.clock.local_now.year else ""
        seconds = f":{local.second:02d}" if local.second else ""
        return (
            f"{_WEEKDAY_ABBR[local.weekday()]} {local.day} {MONTH_ABBR[local.month]}{year} "
            f"{local.hour:02d}:{local.minute:02d}{seconds}"
        )

    # ---- summary --------------------------------------------------------------------------------------

    def summary(self, node: Node | None) -> str:
        """One line: "event type is login AND created on is between 2026-11-19 00:00 and now"."""
        if node is None:
            return "all records"
        if isinstance(node, Condition):
            return self._condition_words(node, OP_WORDS)
        if isinstance(node, TimeCondition):
            return self._time_summary(node)
        if isinstance(node, Not):
            inner = self.summary(node.child)
            return f"NOT ({inner})" if isinstance(node.child, And | Or) else f"NOT {inner}"
        joiner = " AND " if isinstance(node, And) else " OR "
        return joiner.join(
            f"({self.summary(c)})" if isinstance(c, And | Or) else self.summary(c) for c in node.children
        )

    def _time_summary(self, tc: TimeCondition) -> str:
        b = self.clock.bounds(tc)
        label = self.fm.field(tc.field).label
        if b.exact and b.lower is not None:
            return f"{label} is {self._long(b.lower)}"
        if b.lower is not None and b.upper is not None:
            upper = "now" if b.upper_is_now else self._long(b.upper)
            return f"{label} is between {self._long(b.lower)} and {upper}"
        if b.lower is not None:
            return f"{label} is {'on or after' if b.lower_inclusive else 'after'} {self._long(b.lower)}"
        assert b.upper is not None
        return f"{label} is {'on or before' if b.upper_inclusive else 'before'} {self._long(b.upper)}"

    def _long(self, moment: datetime) -> str:
        local = moment.astimezone(self.clock.tz)
        return local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")

    def _condition_words(self, c: Condition, words: dict[Op, str]) -> str:
        f = self.fm.field(c.field)
        head = f"{f.label} {words[c.op]}"
        if c.value is None:
            return head
        show_label = f.type == FieldType.ENUM and c.op in {Op.EQ, Op.NE, Op.IN, Op.NOT_IN}
        values = c.value if isinstance(c.value, tuple) else (c.value,)
        shown = [_shown(f.label_of(v) if show_label else v) for v in values]
        return f"{head} {', '.join(shown)}"


def _shown(value: str) -> str:
    return f"'{value}'" if not value or value != value.strip() or " " in value else value


def _single_field(node: Node) -> str | None:
    if isinstance(node, Condition | TimeCondition):
        return node.field
    children = (node.child,) if isinstance(node, Not) else node.children
    fields = {_single_field(c) for c in children}
    return fields.pop() if len(fields) == 1 else None
