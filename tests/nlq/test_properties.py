"""Property-based tests: nothing but NLQError ever escapes, and canonical text round-trips (no database)."""

from __future__ import annotations

import contextlib
import os
import re
import string
import time
import timeit
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from nlq import MAX_LENGTH, NLQError, interpret
from nlq.fields import FieldMap, FieldType
from nlq.ir import Condition, Op
from nlq.vocabulary import FILLERS, MONTHS, NUMBER_WORDS, OPERATORS, TIME_WORDS, UNITS, WEEKDAYS

from .conftest import MAPS

#: NLQ_FUZZ_SCALE=20 multiplies every example count by 20 for a long fuzzing run.
SCALE = float(os.environ.get("NLQ_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return max(1, int(n * SCALE))


ZONES = [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Chatham")]


def _words(fm: FieldMap) -> list[str]:
    """Words a question on ``fm`` is made of: its own phrases, the fixed vocabulary and some values."""
    words: list[str] = []
    for f in fm.fields:
        words += [f.label, *f.synonyms, f.name]
        for c in f.choices:
            words += [c.value, c.label]
    for s in fm.declared_shorthands:
        words += list(s.phrases)
    if fm.actions:
        for verbs in fm.actions.verbs.values():
            words += list(verbs)
        for nouns in fm.actions.resources.values():
            words += list(nouns)
    words += list(fm.nouns)
    vocabulary = [*OPERATORS, *TIME_WORDS, *UNITS, *NUMBER_WORDS, *FILLERS, *MONTHS, *WEEKDAYS]
    words += vocabulary
    words += [
        "is",
        "is not",
        "in the last",
        "is one of",
        "does not contain",
        "starts with",
        "older than",
        "more than",
        "ago",
        "between",
        "and",
        "or",
        "not",
        "(",
        ")",
        ",",
        "=",
        "!=",
        ">=",
        "<",
        "'x y'",
        '"quoted"',
        "user@example.com",
        "10.0.0.4",
        "::1",
        "2026-11-03",
        "2026-11-03T10:00Z",
        "10:00",
        "7",
        "24h",
        "3rd",
        "2026",
        "*",
        "a*b",
        "%",
        "?",
        "from",
        "to",
        "the",
        "auth ui",
        "google",
        "123",
        "'",
        "\\",
        "’",
        "“x”",
    ]
    return words


@st.composite
def questions(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(list(MAPS)))
    words = draw(st.lists(st.sampled_from(_words(MAPS[kind])), min_size=1, max_size=12))
    return kind, " ".join(words)


moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))


@settings(max_examples=examples(1500), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(questions(), moments, st.sampled_from(ZONES))
def test_word_salad_raises_only_nlq_errors(question: tuple[str, str], now: datetime, tz: ZoneInfo) -> None:
    kind, text = question
    try:
        interpret(text, MAPS[kind], now=now, tz=tz)
    except NLQError as error:
        assert 0 <= error.position <= len(text)
        assert error.message and error.expected


@settings(max_examples=examples(500), deadline=None)
@given(st.sampled_from(list(MAPS)), st.text(max_size=200), st.sampled_from(ZONES))
def test_any_text_raises_only_nlq_errors(kind: str, text: str, tz: ZoneInfo) -> None:
    try:
        interpret(text, MAPS[kind], now=datetime(2026, 11, 26, 14, 30, tzinfo=UTC), tz=tz)
    except NLQError as error:
        assert 0 <= error.position <= len(text)


@settings(max_examples=examples(300), deadline=None)
@given(st.sampled_from(list(MAPS)), st.text(alphabet=string.printable, min_size=MAX_LENGTH - 50, max_size=MAX_LENGTH))
def test_long_printable_text_raises_only_nlq_errors(kind: str, text: str) -> None:
    with contextlib.suppress(NLQError):
        interpret(text, MAPS[kind], now=datetime(2026, 11, 26, 14, 30, tzinfo=UTC), tz=ZONES[1])


def _quoted(value: str) -> str:
    return '"' + re.sub(r'([\\\\"”])', r"\\\1", value) + '"'


_TEXT_OPS = [
    "is",
    "=",
    "is not",
    "!=",
    "contains",
    "does not contain",
    "like",
    "not like",
    "starts with",
    "ends with",
    "equals",
    "doesn't contain",
    "begins with",
]
_UNITS = ["minutes", "hours", "days", "weeks", "months", "years", "hour", "day", "week", "month", "year"]
_SAFE_WORDS = st.sampled_from(["auth", "ui", "google", "beta", "x1", "prod", "eu-west", "a.b", "Timeout", "_x"])


@st.composite
def _time_phrase(draw: st.DrawFn) -> str:
    n = draw(st.integers(min_value=0, max_value=400))
    word_n = draw(st.sampled_from(["one", "two", "seven", "twenty", "a", str(n)]))
    unit = draw(st.sampled_from(_UNITS))
    month = draw(st.sampled_from(["Nov", "November", "jan", "Feb", "dec"]))
    day = draw(st.integers(min_value=1, max_value=28))
    point = draw(
        st.sampled_from(
            [
                "today",
                "yesterday",
                "now",
                f"this {unit.rstrip('s')}",
                f"last {unit.rstrip('s')}",
                f"{n} {unit} ago",
                f"{word_n} {unit} ago",
                f"{month} {day}",
                f"{day} {month} 2025",
                f"2026-0{day % 9 + 1}-{day:02d}",
                f"2026-11-{day:02d}T10:{day:02d}",
                "monday",
                "last friday",
                f"{month} {day}, 2024",
            ]
        )
    )
    other = draw(st.sampled_from(["today", "yesterday", "now", f"{month} {day}"]))
    return draw(
        st.sampled_from(
            [
                point,
                f"on {point}",
                f"since {point}",
                f"after {point}",
                f"before {point}",
                f"between {point} and {other}",
                f"in the last {n} {unit}",
                f"in the past {unit}",
                f"past {word_n} {unit}",
                f"last {n} {unit}",
                f"older than {n} {unit}",
                f"more than {word_n} {unit} ago",
                f"less than {n} {unit} ago",
                f"from {point}",
                f"> {point}",
                f"<= {point}",
                f"within the last {n} {unit}",
            ]
        )
    )


@st.composite
def _condition(draw: st.DrawFn, fm: FieldMap) -> str:
    f = draw(st.sampled_from(fm.fields))
    name = draw(st.sampled_from([f.label, f.name, *f.synonyms]))
    if f.type == FieldType.DATETIME:
        return f"{name} {draw(st.sampled_from(['', 'is ', 'was ']))}{draw(_time_phrase())}"
    if draw(st.integers(0, 9)) == 0:
        return f"{name} {draw(st.sampled_from(['is empty', 'is not empty', 'is blank', 'exists']))}"
    if f.type == FieldType.ENUM:
        choices = [draw(st.sampled_from([c.value, c.label, *c.synonyms])) for c in f.choices]
        value = draw(st.sampled_from(choices))
        op = draw(st.sampled_from(["is", "is not", "=", "!=", ""]))
        if draw(st.booleans()):
            items = draw(st.lists(st.sampled_from(choices), min_size=1, max_size=3))
            return f"{name} {draw(st.sampled_from(['is one of', 'in', 'is not one of']))} ({', '.join(items)})"
        return f"{name} {op} {value if draw(st.booleans()) else _quoted(value)}"
    if f.type == FieldType.IP:
        value = draw(st.sampled_from(["10.0.0.4", "10.0.0.40", "::1", "2001:DB8::1", "192.168.1.1"]))
        return f"{name} {draw(st.sampled_from(['is', 'is not', '=', '']))} {value}"
    if f.type == FieldType.JSON:
        return f"{name} {draw(st.sampled_from(['contains', 'does not contain']))} {_quoted(draw(st.text(max_size=8)))}"
    value = draw(st.one_of(_SAFE_WORDS, st.text(max_size=12).map(_quoted), st.just("user@example.com")))
    return f"{name} {draw(st.sampled_from(_TEXT_OPS))} {value}"


@st.composite
def _atom(draw: st.DrawFn, fm: FieldMap) -> str:
    options = [_condition(fm), _time_phrase()]
    shorthands = [p for s in fm.declared_shorthands for p in s.phrases]
    shorthands += [c.label for f in fm.fields for c in f.choices]
    if fm.person_field:
        shorthands.append("bob@example.com")
    if fm.ip_field:
        shorthands += ["10.0.0.4", "from IP 10.0.0.40"]
    if fm.actions:
        verbs = [w for words in fm.actions.verbs.values() for w in words]
        nouns = [w for words in fm.actions.resources.values() for w in words]
        options.append(st.builds(lambda v, n: f"{v} the google {n}", st.sampled_from(verbs), st.sampled_from(nouns)))
        options.append(st.builds(lambda n, v: f"{n} {v}", st.sampled_from(nouns), st.sampled_from(verbs)))
        shorthands += verbs
    options.append(st.sampled_from(shorthands))
    return draw(st.one_of(options))


@st.composite
def valid_questions(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(list(MAPS)))
    fm = MAPS[kind]
    parts = [draw(_atom(fm))]
    for _ in range(draw(st.integers(0, 3))):
        joiner = draw(st.sampled_from([" and ", " or ", " and not ", " or not ", " AND "]))
        atom = draw(_atom(fm))
        if draw(st.integers(0, 4)) == 0:
            atom = f"({atom} or {draw(_atom(fm))})"
        parts.append(joiner + atom)
    filler = draw(st.sampled_from(["", "show me ", "find all ", "please list the "]))
    return kind, filler + "".join(parts) + draw(st.sampled_from(["", "?"]))


@settings(max_examples=examples(2000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_questions(), moments, st.sampled_from(ZONES))
def test_canonical_text_round_trips(question: tuple[str, str], now: datetime, tz: ZoneInfo) -> None:
    kind, text = question
    fm = MAPS[kind]
    try:
        first = interpret(text, fm, now=now, tz=tz)
    except NLQError:
        assume(False)
        return
    second = interpret(first.canonical, fm, now=now, tz=tz)
    assert second.node == first.node, (text, first.canonical)
    assert second.canonical == first.canonical
    assert second.q == first.q
    if first.node is not None:  # only filler words: the canonical text is blank
        assert second.summary == first.summary
        assert second.chips == first.chips


@settings(max_examples=examples(500), deadline=None)
@given(st.sampled_from(list(MAPS)), st.text(max_size=40))
def test_any_quoted_text_is_taken_literally(kind: str, value: str) -> None:
    fm = MAPS[kind]
    text_field = next(f for f in fm.fields if f.type == FieldType.TEXT)
    result = interpret(
        f"{text_field.label} is {_quoted(value)}", fm, now=datetime(2026, 11, 26, tzinfo=UTC), tz=ZONES[0]
    )
    assert result.node == Condition(text_field.name, Op.EQ, value)
    assert interpret(result.canonical, fm, now=datetime(2026, 11, 26, tzinfo=UTC), tz=ZONES[0]).node == result.node


def test_garbage_of_the_maximum_length_fails_fast() -> None:
    garbage = [
        "(" * 500 + ")" * 500,
        "not " * 250,
        "a" * MAX_LENGTH,
        "event type is " + "login or " * 110,
        ("failed logins " * 80)[:MAX_LENGTH],
        ("client is auth ui and " * 50)[:MAX_LENGTH],
        ("between Nov 1 and " * 60)[:MAX_LENGTH],
        ("modified the google provider " * 40)[:MAX_LENGTH],
        "x" * 998 + "'",
        " ".join(["in the last 7"] * 75)[:MAX_LENGTH],
    ]
    for text in garbage:
        for fm in MAPS.values():

            def attempt(text=text, fm=fm) -> None:
                with contextlib.suppress(NLQError):
                    interpret(text, fm, now=datetime(2026, 11, 26, tzinfo=UTC), tz=ZONES[1])

            # the best of two in CPU time with the garbage collector off (timeit): the parser's work, not the load
            best = min(timeit.repeat(attempt, number=1, repeat=2, timer=time.process_time))
            assert best < 1.0, text[:40]


def test_naive_now_is_a_programming_error() -> None:
    import pytest

    with pytest.raises(ValueError, match="aware"):
        interpret("logins", MAPS["events"], now=datetime(2026, 11, 26), tz=ZONES[0])


def test_far_future_and_past_nows() -> None:
    for now in (datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 12, 30, tzinfo=UTC)):
        for text in ("last year", "in the last 3 months", "1 year ago", "on Feb 29", "this week", "tomorrow"):
            with contextlib.suppress(NLQError):
                interpret(text, MAPS["events"], now=now, tz=ZONES[1])
    assert timedelta(0) == timedelta(0)
