"""Intermediate form -> Django ``Q``, chips and a one-line summary.

The ``Q`` names only fields of the field map, with lookups chosen here by field type; user text only ever
reaches the database as a bound value (a regular expression for "like" patterns is built from
``re.escape``-d parts).
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from functools import reduce

from django.db.models import Q

from nlq.fields import Field, FieldMap, FieldType
from nlq.ir import NEGATED, And, Condition, Node, Not, Op, Or, TimeCondition
from nlq.matching import enum_matches, like_parts, like_regex
from nlq.render import time_phrase
from nlq.timeres import Bounds, Clock
from nlq.vocabulary import MONTH_ABBR, OP_WORDS

#: Lookup that matches a JSON field's text, ignoring case; registered by ``authmon.lookups``.
JSON_TEXT_LOOKUP = "text_icontains"

_WEEKDAY_ABBR = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CHIP_OPS = {**OP_WORDS, Op.EQ: "=", Op.NE: "≠"}
_TEXT_LOOKUPS = {Op.EQ: "iexact", Op.CONTAINS: "icontains", Op.STARTSWITH: "istartswith", Op.ENDSWITH: "iendswith"}


@dataclass(frozen=True)
class Chip:
    """One part of how a question was understood, shown above the table; ``field`` is None for a group."""

    text: str
    field: str | None = None


class Compiler:
    """Compiles one question's intermediate form for one page, now and time zone."""

    def __init__(self, field_map: FieldMap, clock: Clock) -> None:
        self.fm = field_map
        self.clock = clock

    # ---- Q --------------------------------------------------------------------------------------------

    def q(self, node: Node) -> Q:
        if isinstance(node, Condition):
            return self._condition_q(node)
        if isinstance(node, TimeCondition):
            return self._time_q(node)
        if isinstance(node, Not):
            return ~self.q(node.child)
        combine = operator.and_ if isinstance(node, And) else operator.or_
        return reduce(combine, (self.q(c) for c in node.children))

    def _condition_q(self, c: Condition) -> Q:
        f = self.fm.field(c.field)
        if c.op in NEGATED:
            return ~self._positive_q(f, NEGATED[c.op], c.value)
        return self._positive_q(f, c.op, c.value)

    def _positive_q(self, f: Field, op: Op, value: str | tuple[str, ...] | None) -> Q:
        name = f.name
        if op == Op.EMPTY:
            return self._empty_q(f)
        if op in {Op.GT, Op.GE, Op.LT, Op.LE}:
            return Q(**{f"{name}__{op.value.replace('ge', 'gte').replace('le', 'lte')}": _number(str(value))})
        if op == Op.IN:
            assert isinstance(value, tuple)
            if f.type in {FieldType.TEXT, FieldType.JSON}:
                return reduce(operator.or_, (Q(**{f"{name}__iexact": v}) for v in value))
            return Q(**{f"{name}__in": [_number(v) if f.type == FieldType.NUMBER else v for v in value]})
        assert isinstance(value, str)
        if f.type == FieldType.ENUM:
            if op == Op.EQ:
                return Q(**{name: value})
            return Q(**{f"{name}__in": list(enum_matches(f, op, value))})
        if f.type == FieldType.JSON:
            return Q(**{f"{name}__{JSON_TEXT_LOOKUP}": value})
        if f.type == FieldType.NUMBER and op == Op.EQ:
            return Q(**{name: _number(value)})
        if f.type == FieldType.IP and op == Op.EQ:
            return Q(**{name: value})
        if op == Op.LIKE:
            return _like_q(name, value)
        return Q(**{f"{name}__{_TEXT_LOOKUPS[op]}": value})

    def _empty_q(self, f: Field) -> Q:
        q = Q(**{f"{f.name}__isnull": True})
        if f.type in {FieldType.TEXT, FieldType.ENUM}:
            q |= Q(**{f.name: ""})
        elif f.type == FieldType.JSON:
            q |= Q(**{f.name: {}}) | Q(**{f.name: []})
        return q

    def _time_q(self, tc: TimeCondition) -> Q:
        b = self.clock.bounds(tc)
        if b.exact:
            return Q(**{tc.field: b.lower})
        q = Q()
        if b.lower is not None:
            q &= Q(**{f"{tc.field}__{'gte' if b.lower_inclusive else 'gt'}": b.lower})
        if b.upper is not None:
            q &= Q(**{f"{tc.field}__{'lte' if b.upper_inclusive else 'lt'}": b.upper})
        return q

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


def _number(text: str) -> int | float:
    number = float(text)
    return int(number) if number.is_integer() else number


def _like_q(name: str, pattern: str) -> Q:
    """ "like": no wildcard = contains; "abc*" = starts with; "*abc" = ends with; else an anchored regex."""
    parts = like_parts(pattern)
    if len(parts) == 1:
        return Q(**{f"{name}__icontains": pattern})
    if len(parts) == 2 and parts[0] and not parts[1]:
        return Q(**{f"{name}__istartswith": parts[0]})
    if len(parts) == 2 and not parts[0] and parts[1]:
        return Q(**{f"{name}__iendswith": parts[1]})
    if len(parts) == 3 and not parts[0] and not parts[2] and parts[1]:
        return Q(**{f"{name}__icontains": parts[1]})
    return Q(**{f"{name}__iregex": like_regex(pattern)})
