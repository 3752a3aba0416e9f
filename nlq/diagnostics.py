"""Diagnostics: what went wrong in a question, where, and what would have fitted there, in words.

Every error the lexer and the parser driver report about the question as a whole is worded here, from where the
lexer stands when nothing fits: the accepted terminals become "a field such as event type, ...", a misspelt field
or operator becomes a did-you-mean, half a time phrase gets an example of a whole one. Errors that belong to one
recogniser (an impossible date, an unmatched ')') stay with it.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from lark import Token

from nlq.errors import NLQError
from nlq.fields import Field, FieldMap, FieldType
from nlq.reader import Reader
from nlq.timephrases import POINT_START, TIME_START
from nlq.vocabulary import AND_WORDS, OR_WORDS, TIME_WORDS, UNITS, compact

if TYPE_CHECKING:
    from nlq.lexer import Lexer

_TIME_EXAMPLES = {
    "SINCE": "'since Nov 3' or 'since yesterday'",
    "AFTER": "'after 2026-11-03'",
    "BEFORE": "'before Nov 3'",
    "ON": "'on Nov 3'",
    "BETWEEN": "'between Nov 1 and Nov 3'",
    "ROLLING": "'in the last 7 days' or 'in the past 24 hours'",
    "OLDER": "'older than 2 hours'",
    "MORE": "'more than 2 days ago'",
    "NEWER": "'less than 2 days ago'",
    "THIS": "'this week'",
    "LAST": "'last week' or 'last 7 days'",
    "AGO": "'2 days ago'",
}
_OP_SUGGESTIONS = ("contains", "equals", "like", "matches", "starts with", "ends with", "is not", "is one of")


class Diagnostics:
    """Words the errors of one question from its lexer's state."""

    def __init__(self, lexer: Lexer) -> None:
        self.lexer = lexer
        self.reader = lexer.reader

    def here(self, acc: set[str]) -> NLQError:
        """Nothing fits the words where the lexer stands, given the accepted terminals ``acc``."""
        i = self.lexer.i
        chunk = self.reader.chunks[i]
        expected = self.describe(acc)
        time_word = self.reader.times.word(i)
        if time_word is not None and acc & (TIME_START | POINT_START):
            example = _TIME_EXAMPLES.get(time_word[0][0], "yesterday, last week, in the last 7 days")
            return NLQError(
                f"'{self.reader.span_text(i, time_word[1])}' must be part of a time phrase, e.g. {example}.",
                chunk.start,
                expected="a time such as yesterday, last week or in the last 7 days",
            )
        amount = self.reader.times.amount(i, optional=False)
        if amount is not None and acc & {"QTY", "ROLLING"}:
            typed = self.reader.span_text(i, amount.end)
            return NLQError(
                f"'{typed}' needs more words to be a time: '{typed} ago' (that day or hour), "
                f"'in the last {typed}' or 'older than {typed}'.",
                chunk.start,
                expected="a time such as yesterday, last week or in the last 7 days",
                suggestions=[f"{typed} ago", f"in the last {typed}", f"older than {typed}"],
            )
        if acc & {"FIELD", "TFIELD"} and chunk.is_word:
            return self._unknown_words(acc)
        if chunk.kind == "quoted" and acc & {"FIELD", "TFIELD"}:
            example = next((f.label for f in self.reader.fm.fields if f.type == FieldType.TEXT), "subject")
            return NLQError(
                f"'{chunk.text}' is a value, but no field comes before it: say which field, "
                f"e.g. {example} is '{chunk.text}'.",
                chunk.start,
                expected=expected,
            )
        if acc & {"BARE", "QUOTED"} and self.lexer.last is not None:
            what = f"after '{self._last_text()}'"
            return NLQError(f"Expected a value {what}, not '{chunk.text}'.", chunk.start, expected=expected)
        if self.lexer.last is not None and self.lexer.last.type in {"FIELD", "TFIELD"}:
            suggestions = difflib.get_close_matches(chunk.lower, _OP_SUGGESTIONS, n=2, cutoff=0.7)
            hint = f" Did you mean '{suggestions[0]}'?" if suggestions else ""
            return NLQError(
                f"After '{self._last_text()}' I expected {expected}, not '{chunk.text}'.{hint}",
                chunk.start,
                expected=expected,
                suggestions=suggestions,
            )
        return NLQError(f"'{chunk.text}' does not fit here: expected {expected}.", chunk.start, expected=expected)

    def describe(self, acc: set[str]) -> str:
        """The accepted terminals ``acc`` in words; a closing ')' only when one is open."""
        return _in_words(acc if self.lexer.open_parens else acc - {"_RPAR"}, self.reader.fm)

    def _last_text(self) -> str:
        token = self.lexer.last
        if token is None or token.start_pos is None or token.end_pos is None:
            return ""
        return self.reader.text[token.start_pos : token.end_pos]

    def _unknown_words(self, acc: set[str]) -> NLQError:
        """An unknown word where a condition starts: a misspelt field, shorthand or time word."""
        start = self.lexer.i
        end = start
        while end < self.reader.n and end - start < 3:
            chunk = self.reader.chunks[end]
            if not chunk.is_word or chunk.lower in AND_WORDS | OR_WORDS or self.reader.operator_at(end, None):
                break
            end += 1
        end = max(end, start + 1)
        typed = self.reader.span_text(start, end)
        op_follows = self.reader.operator_at(end, None) is not None
        position = self.reader.chunks[start].start
        expected = self.describe(acc)
        field_phrases = _phrases(self.reader.fm, fields_only=True)
        suggestions = _close(typed, field_phrases)
        before = self._ignored_word_before(start)
        if before is not None:  # "job nmae": "job" was skipped as a filler but belongs to the misspelt field
            joined = f"{before[0]} {typed}"
            joined_suggestions = _close(joined, field_phrases)
            if joined_suggestions and _similarity(joined, joined_suggestions[0]) > _similarity(
                typed, suggestions[0] if suggestions else ""
            ):
                typed, position, suggestions = joined, before[1], joined_suggestions
        if op_follows and suggestions:
            return NLQError(
                f"'{typed}' is not a field of {self.reader.fm.title}. Did you mean '{suggestions[0]}'?",
                position,
                expected=expected,
                suggestions=suggestions,
            )
        first = self.reader.chunks[start].text
        suggestions = _close(first, _phrases(self.reader.fm, fields_only=False)) or _close(typed, field_phrases)
        hint = f" Did you mean '{suggestions[0]}'?" if suggestions else ""
        if op_follows:
            hint = hint or f" Its fields are: {', '.join(f.label for f in self.reader.fm.fields)}."
            message = f"'{typed}' is not a field of {self.reader.fm.title}.{hint}"
        else:
            message = f"I don't understand '{first}' here.{hint} Expected {expected}."
        return NLQError(message, position, expected=expected, suggestions=suggestions)

    def _ignored_word_before(self, index: int) -> tuple[str, int] | None:
        """The filler word ignored right before chunk ``index``, if any: (text, position)."""
        if not self.lexer.ignored or index == 0:
            return None
        text, position = self.lexer.ignored[-1]
        previous = self.reader.chunks[index - 1]
        return (text, position) if previous.start == position and previous.is_word else None

    def unexpected(self, token: Token, expected: set[str]) -> NLQError:
        """The parser rejected ``token``; ``expected`` is what it would have taken."""
        words = self.describe(expected)
        position = token.start_pos or 0
        text = self.reader.text[position : token.end_pos or position]
        if self.lexer.last is not None:
            return NLQError(
                f"'{text}' cannot follow '{self._last_text()}' here: expected {words}.", position, expected=words
            )
        return NLQError(f"A question cannot start with '{text}': expected {words}.", position, expected=words)

    def at_end(self, acc: set[str]) -> NLQError:
        """The question ended where the parser still expected one of ``acc``."""
        words = self.describe(acc)
        if self.lexer.open_parens and "_RPAR" in acc:
            return NLQError("This '(' is never closed.", self.lexer.open_parens[-1], expected="a closing ')'")
        after = f" after '{self._last_text()}'" if self.lexer.last is not None else ""
        return NLQError(f"The question ends too early: expected {words}{after}.", len(self.reader.text), expected=words)


def check_operator_typo(reader: Reader, index: int, end: int, f: Field) -> None:
    """ "client contians x" must not silently become client = "contians x", nor "status iz failed" a
    complaint about the status 'iz failed'."""
    chunk = reader.chunks[index]
    if not chunk.is_word or (f.type == FieldType.ENUM and f.choice_for(chunk.text)):
        return
    close = difflib.get_close_matches(chunk.lower, _OP_SUGGESTIONS, n=1, cutoff=0.8) if len(chunk.key) >= 4 else []
    rest_is_choice = (
        f.type == FieldType.ENUM
        and end - index > 1
        and reader.choice_span(index, end, f) is None
        and reader.choice_span(index + 1, end, f) == end
    )
    if rest_is_choice and not close:
        close = difflib.get_close_matches(chunk.lower, ["is", "is not", *_OP_SUGGESTIONS], n=1, cutoff=0.4)
        close = close or ["is"]
    if close:
        raise NLQError(
            f"'{chunk.text}' is not an operator. Did you mean '{close[0]}'?",
            chunk.start,
            expected="an operator such as is, contains, starts with",
            suggestions=close,
        )


def _in_words(acc: set[str], fm: FieldMap) -> str:
    """What the parser accepts, in words."""
    parts: list[str] = []
    if acc & {"FIELD", "TFIELD"}:
        labels = ", ".join(f.label for f in fm.fields[:3])
        parts.append(f"a field such as {labels}")
    if acc & {"OP", "LISTOP", "UNOP"}:
        parts.append("an operator such as is, contains, starts with")
    elif acc & {"_TIS", "TNOT"}:
        parts.append("is, is not, before, after, since or between")
    if acc & {"BARE", "QUOTED"}:
        parts.append("a value")
    if acc & TIME_START:
        parts.append("a time such as yesterday, last week or in the last 7 days")
    elif acc & POINT_START:
        parts.append("a time such as yesterday, Nov 3 or 2 days ago")
    elif "QTY" in acc:
        parts.append("a number")
    if "UNIT" in acc and not acc & POINT_START:
        parts.append("a unit such as hours, days or weeks")
    if "AGO" in acc:
        parts.append("'ago'")
    if "VNOUN" in acc:
        parts.append("a resource such as provider, user or role")
    if "_AND" in acc and not acc & (TIME_START | {"FIELD"}):
        parts.append("'and'")
    if "_RPAR" in acc:
        parts.append("a closing ')'")
    if not parts:
        return "the end of the question"
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"


def _phrases(fm: FieldMap, *, fields_only: bool) -> dict[str, str]:
    """Compact key -> phrase to suggest, for did-you-mean."""
    out: dict[str, str] = {}
    for f in fm.fields:
        for phrase in (f.label, *f.synonyms):
            out.setdefault(compact(phrase), phrase)
    if fields_only:
        return out
    for s in fm.declared_shorthands:
        for phrase in s.phrases:
            out.setdefault(compact(phrase), phrase)
    for f in fm.fields:
        for choice in f.choices:
            out.setdefault(compact(choice.label), choice.label)
    if fm.actions:
        for words in (*fm.actions.verbs.values(), *fm.actions.resources.values()):
            for phrase in words:
                out.setdefault(compact(phrase), phrase)
    for key, (_, value) in TIME_WORDS.items():
        out.setdefault(key, value if key == compact(value) else key)
    for key in UNITS:
        out.setdefault(key, key)
    return out


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, compact(a), compact(b)).ratio()


def _close(typed: str, phrases: dict[str, str]) -> list[str]:
    key = compact(typed)
    if not key:
        return []
    matches = difflib.get_close_matches(key, list(phrases), n=3, cutoff=0.75)
    return list(dict.fromkeys(phrases[m] for m in matches))
