"""Intermediate form -> Django ``Q``: the filter a question asks for, and nothing else.

The words shown for the same intermediate form (chips, the summary line) come from :mod:`nlq.describe`, so what
the database is asked and how it is worded change separately. The ``Q`` names only fields of the field map, with
lookups chosen here by field type; user text only ever reaches the database as a bound value (a regular
expression for "like" patterns is built from ``re.escape``-d parts).
"""

from __future__ import annotations

import operator
from functools import reduce

from django.db.models import Q

from nlq.fields import Field, FieldMap, FieldType
from nlq.ir import NEGATED, And, Condition, Node, Not, Op, TimeCondition
from nlq.matching import enum_matches, like_parts, like_regex
from nlq.timeres import Clock

#: Lookup that matches a JSON field's text, ignoring case; registered by ``authmon.lookups``.
JSON_TEXT_LOOKUP = "text_icontains"

_TEXT_LOOKUPS = {Op.EQ: "iexact", Op.CONTAINS: "icontains", Op.STARTSWITH: "istartswith", Op.ENDSWITH: "iendswith"}


class Compiler:
    """Compiles one question's intermediate form to a ``Q`` for one page, now and time zone."""

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
