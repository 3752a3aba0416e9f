"""Time phrases: "yesterday", "last week", "in the last 7 days", "since Nov 3", "from Monday to Friday".

A recogniser, not a parser: given a chunk index it says whether a complete time phrase starts there and returns
its tokens, or None. The lexer asks it before and while reading values, because a time phrase ends a bare value
("client is auth ui in the last 7 days"); the diagnostics ask it to tell a half-typed time from an unknown word.
Only an impossible date ("Feb 30", "2026-13-01") is an error here: it is recognised as a date and cannot be one.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from nlq.chunks import Chunks, Match, token
from nlq.errors import NLQError
from nlq.scanner import Chunk
from nlq.vocabulary import (
    AND_WORDS,
    ARTICLE_ONE,
    COMPACT_UNITS,
    FROM_WORD,
    MAX_TIME_WORDS,
    MONTH_ABBR,
    MONTHS,
    NUMBER_WORDS,
    RANGE_TO_WORDS,
    TIME_WORDS,
    UNITS,
    WEEKDAY_NAMES,
    WEEKDAYS,
)

#: Terminals that start a time phrase.
TIME_START = frozenset(
    {"NAMED", "THIS", "LAST", "ROLLING", "NEWER", "OLDER", "MORE", "ON", "SINCE", "AFTER", "BEFORE", "BETWEEN"}
)
#: Terminals that start a time point ("Nov 3", "2 days ago").
POINT_START = frozenset({"NAMED", "THIS", "LAST", "QTY", "DATE", "WEEKDAY"})
#: A time phrase starting with one of these ends a bare value ("client is auth ui in the last 7 days").
TERMINATING_TIME = TIME_START | {"QTY"}
_DAY_RE = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")
_YEAR_RE = re.compile(r"\d{4}")
_COMPACT_DURATION_RE = re.compile(r"(\d+)([a-z]+)")


class TimePhrases:
    """Recognises time phrases in one question's chunks."""

    def __init__(self, chunks: Chunks) -> None:
        self.c = chunks

    def at(self, index: int) -> Match | None:
        """A complete time phrase at chunk ``index`` as tokens, or None."""
        chunk = self.c.chunk(index)
        if chunk is None or chunk.kind == "quoted":
            return None
        if chunk.key == FROM_WORD:
            first = self._point(index + 1)
            if first is not None:
                to = self.c.chunk(first.end)
                if to is not None and to.is_word and to.key in RANGE_TO_WORDS:
                    second = self._point(first.end + 1)
                    if second is not None:
                        return Match(
                            [
                                token("BETWEEN", "between", chunk.start, chunk.end),
                                *first.tokens,
                                token("_AND", "and", to.start, to.end),
                                *second.tokens,
                            ],
                            second.end,
                            first.ignored + second.ignored,
                        )
            core = self._core(index + 1)
            if core is not None:
                core.ignored.insert(0, index)
            return core
        return self._core(index)

    def word(self, index: int) -> tuple[tuple[str, str], int] | None:
        found = self.c.lookup(index, TIME_WORDS, MAX_TIME_WORDS)
        return (found[0], index + found[1]) if found else None

    def _core(self, index: int) -> Match | None:
        found = self.word(index)
        if found is None:
            return self._point(index)
        (kind, value), after = found
        keyword = self.c.word_token(kind, value, index, after)
        if kind in {"ON", "SINCE", "AFTER", "BEFORE"}:
            point = self._point(after)
            return Match([keyword, *point.tokens], point.end, point.ignored) if point else None
        if kind == "BETWEEN":
            first = self._point(after)
            if first is None:
                return None
            conj = self.c.chunk(first.end)
            if conj is None or conj.lower not in AND_WORDS:
                return None
            second = self._point(first.end + 1)
            if second is None:
                return None
            conj_token = token("_AND", "and", conj.start, conj.end)
            return Match(
                [keyword, *first.tokens, conj_token, *second.tokens], second.end, first.ignored + second.ignored
            )
        if kind == "LAST" and (amount := self.amount(after, optional=False)) is not None:
            return Match([keyword, *amount.tokens], amount.end)
        if kind in {"ROLLING", "OLDER", "MORE", "NEWER"}:
            amount = self.amount(after, optional=kind == "ROLLING")
            if amount is None:
                return None
            ago = self.word(amount.end)
            has_ago = ago is not None and ago[0][0] == "AGO"
            if kind == "MORE" and not has_ago:
                return None
            if has_ago and kind in {"MORE", "NEWER"} and ago is not None:
                ago_token = self.c.word_token("AGO", "ago", amount.end, ago[1])
                return Match([keyword, *amount.tokens, ago_token], ago[1])
            return Match([keyword, *amount.tokens], amount.end)
        return self._point(index)

    def _point(self, index: int) -> Match | None:
        """A time point: today, last week, 2 days ago, Nov 3, 2026-11-03, monday, last monday."""
        chunk = self.c.chunk(index)
        if chunk is None or not chunk.is_word:
            return None
        found = self.word(index)
        if found is None and chunk.key == "the":
            inner = self._point(index + 1)  # "since the 3rd of November"
            if inner is not None:
                inner.ignored.insert(0, index)
            return inner
        if found is not None:
            (kind, value), after = found
            keyword = self.c.word_token(kind, value, index, after)
            if kind == "NAMED":
                return Match([keyword], after)
            if kind in {"THIS", "LAST"}:
                unit_chunk = self.c.chunk(after)
                if unit_chunk is not None and unit_chunk.key in UNITS:
                    unit = self.c.word_token("UNIT", UNITS[unit_chunk.key].value, after, after + 1)
                    return Match([keyword, unit], after + 1)
                if kind == "LAST" and unit_chunk is not None and unit_chunk.key in WEEKDAYS:
                    day = self.c.word_token("WEEKDAY", WEEKDAY_NAMES[WEEKDAYS[unit_chunk.key]], after, after + 1)
                    return Match([keyword, day], after + 1)
            return None
        if chunk.key in WEEKDAYS:
            return Match(
                [self.c.word_token("WEEKDAY", WEEKDAY_NAMES[WEEKDAYS[chunk.key]], index, index + 1)], index + 1
            )
        when = self._date(index)
        if when is not None:
            return when
        amount = self.amount(index, optional=False)
        if amount is not None:
            ago = self.word(amount.end)
            if ago is not None and ago[0][0] == "AGO":
                return Match([*amount.tokens, self.c.word_token("AGO", "ago", amount.end, ago[1])], ago[1])
        return None

    def amount(self, index: int, *, optional: bool) -> Match | None:
        """A quantity and a unit ("7 days", "two weeks", "an hour", "24h"), or a unit alone if ``optional``."""
        chunk = self.c.chunk(index)
        if chunk is None or not chunk.is_word:
            return None
        compact_duration = _COMPACT_DURATION_RE.fullmatch(chunk.lower)
        if compact_duration and compact_duration.group(2) in COMPACT_UNITS:
            digits = compact_duration.group(1)
            cut = chunk.start + len(digits)
            unit = COMPACT_UNITS[compact_duration.group(2)]
            return Match([token("QTY", digits, chunk.start, cut), token("UNIT", unit.value, cut, chunk.end)], index + 1)
        unit_chunk = self.c.chunk(index + 1)
        has_unit = unit_chunk is not None and unit_chunk.key in UNITS
        if chunk.is_number:
            number: int | None = int(chunk.text)
        else:
            number = NUMBER_WORDS.get(chunk.key, 1 if chunk.key in ARTICLE_ONE and has_unit else None)
        if number is not None and has_unit and unit_chunk is not None:
            return Match(
                [
                    self.c.word_token("QTY", str(number), index, index + 1),
                    self.c.word_token("UNIT", UNITS[unit_chunk.key].value, index + 1, index + 2),
                ],
                index + 2,
            )
        if optional and chunk.key in UNITS:
            return Match([self.c.word_token("UNIT", UNITS[chunk.key].value, index, index + 1)], index + 1)
        return None

    def _date(self, index: int) -> Match | None:
        """ISO dates and date-times, "Nov 3", "November 3rd, 2026", "3 Nov", "3rd of November 2026"."""
        chunk = self.c.chunks[index]
        if chunk.is_iso:
            text, end = chunk.text, index + 1
            clock = self.c.chunk(index + 1)
            if len(text) == 10 and clock is not None and clock.is_clock:
                text, end = f"{text}T{clock.text}", index + 2
            try:
                datetime.fromisoformat(text)
            except (ValueError, OverflowError):
                raise NLQError(
                    f"'{self.c.span_text(index, end)}' is not a valid date.",
                    chunk.start,
                    expected="a date such as 2026-11-03",
                ) from None
            return Match([self.c.word_token("DATE", text.upper(), index, end)], end)
        month = MONTHS.get(chunk.key)
        if month is not None:
            day_chunk = self.c.chunk(index + 1)
            day = _day(day_chunk)
            if day is None:
                return None
            end = index + 2
            year, end = self._year(end)
            return self._date_match(index, end, year, month, day)
        day = _day(chunk)
        if day is None:
            return None
        after = index + 1
        of = self.c.chunk(after)
        if of is not None and of.key == "of":
            after += 1
        month_chunk = self.c.chunk(after)
        if month_chunk is None or month_chunk.key not in MONTHS:
            return None
        year, end = self._year(after + 1)
        return self._date_match(index, end, year, MONTHS[month_chunk.key], day)

    def _year(self, index: int) -> tuple[int | None, int]:
        """An optional year at ``index`` (after an optional comma): (year, index after it)."""
        at = index
        comma = self.c.chunk(at)
        if comma is not None and comma.kind == "sym" and comma.text == ",":
            at += 1
        chunk = self.c.chunk(at)
        if chunk is not None and chunk.is_word and _YEAR_RE.fullmatch(chunk.text):
            return int(chunk.text), at + 1
        return None, index

    def _date_match(self, start: int, end: int, year: int | None, month: int, day: int) -> Match:
        try:
            date(year or 2000, month, day)
        except ValueError:
            raise NLQError(
                f"'{self.c.span_text(start, end)}' is not a date: {MONTH_ABBR[month]} has no day {day}.",
                self.c.chunks[start].start,
                expected="a date such as Nov 3 or 3 November 2026",
            ) from None
        value = f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"
        return Match([self.c.word_token("DATE", value, start, end)], end)


def _day(chunk: Chunk | None) -> int | None:
    if chunk is None or not chunk.is_word:
        return None
    m = _DAY_RE.fullmatch(chunk.lower)
    if m is None or not 1 <= int(m.group(1)) <= 31:
        return None
    return int(m.group(1))
