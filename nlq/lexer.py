"""The hand-written lexer: the question's next words as the token(s) the parser accepts next.

Hand-written because the same words mean different things in different places ("is" is an operator after a field
and a no-op after a time field; "auth ui" is a value after "client is"; "last week" ends a bare value) and because
the words themselves come from the page's field map. Before each token the parser driver (:mod:`nlq.parser`) says
which terminals the grammar accepts; the lexer classifies the next words as the first kind of token that fits,
and keeps the little state that needs: where it is, the field of the condition being read, an open value list,
open parentheses and "not"s (for the nesting limit) and the words it skipped. What the words at an index are is
:mod:`nlq.reader`'s and :mod:`nlq.timephrases`' business; why nothing fits is :mod:`nlq.diagnostics`'.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lark import Token

from nlq.diagnostics import check_operator_typo
from nlq.errors import NLQError
from nlq.fields import Field, FieldMap, FieldType
from nlq.reader import Reader
from nlq.vocabulary import AND_WORDS, FILLERS, NOT_WORDS, OR_WORDS

MAX_NESTING = 32
VALUE_TERMINALS = frozenset({"QUOTED", "BARE", "EMAIL", "IP", "NUMBER"})


@dataclass
class ListState:
    """A value list being read ("status is one of failed, pending")."""

    paren: bool = False
    final: bool = False  # an unparenthesised list ends after the next item ("a, b or c")


class Lexer:
    """One question's lexer: hands out tokens for the terminals the parser accepts, in order."""

    def __init__(self, text: str, field_map: FieldMap) -> None:
        self.reader = Reader(text, field_map)
        self.fm = field_map
        self.ix = field_map.index
        self.chunks = self.reader.chunks
        self.n = self.reader.n
        self.i = 0
        self.ignored: list[tuple[str, int]] = []
        self.field: Field | None = None  # the field of the condition being read
        self.list: ListState | None = None
        self.open_parens: list[int] = []  # positions of "(" not yet closed
        self.levels: list[int] = []  # per open parenthesis around here: the "not"s right before it
        self.nots = 0  # "not"s in a row just before here
        self.last: Token | None = None

    @property
    def at_end(self) -> bool:
        """Whether every chunk has been read."""
        return self.i >= self.n

    def next(self, acc: set[str]) -> list[Token] | None:
        """The token(s) for the next words given the accepted terminals ``acc``; [] when the words were skipped
        (fillers, trailing question marks), None when nothing fits."""
        if self.chunks[self.i].kind == "trailing":
            self._ignore(self.i)
            self.i += 1
            return []
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
        return None

    def fed(self, token: Token) -> None:
        """``token`` was accepted by the parser."""
        if self.list is not None and token.type not in VALUE_TERMINALS | {"_LSEP", "_LPAR", "LISTOP"}:
            self.list = None
        if token.type != "NOT":
            self.nots = 0
        self.last = token

    def _ignore(self, index: int) -> None:
        chunk = self.chunks[index]
        self.ignored.append((chunk.text, chunk.start))

    def _emit(self, kind: str, value: str, start: int, end: int) -> list[Token]:
        """One token covering chunks ``start``..``end - 1``; advances past them."""
        self.i = end
        return [self.reader.word_token(kind, value, start, end)]

    # ---- the next token(s) -----------------------------------------------------------------------------

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
            after = self.reader.chunk(self.i + 1)
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
        return self.reader.choice_span(index, self.reader.run_end(index, in_list=True), f) is not None

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
        match = self.reader.times.at(self.i)
        if match is None or match.tokens[0].type not in acc:
            return None
        for index in match.ignored:
            self._ignore(index)
        self.i = match.end
        return match.tokens

    def _operator(self, acc: set[str]) -> list[Token] | None:
        found = self.reader.operator_at(self.i, acc)
        if found is None:
            return None
        (kind, op), end = found
        if kind == "LISTOP":
            self.list = ListState()
        return self._emit(kind, op.value if op is not None else "is", self.i, end)

    # ---- fields, shorthands, audit verbs and nouns --------------------------------------------------------

    def _vocabulary(self, acc: set[str]) -> list[Token] | None:
        i, ix, words = self.i, self.ix, self.ix.max_words
        if "VNOUN" in acc and (found := self.reader.lookup(i, ix.resources, words)):
            return self._emit("VNOUN", found[0], i, i + found[1])
        if "TARGET" in acc and (target := self._target()):
            return target
        if "PVERB" in acc and (found := self.reader.lookup(i, ix.verbs, words)):
            return self._emit("PVERB", found[0], i, i + found[1])
        candidates: list[tuple[int, int, str, str]] = []  # (length, rank, terminal, value)
        if acc & {"FIELD", "TFIELD"} and (found := self.reader.lookup(i, ix.fields, words)):
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
            if terminal in acc and (found := self.reader.lookup(i, table, words)):
                value = self.reader.key(i, found[1]) if terminal == "SHORTHAND" else found[0]
                candidates.append((found[1], rank, terminal, str(value)))
        if not candidates:
            return None
        longest = max(c[0] for c in candidates)
        best = sorted((c for c in candidates if c[0] == longest), key=lambda c: c[1])
        length, _, terminal, value = best[0]
        if terminal in {"FIELD", "TFIELD"} and len(best) > 1 and not self.reader.field_follows(i + length, value):
            length, _, terminal, value = best[1]
        if terminal in {"FIELD", "TFIELD"}:
            value = self.reader.user_id(i, length, value)
            self.field = self.fm.field(value)
        return self._emit(terminal, value, i, i + length)

    def _target(self) -> list[Token] | None:
        """Words between an audit verb and its noun: "modified the *google* provider"."""
        i = self.i
        skipped = []
        while (
            (chunk := self.reader.chunk(i)) is not None
            and chunk.is_word
            and chunk.key in {"the", "a", "an", "all", "any"}
        ):
            skipped.append(i)
            i += 1
        start = i
        while i < self.n and i - start < 6:
            chunk = self.reader.chunk(i)
            if chunk is None or not chunk.is_word or chunk.lower in AND_WORDS | OR_WORDS:
                return None
            if self.reader.lookup(i, self.ix.resources, self.ix.max_words):
                break
            if self.reader.times.at(i) is not None or self.reader.operator_at(i, None) is not None:
                return None
            i += 1
        else:
            return None
        if i == start:
            return None
        for index in skipped:
            self._ignore(index)
        return self._emit("TARGET", self.reader.span_text(start, i), start, i)

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
        end = self.reader.run_end(i, in_list=self.list is not None)
        if end == i:
            return None
        if f is not None and self.last is not None and self.last.type == "FIELD":
            check_operator_typo(self.reader, i, end, f)
        if f is not None and f.type == FieldType.ENUM:
            end = self.reader.choice_span(i, end, f) or end
        elif f is not None and f.type in {FieldType.IP, FieldType.NUMBER}:
            end = i + 1
        if self.list is not None and self.list.final:
            self.list = None
        if end == i + 1:
            chunk = self.chunks[i]
            kind = "EMAIL" if chunk.is_email else "IP" if chunk.is_ip else "NUMBER" if chunk.is_number else "BARE"
            return self._emit(kind, chunk.text, i, end)
        return self._emit("BARE", self.reader.span_text(i, end), i, end)

    # ---- fillers --------------------------------------------------------------------------------------

    def _filler(self) -> bool:
        chunk = self.chunks[self.i]
        if not chunk.is_word:
            return False
        noun = self.reader.lookup(self.i, self.ix.nouns, self.ix.max_words)
        length = noun[1] if noun else 1 if chunk.key in FILLERS or self.reader.from_ip(self.i) else 0
        for index in range(self.i, self.i + length):
            self._ignore(index)
        self.i += length
        return length > 0
