"""What the words at a chunk are for one page's field map: operators, fields, the extent of a bare value.

Questions about the chunks that do not depend on where the lexer stands: "is there an operator at i?", "does
a condition on this field go on at i?", "where does the bare value starting at i end?". The lexer asks them to
pick the next token and the diagnostics ask them to explain why nothing fitted, so both get the same answers.
"""

from __future__ import annotations

from nlq.chunks import Chunks
from nlq.fields import Field, FieldMap, FieldType
from nlq.timephrases import TERMINATING_TIME, TimePhrases
from nlq.vocabulary import (
    AND_WORDS,
    FROM_WORD,
    MAX_OPERATOR_WORDS,
    OPERATORS,
    OR_WORDS,
    PAREN_OPERATORS,
    SYMBOL_OPERATORS,
    TIME_LEAD_FILLERS,
    OpEntry,
)


class Reader(Chunks):
    """One question's chunks read against one field map."""

    def __init__(self, text: str, field_map: FieldMap) -> None:
        super().__init__(text)
        self.fm = field_map
        self.ix = field_map.index
        self.times = TimePhrases(self)

    def operator_at(self, index: int, acc: set[str] | None) -> tuple[OpEntry, int] | None:
        """The longest operator at chunk ``index`` whose terminal is in ``acc`` (any terminal when None)."""
        chunk = self.chunk(index)
        if chunk is None:
            return None

        def pick(entries: list[OpEntry]) -> OpEntry | None:
            return next((e for e in entries if acc is None or e[0] in acc), None)

        if chunk.kind == "sym":
            entry = pick(SYMBOL_OPERATORS.get(chunk.text, []))
            return (entry, index + 1) if entry else None
        for length in range(min(MAX_OPERATOR_WORDS, self.n - index), 0, -1):
            key = self.key(index, length)
            if key is None:
                continue
            entry = pick(OPERATORS.get(key, []))
            if entry is None and key in PAREN_OPERATORS:
                after = self.chunk(index + length)
                if after is not None and after.kind == "sym" and after.text == "(":
                    entry = pick(PAREN_OPERATORS[key])
            if entry is not None:
                return entry, index + length
        return None

    def field_follows(self, index: int, name: str) -> bool:
        """Whether what comes at ``index`` reads as the rest of a condition on field ``name``."""
        chunk = self.chunk(index)
        if chunk is None:
            return False
        if chunk.kind == "quoted" or chunk.is_email or chunk.is_ip or chunk.is_number:
            return True
        if self.operator_at(index, None) is not None:
            return True
        return self.fm.field(name).type == FieldType.DATETIME and self.times.at(index) is not None

    def user_id(self, index: int, length: int, name: str) -> str:
        """ "user 123" (or "user is 123") means the user id on kinds that have one."""
        if self.fm.user_id_field is None or length != 1 or self.chunks[index].key != "user":
            return name
        after = index + 1
        found = self.operator_at(after, {"OP", "LISTOP"})
        if found is not None:
            after = found[1]
        chunk = self.chunk(after)
        if chunk is not None and chunk.kind == "sym" and chunk.text == "(":
            chunk = self.chunk(after + 1)
        return self.fm.user_id_field if chunk is not None and chunk.is_number else name

    def choice_span(self, start: int, end: int, f: Field) -> int | None:
        """End of the longest run of chunks from ``start`` (before ``end``) that names a choice of ``f``."""
        for stop in range(end, start, -1):
            key = "".join(c.key for c in self.chunks[start:stop])
            if key and key in f.choice_index:
                return stop
        return None

    def run_end(self, start: int, *, in_list: bool) -> int:
        """The chunk index where a bare value starting at ``start`` ends (a "," ends it too ``in_list``)."""
        index = start
        while index < self.n:
            chunk = self.chunks[index]
            if chunk.kind in {"quoted", "trailing"} or (chunk.kind == "sym" and chunk.text in "()"):
                break
            if in_list and chunk.kind == "sym" and chunk.text == ",":
                break
            if chunk.lower in AND_WORDS | OR_WORDS or self.ends_value(index, start):
                break
            index += 1
        return index

    def ends_value(self, index: int, start: int) -> bool:
        """A time phrase, or (after the first word) a field followed by an operator or, for a time field, by a
        time phrase ("client is auth ui created yesterday"), ends a bare value."""
        lead = index
        while (chunk := self.chunk(lead)) is not None and chunk.key in TIME_LEAD_FILLERS - {FROM_WORD}:
            lead += 1
        match = self.times.at(lead)
        if match is not None and match.tokens[0].type in TERMINATING_TIME and match.tokens[0].value != "now":
            return True
        if index > start and (found := self.lookup(index, self.ix.fields, self.ix.max_words)):
            after = index + found[1]
            if self.fm.field(found[0]).type == FieldType.DATETIME:
                return self.operator_at(after, {"_TIS", "TNOT", "UNOP", "CMP"}) is not None or (
                    self.times.at(after) is not None
                )
            return self.operator_at(after, {"OP", "LISTOP", "UNOP", "CMP"}) is not None
        return False

    def from_ip(self, index: int) -> bool:
        """ "from" before an IP address or the IP field: "from IP 10.0.0.4", "from 10.0.0.4"."""
        if self.chunks[index].key != FROM_WORD or self.fm.ip_field is None:
            return False
        after = self.chunk(index + 1)
        if after is None:
            return False
        found = self.lookup(index + 1, self.ix.fields, self.ix.max_words)
        return after.is_ip or (found is not None and found[0] == self.fm.ip_field)
