"""Parse tree -> intermediate form, checking every value against the field map.

This is where "status 'faild'" becomes a did-you-mean error, "login failed" becomes the stored
``login_failed``, an IP address is normalised, and the shorthands ("failed logins", "who modified the google
provider") become ordinary conditions.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass
from typing import Any

from django.utils.ipv6 import clean_ipv6_address
from lark import Token, Transformer_NonRecursive, Tree
from lark.exceptions import VisitError

from nlq.errors import NLQError
from nlq.fields import Field, FieldMap, FieldType
from nlq.ir import (
    COMPARISONS,
    NEGATED,
    PATTERN_OPS,
    Ago,
    AtTime,
    Calendar,
    Condition,
    Duration,
    Named,
    Node,
    Not,
    OnDate,
    Op,
    Point,
    TimeCondition,
    TimeOp,
    Unit,
    Weekday,
    conjoin,
    disjoin,
)
from nlq.matching import enum_matches
from nlq.vocabulary import OP_WORDS, WEEKDAY_NAMES, compact

_CMP_TIME = {Op.GT: TimeOp.AFTER, Op.GE: TimeOp.SINCE, Op.LT: TimeOp.BEFORE, Op.LE: TimeOp.UNTIL}
_TYPE_WORDS = {
    FieldType.TEXT: "text",
    FieldType.ENUM: "one of a fixed set of values",
    FieldType.DATETIME: "a time",
    FieldType.NUMBER: "a number",
    FieldType.IP: "an IP address",
    FieldType.JSON: "JSON",
}


@dataclass(frozen=True)
class _Pred:
    """A time predicate before it knows its field."""

    op: TimeOp
    first: Point | Duration
    second: Point | None
    position: int


def build(tree: Tree[Token], field_map: FieldMap) -> Node:
    """The intermediate form of a parse tree. Raises NLQError for values that do not fit their field."""
    try:
        node = _Builder(field_map).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, NLQError):
            raise exc.orig_exc from None
        raise
    return node  # type: ignore[no-any-return]


def _pos(token: Token) -> int:
    return token.start_pos or 0


class _Builder(Transformer_NonRecursive):  # type: ignore[type-arg]
    """Rule and alias names are those of grammar.lark."""

    def __init__(self, field_map: FieldMap) -> None:
        super().__init__()
        self.fm = field_map

    # ---- structure ------------------------------------------------------------------------------------

    def start(self, children: list[Any]) -> Node:
        return children[0]  # type: ignore[no-any-return]

    def or_expr(self, children: list[Node]) -> Node:
        return disjoin(children)

    def and_expr(self, children: list[Node]) -> Node:
        return conjoin(children)

    def negation(self, children: list[Any]) -> Node:
        return Not(children[1])

    # ---- field conditions ------------------------------------------------------------------------------

    def binary(self, children: list[Token]) -> Node:
        name, op, value = children
        return self._condition(name, Op(op.value), [value])

    def implicit_eq(self, children: list[Token]) -> Node:
        name, value = children
        return self._condition(name, Op.EQ, [value])

    def compare(self, children: list[Token]) -> Node:
        name, op, value = children
        return self._condition(name, Op(op.value), [value])

    def listop(self, children: list[Any]) -> Node:
        name, op, values = children
        return self._condition(name, Op(op.value), values)

    def value_list(self, children: list[Token]) -> list[Token]:
        return children

    def emptiness(self, children: list[Token]) -> Node:
        name, op = children
        return Condition(str(name.value), Op(op.value), None, _pos(name))

    def _condition(self, name: Token, op: Op, values: list[Token]) -> Node:
        f = self.fm.field(str(name.value))
        position = _pos(name)
        texts = [str(v.value) for v in values]
        if op in COMPARISONS and f.type != FieldType.NUMBER:
            raise NLQError(
                f"'{OP_WORDS[op]}' compares numbers and times, but {f.label} is {_TYPE_WORDS[f.type]}.",
                _pos(values[0]),
                expected="is, contains, starts with",
            )
        if f.type == FieldType.JSON and op not in {Op.CONTAINS, Op.NOT_CONTAINS}:
            raise NLQError(
                f"{f.label} holds JSON: ask whether it contains (or does not contain) a text, or is empty.",
                _pos(values[0]),
                expected="contains, does not contain, is empty",
            )
        if f.type == FieldType.ENUM and op in {Op.EQ, Op.NE} and f.choice_for(texts[0]) is None:
            group = self._group(f, texts[0])
            if group is not None:  # "event type is mfa": the page's own shorthand for a group of values
                return group if op == Op.EQ else Not(group)
        normalised = [self._value(f, op, text, _pos(token)) for text, token in zip(texts, values, strict=True)]
        if op in {Op.IN, Op.NOT_IN}:
            return Condition(f.name, op, tuple(dict.fromkeys(normalised)), position)
        return Condition(f.name, op, normalised[0], position)

    def _group(self, f: Field, text: str) -> Condition | None:
        s = self.fm.index.shorthands.get(compact(text))
        if s is None or s.field != f.name or s.op == Op.EQ:
            return None
        return Condition(s.field, s.op, s.value)

    def _value(self, f: Field, op: Op, text: str, position: int) -> str:
        positive = NEGATED.get(op, op)
        if f.type == FieldType.ENUM:
            if positive in {Op.EQ, Op.IN}:
                choice = f.choice_for(text)
                if choice is None:
                    raise _unknown_choice(f, text, position)
                return choice.value
            if positive in PATTERN_OPS and not enum_matches(f, positive, text):
                raise _no_choice_matches(f, positive, text, position)
            return text
        if f.type == FieldType.IP and positive in {Op.EQ, Op.IN}:
            return _ip(f, text, position)
        if f.type == FieldType.NUMBER and (positive in {Op.EQ, Op.IN} or op in COMPARISONS):
            try:
                number = float(text)
            except ValueError:
                raise NLQError(f"{f.label} is a number; '{text}' is not.", position, expected="a number") from None
            return str(int(number)) if number.is_integer() else str(number)
        return text

    # ---- shorthands -----------------------------------------------------------------------------------

    def shorthand(self, children: list[Token]) -> Node:
        (token,) = children
        s = self.fm.index.shorthands[str(token.value)]
        return Condition(s.field, s.op, s.value, _pos(token))

    def person(self, children: list[Token]) -> Node:
        (token,) = children
        if self.fm.person_field is None:
            raise NLQError(
                f"{self.fm.title} have no e-mail field: name the field, e.g. subject contains '{token.value}'.",
                _pos(token),
                expected="a field before the address",
            )
        return Condition(self.fm.person_field, Op.EQ, str(token.value), _pos(token))

    def ip_address(self, children: list[Token]) -> Node:
        (token,) = children
        if self.fm.ip_field is None:
            raise NLQError(
                f"{self.fm.title} have no IP address field.", _pos(token), expected="a field before the address"
            )
        f = self.fm.field(self.fm.ip_field)
        return Condition(f.name, Op.EQ, _ip(f, str(token.value), _pos(token)), _pos(token))

    def action_full(self, children: list[Token]) -> Node:
        actions = self.fm.actions
        assert actions is not None
        verb, *rest = children
        parts: list[Node] = []
        for token in rest:
            if token.type == "VNOUN":
                parts.insert(0, Condition(actions.field, Op.EQ, f"{verb.value} {token.value}", _pos(verb)))
            elif token.type == "TARGET":
                parts.append(Condition(actions.target_field, Op.CONTAINS, str(token.value), _pos(token)))
            else:
                parts.append(Condition(actions.target_field, Op.EQ, str(token.value), _pos(token)))
        return conjoin(parts)

    def action_verb(self, children: list[Token]) -> Node:
        actions = self.fm.actions
        assert actions is not None
        (verb,) = children
        return Condition(actions.field, Op.STARTSWITH, str(verb.value), _pos(verb))

    def action_noun(self, children: list[Token]) -> Node:
        actions = self.fm.actions
        assert actions is not None
        noun = children[0]
        if len(children) == 2:
            return Condition(actions.field, Op.EQ, f"{children[1].value} {noun.value}", _pos(noun))
        return Condition(actions.field, Op.ENDSWITH, str(noun.value), _pos(noun))

    # ---- time -----------------------------------------------------------------------------------------

    def field_time(self, children: list[Any]) -> Node:
        name, pred = children
        return self._time(str(name.value), pred, _pos(name))

    def field_time_not(self, children: list[Any]) -> Node:
        name, _, pred = children
        return Not(self._time(str(name.value), pred, _pos(name)))

    def default_time(self, children: list[Any]) -> Node:
        (pred,) = children
        return self._time(self.fm.time_field, pred, pred.position)

    def _time(self, name: str, pred: _Pred, position: int) -> Node:
        return TimeCondition(name, pred.op, pred.first, pred.second, position)

    def t_in(self, children: list[Any]) -> _Pred:
        point = children[-1]
        return _Pred(TimeOp.WITHIN, point, None, _start(children))

    def t_rolling(self, children: list[Any]) -> _Pred:
        return _Pred(TimeOp.ROLLING, _duration(children), None, _start(children))

    def t_older(self, children: list[Any]) -> _Pred:
        return _Pred(TimeOp.OLDER, _duration(children), None, _start(children))

    def t_since(self, children: list[Any]) -> _Pred:
        return _Pred(TimeOp.SINCE, children[1], None, _start(children))

    def t_after(self, children: list[Any]) -> _Pred:
        return _Pred(TimeOp.AFTER, children[1], None, _start(children))

    def t_before(self, children: list[Any]) -> _Pred:
        return _Pred(TimeOp.BEFORE, children[1], None, _start(children))

    def t_cmp(self, children: list[Any]) -> _Pred:
        return _Pred(_CMP_TIME[Op(children[0].value)], children[1], None, _start(children))

    def t_between(self, children: list[Any]) -> _Pred:
        return _Pred(TimeOp.BETWEEN, children[1], children[2], _start(children))

    def p_named(self, children: list[Token]) -> Point:
        return Named(str(children[0].value))

    def p_this(self, children: list[Token]) -> Point:
        return Calendar(0, Unit(children[1].value))

    def p_last(self, children: list[Token]) -> Point:
        return Calendar(-1, Unit(children[1].value))

    def p_ago(self, children: list[Token]) -> Point:
        return Ago(int(children[0].value), Unit(children[1].value))

    def p_date(self, children: list[Token]) -> Point:
        text = str(children[0].value)
        if text.startswith("--"):
            return OnDate(None, int(text[2:4]), int(text[5:7]))
        if len(text) == 10:
            return OnDate(int(text[:4]), int(text[5:7]), int(text[8:10]))
        return AtTime(text)

    def p_weekday(self, children: list[Token]) -> Point:
        return Weekday(WEEKDAY_NAMES.index(str(children[0].value)))

    def p_last_weekday(self, children: list[Token]) -> Point:
        return Weekday(WEEKDAY_NAMES.index(str(children[1].value)), last=True)


def _start(children: list[Any]) -> int:
    for child in children:
        if isinstance(child, Token):
            return _pos(child)
    return 0


def _duration(children: list[Any]) -> Duration:
    amounts = [c for c in children if isinstance(c, Token) and c.type == "QTY"]
    unit = next(c for c in children if isinstance(c, Token) and c.type == "UNIT")
    return Duration(int(amounts[0].value) if amounts else 1, Unit(unit.value))


def _ip(f: Field, text: str, position: int) -> str:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise NLQError(
            f"'{text}' is not an IP address. To match part of one, say {f.label} starts with '{text}'.",
            position,
            expected="an IPv4 or IPv6 address such as 10.0.0.4",
            suggestions=[f"{f.label} starts with {text}", f"{f.label} contains {text}"],
        ) from None
    return str(address) if address.version == 4 else clean_ipv6_address(text)


def _choice_suggestions(f: Field, text: str) -> list[str]:
    key = compact(text)
    labels = {compact(c.label): c.label for c in f.choices}
    for choice in f.choices:
        for phrase in choice.phrases:
            labels.setdefault(compact(phrase), choice.label)
    close = [labels[k] for k in difflib.get_close_matches(key, list(labels), n=3, cutoff=0.7)]
    partial = [c.label for c in f.choices if key and (key in compact(c.label) or key in compact(c.value))]
    return list(dict.fromkeys(close + partial))


def _unknown_choice(f: Field, text: str, position: int) -> NLQError:
    suggestions = _choice_suggestions(f, text)
    values = ", ".join(c.label for c in f.choices)
    if suggestions:
        options = "' or '".join(suggestions[:3])
        message = f"{f.label} '{text}': did you mean '{options}'?"
    else:
        message = f"{f.label} '{text}' is not one of its values: {values}."
    return NLQError(message, position, expected=f"one of {values}", suggestions=suggestions)


def _no_choice_matches(f: Field, op: Op, text: str, position: int) -> NLQError:
    values = ", ".join(c.label for c in f.choices)
    verb = {Op.CONTAINS: "contains", Op.LIKE: "is like", Op.STARTSWITH: "starts with", Op.ENDSWITH: "ends with"}[op]
    return NLQError(
        f"No {f.label} {verb} '{text}'. The values are: {values}.",
        position,
        expected=f"one of {values}",
        suggestions=_choice_suggestions(f, text),
    )
