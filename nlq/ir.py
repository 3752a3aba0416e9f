"""The intermediate form of a question: conditions, time conditions and how they combine.

The transformer builds it from the parse tree with values already checked against the field map (enum values
are stored values, IP addresses normalised); the compiler turns it into a ``Q`` and the renderer into canonical
text. Two questions mean the same thing exactly when their intermediate forms are equal: positions are carried
for error messages but never compared.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass


class Op(enum.StrEnum):
    """Operators on a field's value."""

    EQ = "eq"
    NE = "ne"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    LIKE = "like"
    NOT_LIKE = "not_like"
    STARTSWITH = "startswith"
    NOT_STARTSWITH = "not_startswith"
    ENDSWITH = "endswith"
    NOT_ENDSWITH = "not_endswith"
    IN = "in"
    NOT_IN = "not_in"
    EMPTY = "empty"
    NOT_EMPTY = "not_empty"
    GT = "gt"
    GE = "ge"
    LT = "lt"
    LE = "le"


#: Operators that say "not" and the positive operator they negate.
NEGATED: dict[Op, Op] = {
    Op.NE: Op.EQ,
    Op.NOT_CONTAINS: Op.CONTAINS,
    Op.NOT_LIKE: Op.LIKE,
    Op.NOT_STARTSWITH: Op.STARTSWITH,
    Op.NOT_ENDSWITH: Op.ENDSWITH,
    Op.NOT_IN: Op.IN,
    Op.NOT_EMPTY: Op.EMPTY,
}

#: Operators that match part of a text (evaluated against an enum's choices, never allowed on JSON equality).
PATTERN_OPS = frozenset({Op.CONTAINS, Op.LIKE, Op.STARTSWITH, Op.ENDSWITH})
COMPARISONS = frozenset({Op.GT, Op.GE, Op.LT, Op.LE})


class Unit(enum.StrEnum):
    """Calendar and duration units, smallest first."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"


# ---- time expressions -----------------------------------------------------------------------------------
# A *point* resolves to a half-open interval [start, end) (an instant has start == end); a *duration* is a
# length back from now.


@dataclass(frozen=True)
class Named:
    """today, yesterday or now."""

    name: str


@dataclass(frozen=True)
class Calendar:
    """this week, last month, ...: the current (``offset`` 0) or previous (``offset`` -1) calendar unit."""

    offset: int
    unit: Unit


@dataclass(frozen=True)
class Ago:
    """N units ago: the calendar day that was N units ago, or that hour (minute) for hours (minutes)."""

    n: int
    unit: Unit


@dataclass(frozen=True)
class OnDate:
    """A calendar date; ``year`` is None for "Nov 3" (the most recent Nov 3 not after today)."""

    year: int | None
    month: int
    day: int


@dataclass(frozen=True)
class AtTime:
    """An ISO date-time, kept as typed; without an offset it is read in the tenant's time zone."""

    iso: str


@dataclass(frozen=True)
class Weekday:
    """monday (the most recent Monday, today included) or last monday (the most recent before today)."""

    day: int
    last: bool = False


Point = Named | Calendar | Ago | OnDate | AtTime | Weekday


@dataclass(frozen=True)
class Duration:
    """N units back from now (a rolling window, computed in UTC)."""

    n: int
    unit: Unit


class TimeOp(enum.StrEnum):
    """How a time field relates to a point or duration."""

    WITHIN = "within"  # point: start <= t < end (an instant: t == instant)
    ROLLING = "rolling"  # duration: now - d <= t < now
    OLDER = "older"  # duration: t < now - d
    SINCE = "since"  # point: t >= start
    AFTER = "after"  # point: t >= end (an instant: t > instant)
    BEFORE = "before"  # point: t < start
    UNTIL = "until"  # point: t < end (an instant: t <= instant)
    BETWEEN = "between"  # two points: start(first) <= t < end(second)


# ---- the tree -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """``field op value`` over one field of the map; ``value`` is a string, a tuple of strings or None."""

    field: str
    op: Op
    value: str | tuple[str, ...] | None = None
    position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class TimeCondition:
    """A time field against a point (or two, for BETWEEN) or a duration (ROLLING and OLDER)."""

    field: str
    op: TimeOp
    first: Point | Duration
    second: Point | None = None
    position: int = dataclasses.field(default=0, compare=False)


@dataclass(frozen=True)
class And:
    """All children hold."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """At least one child holds."""

    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    """The child does not hold."""

    child: Node


Node = Condition | TimeCondition | And | Or | Not


def conjoin(nodes: list[Node]) -> Node:
    """``And`` of ``nodes``, flattened; the node itself when there is one."""
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.children if isinstance(node, And) else (node,))
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def disjoin(nodes: list[Node]) -> Node:
    """``Or`` of ``nodes``, flattened; the node itself when there is one."""
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.children if isinstance(node, Or) else (node,))
    return flat[0] if len(flat) == 1 else Or(tuple(flat))


def depth(node: Node) -> int:
    """Nesting depth of ``node`` (a leaf is 1)."""
    if isinstance(node, And | Or):
        return 1 + max(depth(c) for c in node.children)
    if isinstance(node, Not):
        return 1 + depth(node.child)
    return 1


def time_fields(node: Node | None) -> frozenset[str]:
    """The time fields that the conditions of ``node`` name, wherever they stand in it."""
    if node is None or isinstance(node, Condition):
        return frozenset()
    if isinstance(node, TimeCondition):
        return frozenset({node.field})
    children = (node.child,) if isinstance(node, Not) else node.children
    return frozenset().union(*(time_fields(child) for child in children))
