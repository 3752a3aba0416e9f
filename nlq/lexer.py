"""Lexing and parsing: chunks -> tokens -> lark parse tree.

The lexer is hand-written because the same words mean different things in different places ("is" is an
operator after a field and a no-op after a time field; "auth ui" is a value after "client is"; "last week" ends a
bare value) and because the words themselves come from the page's field map. It drives lark's LALR parser
interactively: before each token it asks the parser which terminals it accepts (``choices()``) and classifies
the next words as the first kind of token that fits. Everything the grammar rejects surfaces as an NLQError
that says where and what was expected.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lark.lexer import Lexer

from nlq.errors import NLQError
from nlq.fields import Field, FieldMap, FieldType
from nlq.scanner import Chunk, scan
from nlq.vocabulary import (
    AND_WORDS,
    ARTICLE_ONE,
    COMPACT_UNITS,
    FILLERS,
    FROM_WORD,
    MAX_OPERATOR_WORDS,
    MAX_TIME_WORDS,
    MONTH_ABBR,
    MONTHS,
    NOT_WORDS,
    NUMBER_WORDS,
    OPERATORS,
    OR_WORDS,
    PAREN_OPERATORS,
    RANGE_TO_WORDS,
    SYMBOL_OPERATORS,
    TIME_LEAD_FILLERS,
    TIME_WORDS,
    UNITS,
    WEEKDAY_NAMES,
    WEEKDAYS,
    OpEntry,
    compact,
)

MAX_NESTING = 32
VALUE_TERMINALS = frozenset({"QUOTED", "BARE", "EMAIL", "IP", "NUMBER"})
_TIME_START = frozenset(
    {"NAMED", "THIS", "LAST", "ROLLING", "NEWER", "OLDER", "MORE", "ON", "SINCE", "AFTER", "BEFORE", "BETWEEN"}
)
_POINT_START = frozenset({"NAMED", "THIS", "LAST", "QTY", "DATE", "WEEKDAY"})
#: A time phrase starting with one of these ends a bare value ("client is auth ui in the last 7 days").
_TERMINATING_TIME = _TIME_START | {"QTY"}
_DAY_RE = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?")
_YEAR_RE = re.compile(r"\d{4}")
_COMPACT_DURATION_RE = re.compile(r"(\d+)([a-z]+)")
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


class _FedTokens(Lexer):
    """Placeholder: tokens are fed to lark's interactive parser by :class:`_Parser`, never lexed by lark."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    def lex(self, *args: Any) -> Any:
        raise NotImplementedError


_LARK = Lark(
    (Path(__file__).with_name("grammar.lark")).read_text(encoding="utf-8"),
    parser="lalr",
    lexer=_FedTokens,
    strict=True,
)


@dataclass
class ParseResult:
    """The parse tree (None when the question holds no condition) and the words that were ignored."""

    tree: Tree[Token] | None
    ignored: list[tuple[str, int]]


def parse(text: str, field_map: FieldMap) -> ParseResult:
    """Parse ``text`` against ``field_map``. Raises NLQError when it cannot be understood."""
    return _Parser(text, field_map).run()


@dataclass
class _ListState:
    paren: bool = False
    final: bool = False  # an unparenthesised list ends after the next item ("a, b or c")


@dataclass
class _Match:
    tokens: list[Token]
    end: int  # chunk index after the match
    ignored: list[int] = field(default_factory=list)  # chunk indexes skipped as fillers


def _tok(kind: str, value: str, start: int, end: int) -> Token:
    return Token(kind, value, start_pos=start, end_pos=end)


class _Parser:
    """One question's lexer, feeding lark's interactive LALR parser token by token."""

    def __init__(self, text: str, field_map: FieldMap) -> None:
        self.text = text
        self.fm = field_map
        self.ix = field_map.index
        self.chunks: list[Chunk] = scan(text)
        self.n = len(self.chunks)
        self.i = 0
        self.ip = _LARK.parse_interactive(None)
        self.ignored: list[tuple[str, int]] = []
        self.field: Field | None = None  # the field of the condition being read
        self.list: _ListState | None = None
        self.open_parens: list[int] = []  # positions of "(" not yet closed
        self.levels: list[int] = []  # per open parenthesis around here: the "not"s right before it
        self.nots = 0  # "not"s in a row just before here
        self.last: Token | None = None

    # ---- driving -------------------------------------------------------------------------------------

    def run(self) -> ParseResult:
        while True:
            acc = self._accepts()
            if self.i >= self.n:
                break
            chunk = self.chunks[self.i]
            if chunk.kind == "trailing":
                self._ignore(self.i)
                self.i += 1
                continue
            tokens = self._next(acc)
            for token in tokens:
                self._feed(token)
        if "$END" not in acc:
            raise self._error_at_end(acc)
        if self.last is None:
            return ParseResult(None, self.ignored)
        try:
            tree = self.ip.feed_eof(self.last)  # type: ignore[no-untyped-call]
        except UnexpectedInput as exc:  # pragma: no cover - "$END" was accepted above
            raise self._error_at_end(acc) from exc
        return ParseResult(tree if tree.children else None, self.ignored)

    def _accepts(self) -> set[str]:
        choices = self.ip.choices()  # type: ignore[no-untyped-call]
        return {k for k in choices if k == "$END" or k.lstrip("_")[:1].isupper()}

    def _feed(self, token: Token) -> None:
        if self.list is not None and token.type not in VALUE_TERMINALS | {"_LSEP", "_LPAR", "LISTOP"}:
            self.list = None
        if token.type != "NOT":
            self.nots = 0
        try:
            self.ip.feed_token(token)
        except UnexpectedInput as exc:
            expected = set(getattr(exc, "expected", ()) or ()) or self._accepts()
            raise self._error_unexpected(token, expected) from None
        self.last = token

    def _ignore(self, index: int) -> None:
        chunk = self.chunks[index]
        self.ignored.append((chunk.text, chunk.start))

    def _chunk(self, index: int) -> Chunk | None:
        return self.chunks[index] if 0 <= index < self.n and self.chunks[index].kind != "trailing" else None

    def _span_text(self, start: int, end: int) -> str:
        """The question's text from chunk ``start`` to before chunk ``end``, whitespace collapsed."""
        return " ".join(self.text[self.chunks[start].start : self.chunks[end - 1].end].split())

    def _emit(self, kind: str, value: str, start: int, end: int) -> list[Token]:
        """One token covering chunks ``start``..``end - 1``; advances past them."""
        self.i = end
        return [_tok(kind, value, self.chunks[start].start, self.chunks[end - 1].end)]

    # ---- the next token(s) -----------------------------------------------------------------------------

    def _next(self, acc: set[str]) -> list[Token]:
        for step in (
            self._paren,
            self._separator,
            self._connective,
            self._time,
            self._operator,
            self._vocabulary,
            self._value,
        ):
            tokens = step(acc)
            if tokens is not None:
                return tokens
        if self._filler():
            return []
        raise self._error_here(acc)

    def _paren(self, acc: set[str]) -> list[Token] | None:
        chunk = self.chunks[self.i]
        if chunk.kind != "sym" or chunk.text not in "()":
            return None
        if chunk.text == "(" and "_LPAR" in acc:
            if self.list is not None and self.last is not None and self.last.type == "LISTOP":
                self.list.paren = True
            else:
                self.levels.append(self.nots)
                self._check_depth()
            self.open_parens.append(chunk.start)
            return self._emit("_LPAR", "(", self.i, self.i + 1)
        if chunk.text == ")" and not self.open_parens:
            raise NLQError("This ')' has no matching '('.", chunk.start, expected="a '(' before it, or no ')'")
        if chunk.text == ")" and "_RPAR" in acc:
            if self.list is not None and self.list.paren:
                self.list = None
            else:
                self.levels.pop()
            self.open_parens.pop()
            return self._emit("_RPAR", ")", self.i, self.i + 1)
        return None

    def _check_depth(self) -> None:
        """Nesting is every open parenthesis and every "not" that applies here."""
        if sum(1 + nots for nots in self.levels) + self.nots > MAX_NESTING:
            raise NLQError(
                f"The question nests more than {MAX_NESTING} levels deep.",
                self.chunks[self.i].start,
                expected="fewer parentheses or 'not's",
            )

    def _separator(self, acc: set[str]) -> list[Token] | None:
        """List separators: "," always; "or" and "and" as the last one ("a, b or c")."""
        state = self.list
        if state is None or "_LSEP" not in acc:
            return None
        chunk = self.chunks[self.i]
        start = self.i
        if chunk.kind == "sym" and chunk.text == ",":
            after = self._chunk(self.i + 1)
            if after is not None and after.lower in (OR_WORDS | AND_WORDS) - {"but"}:
                self._ignore(self.i + 1)
                state.final = not state.paren
                return self._emit("_LSEP", ",", start, self.i + 2)
            return self._emit("_LSEP", ",", start, self.i + 1)
        if chunk.lower in OR_WORDS or (chunk.lower == "and" and (state.paren or self._choice_follows(self.i + 1))):
            state.final = not state.paren
            return self._emit("_LSEP", chunk.text, start, self.i + 1)
        return None

    def _choice_follows(self, index: int) -> bool:
        f = self.field
        if f is None or f.type != FieldType.ENUM:
            return False
        return self._choice_span(index, self._run_end(index, in_list=True), f) is not None

    def _connective(self, acc: set[str]) -> list[Token] | None:
        chunk = self.chunks[self.i]
        if chunk.lower in AND_WORDS and "_AND" in acc:
            return self._emit("_AND", "and", self.i, self.i + 1)
        if chunk.lower in OR_WORDS and "_OR" in acc:
            return self._emit("_OR", "or", self.i, self.i + 1)
        if chunk.lower in NOT_WORDS and "NOT" in acc:
            self.nots += 1
            self._check_depth()
            return self._emit("NOT", "not", self.i, self.i + 1)
        return None

    def _time(self, acc: set[str]) -> list[Token] | None:
        match = self._time_at(self.i)
        if match is None or match.tokens[0].type not in acc:
            return None
        for index in match.ignored:
            self._ignore(index)
        self.i = match.end
        return match.tokens

    def _operator(self, acc: set[str]) -> list[Token] | None:
        found = self._operator_at(self.i, acc)
        if found is None:
            return None
        (kind, op), end = found
        if kind == "LISTOP":
            self.list = _ListState()
        return self._emit(kind, op.value if op is not None else "is", self.i, end)

    def _operator_at(self, index: int, acc: set[str] | None) -> tuple[OpEntry, int] | None:
        """The longest operator at chunk ``index`` whose terminal is in ``acc`` (any terminal when None)."""
        chunk = self._chunk(index)
        if chunk is None:
            return None

        def pick(entries: list[OpEntry]) -> OpEntry | None:
            return next((e for e in entries if acc is None or e[0] in acc), None)

        if chunk.kind == "sym":
            entry = pick(SYMBOL_OPERATORS.get(chunk.text, []))
            return (entry, index + 1) if entry else None
        for length in range(min(MAX_OPERATOR_WORDS, self.n - index), 0, -1):
            key = self._key(index, length)
            if key is None:
                continue
            entry = pick(OPERATORS.get(key, []))
            if entry is None and key in PAREN_OPERATORS:
                after = self._chunk(index + length)
                if after is not None and after.kind == "sym" and after.text == "(":
                    entry = pick(PAREN_OPERATORS[key])
            if entry is not None:
                return entry, index + length
        return None

    def _key(self, index: int, length: int) -> str | None:
        """Compact key of ``length`` word chunks from ``index``; None when any of them is not a word."""
        parts = []
        for j in range(index, index + length):
            chunk = self._chunk(j)
            if chunk is None or not chunk.is_word or not chunk.key:
                return None
            parts.append(chunk.key)
        return "".join(parts)

    def _lookup(self, index: int, table: dict[str, Any] | set[str], max_words: int) -> tuple[Any, int] | None:
        """Longest phrase of ``table`` at chunk ``index``: (value, chunk count)."""
        for length in range(min(max_words, self.n - index), 0, -1):
            key = self._key(index, length)
            if key is not None and key in table:
                return (table[key] if isinstance(table, dict) else key), length
        return None

    # ---- fields, shorthands, audit verbs and nouns --------------------------------------------------------

    def _vocabulary(self, acc: set[str]) -> list[Token] | None:
        i, ix, words = self.i, self.ix, self.ix.max_words
        if "VNOUN" in acc and (found := self._lookup(i, ix.resources, words)):
            return self._emit("VNOUN", found[0], i, i + found[1])
        if "TARGET" in acc and (target := self._target()):
            return target
        if "PVERB" in acc and (found := self._lookup(i, ix.verbs, words)):
            return self._emit("PVERB", found[0], i, i + found[1])
        candidates: list[tuple[int, int, str, str]] = []  # (length, rank, terminal, value)
        if acc & {"FIELD", "TFIELD"} and (found := self._lookup(i, ix.fields, words)):
            f = self.fm.field(found[0])
            terminal = "TFIELD" if f.type == FieldType.DATETIME else "FIELD"
            if terminal in acc:
                candidates.append((found[1], 0, terminal, f.name))
        tables: list[tuple[str, dict[str, Any], int]] = [
            ("SHORTHAND", ix.shorthands, 1),
            ("VERB", ix.verbs, 2),
            ("NOUN", ix.resources, 3),
        ]
        for terminal, table, rank in tables:
            if terminal in acc and (found := self._lookup(i, table, words)):
                value = self._key(i, found[1]) if terminal == "SHORTHAND" else found[0]
                candidates.append((found[1], rank, terminal, str(value)))
        if not candidates:
            return None
        longest = max(c[0] for c in candidates)
        best = sorted((c for c in candidates if c[0] == longest), key=lambda c: c[1])
        length, _, terminal, value = best[0]
        if terminal in {"FIELD", "TFIELD"} and len(best) > 1 and not self._field_follows(i + length, value):
            length, _, terminal, value = best[1]
        if terminal in {"FIELD", "TFIELD"}:
            value = self._user_id(i, length, value)
            self.field = self.fm.field(value)
        return self._emit(terminal, value, i, i + length)

    def _field_follows(self, index: int, name: str) -> bool:
        """Whether what comes at ``index`` reads as the rest of a condition on field ``name``."""
        chunk = self._chunk(index)
        if chunk is None:
            return False
        if chunk.kind == "quoted" or chunk.is_email or chunk.is_ip or chunk.is_number:
            return True
        if self._operator_at(index, None) is not None:
            return True
        return self.fm.field(name).type == FieldType.DATETIME and self._time_at(index) is not None

    def _user_id(self, index: int, length: int, name: str) -> str:
        """ "user 123" (or "user is 123") means the user id on kinds that have one."""
        if self.fm.user_id_field is None or length != 1 or self.chunks[index].key != "user":
            return name
        after = index + 1
        found = self._operator_at(after, {"OP", "LISTOP"})
        if found is not None:
            after = found[1]
        chunk = self._chunk(after)
        if chunk is not None and chunk.kind == "sym" and chunk.text == "(":
            chunk = self._chunk(after + 1)
        return self.fm.user_id_field if chunk is not None and chunk.is_number else name

    def _target(self) -> list[Token] | None:
        """Words between an audit verb and its noun: "modified the *google* provider"."""
        i = self.i
        skipped = []
        while (chunk := self._chunk(i)) is not None and chunk.is_word and chunk.key in {"the", "a", "an", "all", "any"}:
            skipped.append(i)
            i += 1
        start = i
        while i < self.n and i - start < 6:
            chunk = self._chunk(i)
            if chunk is None or not chunk.is_word or chunk.lower in AND_WORDS | OR_WORDS:
                return None
            if self._lookup(i, self.ix.resources, self.ix.max_words):
                break
            if self._time_at(i) is not None or self._operator_at(i, None) is not None:
                return None
            i += 1
        else:
            return None
        if i == start:
            return None
        for index in skipped:
            self._ignore(index)
        return self._emit("TARGET", self._span_text(start, i), start, i)

    # ---- values ---------------------------------------------------------------------------------------

    def _value(self, acc: set[str]) -> list[Token] | None:
        chunk = self.chunks[self.i]
        if "TARGETVAL" in acc and not self._adjacent_to_last():
            acc = acc - {"TARGETVAL"}  # "deleted users by x@y": only a value right after the noun names the target
        if chunk.kind == "quoted":
            for terminal in ("TARGETVAL", "QUOTED"):
                if terminal in acc:
                    return self._emit(terminal, chunk.text, self.i, self.i + 1)
            return None
        if chunk.is_email and "TARGETVAL" in acc:
            return self._emit("TARGETVAL", chunk.text, self.i, self.i + 1)
        if "BARE" in acc:
            return self._bare()
        if chunk.is_email and "EMAIL" in acc:
            return self._emit("EMAIL", chunk.text, self.i, self.i + 1)
        if chunk.is_ip and "IP" in acc:
            return self._emit("IP", chunk.text, self.i, self.i + 1)
        return None

    def _adjacent_to_last(self) -> bool:
        """Whether the current chunk directly follows the last token, with no ignored word between."""
        return self.last is not None and self.i > 0 and self.chunks[self.i - 1].end == self.last.end_pos

    def _bare(self) -> list[Token] | None:
        """An unquoted value: words up to the next and/or/parenthesis/time phrase, typed by the field."""
        i, f = self.i, self.field
        end = self._run_end(i, in_list=self.list is not None)
        if end == i:
            return None
        if f is not None and self.last is not None and self.last.type == "FIELD":
            self._check_operator_typo(i, end, f)
        if f is not None and f.type == FieldType.ENUM:
            end = self._choice_span(i, end, f) or end
        elif f is not None and f.type in {FieldType.IP, FieldType.NUMBER}:
            end = i + 1
        if self.list is not None and self.list.final:
            self.list = None
        if end == i + 1:
            chunk = self.chunks[i]
            kind = "EMAIL" if chunk.is_email else "IP" if chunk.is_ip else "NUMBER" if chunk.is_number else "BARE"
            return self._emit(kind, chunk.text, i, end)
        return self._emit("BARE", self._span_text(i, end), i, end)

    def _choice_span(self, start: int, end: int, f: Field) -> int | None:
        """End of the longest run of chunks from ``start`` (before ``end``) that names a choice of ``f``."""
        for stop in range(end, start, -1):
            key = "".join(c.key for c in self.chunks[start:stop])
            if key and key in f.choice_index:
                return stop
        return None

    def _run_end(self, start: int, *, in_list: bool) -> int:
        index = start
        while index < self.n:
            chunk = self.chunks[index]
            if chunk.kind in {"quoted", "trailing"} or (chunk.kind == "sym" and chunk.text in "()"):
                break
            if in_list and chunk.kind == "sym" and chunk.text == ",":
                break
            if chunk.lower in AND_WORDS | OR_WORDS or self._ends_value(index, start):
                break
            index += 1
        return index

    def _ends_value(self, index: int, start: int) -> bool:
        """A time phrase, or (after the first word) a field followed by an operator or, for a time field, by a
        time phrase ("client is auth ui created yesterday"), ends a bare value."""
        lead = index
        while (chunk := self._chunk(lead)) is not None and chunk.key in TIME_LEAD_FILLERS - {FROM_WORD}:
            lead += 1
        match = self._time_at(lead)
        if match is not None and match.tokens[0].type in _TERMINATING_TIME and match.tokens[0].value != "now":
            return True
        if index > start and (found := self._lookup(index, self.ix.fields, self.ix.max_words)):
            after = index + found[1]
            if self.fm.field(found[0]).type == FieldType.DATETIME:
                return self._operator_at(after, {"_TIS", "TNOT", "UNOP", "CMP"}) is not None or (
                    self._time_at(after) is not None
                )
            return self._operator_at(after, {"OP", "LISTOP", "UNOP", "CMP"}) is not None
        return False

    def _check_operator_typo(self, index: int, end: int, f: Field) -> None:
        """ "client contians x" must not silently become client = "contians x", nor "status iz failed" a
        complaint about the status 'iz failed'."""
        chunk = self.chunks[index]
        if not chunk.is_word or (f.type == FieldType.ENUM and f.choice_for(chunk.text)):
            return
        close = difflib.get_close_matches(chunk.lower, _OP_SUGGESTIONS, n=1, cutoff=0.8) if len(chunk.key) >= 4 else []
        rest_is_choice = (
            f.type == FieldType.ENUM
            and end - index > 1
            and self._choice_span(index, end, f) is None
            and self._choice_span(index + 1, end, f) == end
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

    # ---- fillers --------------------------------------------------------------------------------------

    def _filler(self) -> bool:
        chunk = self.chunks[self.i]
        if not chunk.is_word:
            return False
        noun = self._lookup(self.i, self.ix.nouns, self.ix.max_words)
        length = noun[1] if noun else 1 if chunk.key in FILLERS or self._from_ip(self.i) else 0
        for index in range(self.i, self.i + length):
            self._ignore(index)
        self.i += length
        return length > 0

    def _from_ip(self, index: int) -> bool:
        """ "from" before an IP address or the IP field: "from IP 10.0.0.4", "from 10.0.0.4"."""
        if self.chunks[index].key != FROM_WORD or self.fm.ip_field is None:
            return False
        after = self._chunk(index + 1)
        if after is None:
            return False
        found = self._lookup(index + 1, self.ix.fields, self.ix.max_words)
        return after.is_ip or (found is not None and found[0] == self.fm.ip_field)

    # ---- time phrases ---------------------------------------------------------------------------------

    def _time_at(self, index: int) -> _Match | None:
        """A complete time phrase at chunk ``index`` as tokens, or None."""
        chunk = self._chunk(index)
        if chunk is None or chunk.kind == "quoted":
            return None
        if chunk.key == FROM_WORD:
            first = self._point(index + 1)
            if first is not None:
                to = self._chunk(first.end)
                if to is not None and to.is_word and to.key in RANGE_TO_WORDS:
                    second = self._point(first.end + 1)
                    if second is not None:
                        return _Match(
                            [
                                _tok("BETWEEN", "between", chunk.start, chunk.end),
                                *first.tokens,
                                _tok("_AND", "and", to.start, to.end),
                                *second.tokens,
                            ],
                            second.end,
                            first.ignored + second.ignored,
                        )
            core = self._time_core(index + 1)
            if core is not None:
                core.ignored.insert(0, index)
            return core
        return self._time_core(index)

    def _time_word(self, index: int) -> tuple[tuple[str, str], int] | None:
        found = self._lookup(index, TIME_WORDS, MAX_TIME_WORDS)
        return (found[0], index + found[1]) if found else None

    def _word_token(self, kind: str, value: str, start: int, end: int) -> Token:
        return _tok(kind, value, self.chunks[start].start, self.chunks[end - 1].end)

    def _time_core(self, index: int) -> _Match | None:
        found = self._time_word(index)
        if found is None:
            return self._point(index)
        (kind, value), after = found
        keyword = self._word_token(kind, value, index, after)
        if kind in {"ON", "SINCE", "AFTER", "BEFORE"}:
            point = self._point(after)
            return _Match([keyword, *point.tokens], point.end, point.ignored) if point else None
        if kind == "BETWEEN":
            first = self._point(after)
            if first is None:
                return None
            conj = self._chunk(first.end)
            if conj is None or conj.lower not in AND_WORDS:
                return None
            second = self._point(first.end + 1)
            if second is None:
                return None
            conj_token = _tok("_AND", "and", conj.start, conj.end)
            return _Match(
                [keyword, *first.tokens, conj_token, *second.tokens], second.end, first.ignored + second.ignored
            )
        if kind == "LAST" and (amount := self._amount(after, optional=False)) is not None:
            return _Match([keyword, *amount.tokens], amount.end)
        if kind in {"ROLLING", "OLDER", "MORE", "NEWER"}:
            amount = self._amount(after, optional=kind == "ROLLING")
            if amount is None:
                return None
            ago = self._time_word(amount.end)
            has_ago = ago is not None and ago[0][0] == "AGO"
            if kind == "MORE" and not has_ago:
                return None
            if has_ago and kind in {"MORE", "NEWER"} and ago is not None:
                ago_token = self._word_token("AGO", "ago", amount.end, ago[1])
                return _Match([keyword, *amount.tokens, ago_token], ago[1])
            return _Match([keyword, *amount.tokens], amount.end)
        return self._point(index)

    def _point(self, index: int) -> _Match | None:
        """A time point: today, last week, 2 days ago, Nov 3, 2026-11-03, monday, last monday."""
        chunk = self._chunk(index)
        if chunk is None or not chunk.is_word:
            return None
        found = self._time_word(index)
        if found is None and chunk.key == "the":
            inner = self._point(index + 1)  # "since the 3rd of November"
            if inner is not None:
                inner.ignored.insert(0, index)
            return inner
        if found is not None:
            (kind, value), after = found
            keyword = self._word_token(kind, value, index, after)
            if kind == "NAMED":
                return _Match([keyword], after)
            if kind in {"THIS", "LAST"}:
                unit_chunk = self._chunk(after)
                if unit_chunk is not None and unit_chunk.key in UNITS:
                    unit = self._word_token("UNIT", UNITS[unit_chunk.key].value, after, after + 1)
                    return _Match([keyword, unit], after + 1)
                if kind == "LAST" and unit_chunk is not None and unit_chunk.key in WEEKDAYS:
                    day = self._word_token("WEEKDAY", WEEKDAY_NAMES[WEEKDAYS[unit_chunk.key]], after, after + 1)
                    return _Match([keyword, day], after + 1)
            return None
        if chunk.key in WEEKDAYS:
            return _Match(
                [self._word_token("WEEKDAY", WEEKDAY_NAMES[WEEKDAYS[chunk.key]], index, index + 1)], index + 1
            )
        when = self._date(index)
        if when is not None:
            return when
        amount = self._amount(index, optional=False)
        if amount is not None:
            ago = self._time_word(amount.end)
            if ago is not None and ago[0][0] == "AGO":
                return _Match([*amount.tokens, self._word_token("AGO", "ago", amount.end, ago[1])], ago[1])
        return None

    def _amount(self, index: int, *, optional: bool) -> _Match | None:
        """A quantity and a unit ("7 days", "two weeks", "an hour", "24h"), or a unit alone if ``optional``."""
        chunk = self._chunk(index)
        if chunk is None or not chunk.is_word:
            return None
        compact_duration = _COMPACT_DURATION_RE.fullmatch(chunk.lower)
        if compact_duration and compact_duration.group(2) in COMPACT_UNITS:
            digits = compact_duration.group(1)
            cut = chunk.start + len(digits)
            unit = COMPACT_UNITS[compact_duration.group(2)]
            return _Match([_tok("QTY", digits, chunk.start, cut), _tok("UNIT", unit.value, cut, chunk.end)], index + 1)
        unit_chunk = self._chunk(index + 1)
        has_unit = unit_chunk is not None and unit_chunk.key in UNITS
        if chunk.is_number:
            number: int | None = int(chunk.text)
        else:
            number = NUMBER_WORDS.get(chunk.key, 1 if chunk.key in ARTICLE_ONE and has_unit else None)
        if number is not None and has_unit and unit_chunk is not None:
            return _Match(
                [
                    self._word_token("QTY", str(number), index, index + 1),
                    self._word_token("UNIT", UNITS[unit_chunk.key].value, index + 1, index + 2),
                ],
                index + 2,
            )
        if optional and chunk.key in UNITS:
            return _Match([self._word_token("UNIT", UNITS[chunk.key].value, index, index + 1)], index + 1)
        return None

    def _date(self, index: int) -> _Match | None:
        """ISO dates and date-times, "Nov 3", "November 3rd, 2026", "3 Nov", "3rd of November 2026"."""
        chunk = self.chunks[index]
        if chunk.is_iso:
            text, end = chunk.text, index + 1
            clock = self._chunk(index + 1)
            if len(text) == 10 and clock is not None and clock.is_clock:
                text, end = f"{text}T{clock.text}", index + 2
            try:
                datetime.fromisoformat(text)
            except (ValueError, OverflowError):
                raise NLQError(
                    f"'{self._span_text(index, end)}' is not a valid date.",
                    chunk.start,
                    expected="a date such as 2026-11-03",
                ) from None
            return _Match([self._word_token("DATE", text.upper(), index, end)], end)
        month = MONTHS.get(chunk.key)
        if month is not None:
            day_chunk = self._chunk(index + 1)
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
        of = self._chunk(after)
        if of is not None and of.key == "of":
            after += 1
        month_chunk = self._chunk(after)
        if month_chunk is None or month_chunk.key not in MONTHS:
            return None
        year, end = self._year(after + 1)
        return self._date_match(index, end, year, MONTHS[month_chunk.key], day)

    def _year(self, index: int) -> tuple[int | None, int]:
        """An optional year at ``index`` (after an optional comma): (year, index after it)."""
        at = index
        comma = self._chunk(at)
        if comma is not None and comma.kind == "sym" and comma.text == ",":
            at += 1
        chunk = self._chunk(at)
        if chunk is not None and chunk.is_word and _YEAR_RE.fullmatch(chunk.text):
            return int(chunk.text), at + 1
        return None, index

    def _date_match(self, start: int, end: int, year: int | None, month: int, day: int) -> _Match:
        try:
            date(year or 2000, month, day)
        except ValueError:
            raise NLQError(
                f"'{self._span_text(start, end)}' is not a date: {MONTH_ABBR[month]} has no day {day}.",
                self.chunks[start].start,
                expected="a date such as Nov 3 or 3 November 2026",
            ) from None
        value = f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"
        return _Match([self._word_token("DATE", value, start, end)], end)

    # ---- errors ---------------------------------------------------------------------------------------

    def _error_here(self, acc: set[str]) -> NLQError:
        chunk = self.chunks[self.i]
        expected = self._describe(acc)
        time_word = self._time_word(self.i)
        if time_word is not None and acc & (_TIME_START | _POINT_START):
            example = _TIME_EXAMPLES.get(time_word[0][0], "yesterday, last week, in the last 7 days")
            return NLQError(
                f"'{self._span_text(self.i, time_word[1])}' must be part of a time phrase, e.g. {example}.",
                chunk.start,
                expected="a time such as yesterday, last week or in the last 7 days",
            )
        amount = self._amount(self.i, optional=False)
        if amount is not None and acc & {"QTY", "ROLLING"}:
            typed = self._span_text(self.i, amount.end)
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
            example = next((f.label for f in self.fm.fields if f.type == FieldType.TEXT), "subject")
            return NLQError(
                f"'{chunk.text}' is a value, but no field comes before it: say which field, "
                f"e.g. {example} is '{chunk.text}'.",
                chunk.start,
                expected=expected,
            )
        if acc & {"BARE", "QUOTED"} and self.last is not None:
            what = f"after '{self._last_text()}'"
            return NLQError(f"Expected a value {what}, not '{chunk.text}'.", chunk.start, expected=expected)
        if self.last is not None and self.last.type in {"FIELD", "TFIELD"}:
            suggestions = difflib.get_close_matches(chunk.lower, _OP_SUGGESTIONS, n=2, cutoff=0.7)
            hint = f" Did you mean '{suggestions[0]}'?" if suggestions else ""
            return NLQError(
                f"After '{self._last_text()}' I expected {expected}, not '{chunk.text}'.{hint}",
                chunk.start,
                expected=expected,
                suggestions=suggestions,
            )
        return NLQError(f"'{chunk.text}' does not fit here: expected {expected}.", chunk.start, expected=expected)

    def _describe(self, acc: set[str]) -> str:
        return _describe(acc if self.open_parens else acc - {"_RPAR"}, self.fm)

    def _last_text(self) -> str:
        token = self.last
        if token is None or token.start_pos is None or token.end_pos is None:
            return ""
        return self.text[token.start_pos : token.end_pos]

    def _unknown_words(self, acc: set[str]) -> NLQError:
        """An unknown word where a condition starts: a misspelt field, shorthand or time word."""
        start = self.i
        end = start
        while end < self.n and end - start < 3:
            chunk = self.chunks[end]
            if not chunk.is_word or chunk.lower in AND_WORDS | OR_WORDS or self._operator_at(end, None):
                break
            end += 1
        end = max(end, start + 1)
        typed = self._span_text(start, end)
        op_follows = self._operator_at(end, None) is not None
        position = self.chunks[start].start
        expected = self._describe(acc)
        field_phrases = _phrases(self.fm, fields_only=True)
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
                f"'{typed}' is not a field of {self.fm.title}. Did you mean '{suggestions[0]}'?",
                position,
                expected=expected,
                suggestions=suggestions,
            )
        first = self.chunks[start].text
        suggestions = _close(first, _phrases(self.fm, fields_only=False)) or _close(typed, field_phrases)
        hint = f" Did you mean '{suggestions[0]}'?" if suggestions else ""
        if op_follows:
            hint = hint or f" Its fields are: {', '.join(f.label for f in self.fm.fields)}."
            message = f"'{typed}' is not a field of {self.fm.title}.{hint}"
        else:
            message = f"I don't understand '{first}' here.{hint} Expected {expected}."
        return NLQError(message, position, expected=expected, suggestions=suggestions)

    def _ignored_word_before(self, index: int) -> tuple[str, int] | None:
        """The filler word ignored right before chunk ``index``, if any: (text, position)."""
        if not self.ignored or index == 0:
            return None
        text, position = self.ignored[-1]
        previous = self.chunks[index - 1]
        return (text, position) if previous.start == position and previous.is_word else None

    def _error_unexpected(self, token: Token, expected: set[str]) -> NLQError:
        words = self._describe(expected)
        position = token.start_pos or 0
        text = self.text[position : token.end_pos or position]
        if self.last is not None:
            return NLQError(
                f"'{text}' cannot follow '{self._last_text()}' here: expected {words}.", position, expected=words
            )
        return NLQError(f"A question cannot start with '{text}': expected {words}.", position, expected=words)

    def _error_at_end(self, acc: set[str]) -> NLQError:
        words = self._describe(acc)
        if self.open_parens and "_RPAR" in acc:
            return NLQError("This '(' is never closed.", self.open_parens[-1], expected="a closing ')'")
        after = f" after '{self._last_text()}'" if self.last is not None else ""
        return NLQError(f"The question ends too early: expected {words}{after}.", len(self.text), expected=words)


def _day(chunk: Chunk | None) -> int | None:
    if chunk is None or not chunk.is_word:
        return None
    m = _DAY_RE.fullmatch(chunk.lower)
    if m is None or not 1 <= int(m.group(1)) <= 31:
        return None
    return int(m.group(1))


def _describe(acc: set[str], fm: FieldMap) -> str:
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
    if acc & _TIME_START:
        parts.append("a time such as yesterday, last week or in the last 7 days")
    elif acc & _POINT_START:
        parts.append("a time such as yesterday, Nov 3 or 2 days ago")
    elif "QTY" in acc:
        parts.append("a number")
    if "UNIT" in acc and not acc & _POINT_START:
        parts.append("a unit such as hours, days or weeks")
    if "AGO" in acc:
        parts.append("'ago'")
    if "VNOUN" in acc:
        parts.append("a resource such as provider, user or role")
    if "_AND" in acc and not acc & (_TIME_START | {"FIELD"}):
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
