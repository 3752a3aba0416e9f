"""Canonical text: the intermediate form written back as a question that parses to the same meaning.

Time phrases stay relative ("last week", "in the last 7 days", "Nov 3"), so a bookmarked question keeps its
meaning tomorrow. Values are written as labels (enum values) and quoted unless they are one plain word.
"""

from __future__ import annotations

import re

from nlq.fields import FieldMap, FieldType
from nlq.ir import (
    Ago,
    And,
    AtTime,
    Calendar,
    Condition,
    Duration,
    Named,
    Node,
    Not,
    OnDate,
    Op,
    Or,
    Point,
    TimeCondition,
    TimeOp,
    Weekday,
)
from nlq.vocabulary import (
    AND_WORDS,
    FILLERS,
    MONTH_ABBR,
    MONTHS,
    NOT_WORDS,
    NUMBER_WORDS,
    OP_WORDS,
    OPERATOR_WORDS,
    OPERATORS,
    OR_WORDS,
    TIME_PHRASE_WORDS,
    TIME_WORDS,
    UNITS,
    WEEKDAY_NAMES,
    WEEKDAYS,
    compact,
)

_SAFE_BARE = re.compile(r"[\w@.+:/-]+")
_RESERVED = (
    set(TIME_WORDS)
    | set(UNITS)
    | set(NUMBER_WORDS)
    | set(OPERATORS)
    | set(FILLERS)
    | set(WEEKDAYS)
    | set(MONTHS)
    | OPERATOR_WORDS
    | TIME_PHRASE_WORDS
    | {compact(w) for w in AND_WORDS | OR_WORDS | NOT_WORDS}
)


def quote(value: str) -> str:
    """``value`` in quotes that the scanner reads back exactly."""
    for mark, closers in (("'", "'’"), ('"', '"”')):
        if not any(ch in value for ch in closers):
            return mark + value.replace("\\", "\\\\") + mark
    return "'" + re.sub(r"([\\'’])", r"\\\1", value) + "'"


def value_text(value: str) -> str:
    """``value`` bare when it is one plain word that cannot be mistaken for a keyword, else quoted."""
    if _SAFE_BARE.fullmatch(value) and compact(value) not in _RESERVED and not value.startswith("-"):
        return value
    return quote(value)


def canonical(node: Node | None, fm: FieldMap) -> str:
    """The canonical question for ``node`` ("" for no condition)."""
    if node is None:
        return ""
    if isinstance(node, Condition):
        return condition_text(node, fm)
    if isinstance(node, TimeCondition):
        return time_text(node, fm)
    if isinstance(node, Not):
        inner = canonical(node.child, fm)
        return f"not ({inner})" if isinstance(node.child, And | Or) else f"not {inner}"
    if isinstance(node, And):
        return " and ".join(f"({canonical(c, fm)})" if isinstance(c, Or) else canonical(c, fm) for c in node.children)
    return " or ".join(canonical(c, fm) for c in node.children)


def condition_text(c: Condition, fm: FieldMap) -> str:
    f = fm.field(c.field)
    words = f"{f.label} {OP_WORDS[c.op]}"
    if c.value is None:
        return words
    label = f.type == FieldType.ENUM and c.op in {Op.EQ, Op.NE, Op.IN, Op.NOT_IN}
    if isinstance(c.value, tuple):
        items = ", ".join(value_text(f.label_of(v) if label else v) for v in c.value)
        return f"{words} ({items})"
    return f"{words} {value_text(f.label_of(c.value) if label else c.value)}"


def time_text(tc: TimeCondition, fm: FieldMap) -> str:
    label = fm.field(tc.field).label
    phrase = time_phrase(tc)
    if tc.op in {TimeOp.SINCE, TimeOp.AFTER, TimeOp.BEFORE, TimeOp.UNTIL}:
        return f"{label} {phrase}"
    return f"{label} is {phrase}"


def time_phrase(tc: TimeCondition) -> str:
    """The relative time phrase of a time condition: "last week", "in the last 24 hours", "since Nov 3"."""
    first = tc.first
    if isinstance(first, Duration):
        return f"{'older than' if tc.op == TimeOp.OLDER else 'in the last'} {duration_text(first)}"
    point = point_text(first)
    if tc.op == TimeOp.WITHIN:
        return point
    if tc.op == TimeOp.BETWEEN:
        assert tc.second is not None
        return f"between {point} and {point_text(tc.second)}"
    return {TimeOp.SINCE: "since", TimeOp.AFTER: "after", TimeOp.BEFORE: "before", TimeOp.UNTIL: "<="}[tc.op] + (
        f" {point}"
    )


def duration_text(d: Duration) -> str:
    return f"{d.n} {d.unit.value}{'' if d.n == 1 else 's'}"


def point_text(p: Point) -> str:
    if isinstance(p, Named):
        return p.name
    if isinstance(p, Calendar):
        return f"{'this' if p.offset == 0 else 'last'} {p.unit.value}"
    if isinstance(p, Ago):
        return f"{duration_text(Duration(p.n, p.unit))} ago"
    if isinstance(p, OnDate):
        if p.year is None:
            return f"{MONTH_ABBR[p.month]} {p.day}"
        return f"{p.year:04d}-{p.month:02d}-{p.day:02d}"
    if isinstance(p, AtTime):
        return p.iso
    assert isinstance(p, Weekday)
    return f"{'last ' if p.last else ''}{WEEKDAY_NAMES[p.day]}"
