"""A question's chunks as the lexer reads them: the chunk at an index, phrases looked up by compact key, spans.

The lexer, the time-phrase recogniser and the diagnostics all look at the same chunks by index. This is the one
place that says what "the chunk at i" (trailing question marks excluded), "the longest phrase of a table at i" and
"the text from chunk a to chunk b" mean, so that the three read a question the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lark import Token

from nlq.scanner import Chunk, scan


@dataclass
class Match:
    """Tokens recognised from a run of chunks."""

    tokens: list[Token]
    end: int  # chunk index after the match
    ignored: list[int] = field(default_factory=list)  # chunk indexes skipped as fillers


def token(kind: str, value: str, start: int, end: int) -> Token:
    """A lark token of terminal ``kind`` covering characters ``start``..``end`` of the question."""
    return Token(kind, value, start_pos=start, end_pos=end)


class Chunks:
    """The scanned chunks of one question, read by index."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.chunks: list[Chunk] = scan(text)
        self.n = len(self.chunks)

    def chunk(self, index: int) -> Chunk | None:
        """The chunk at ``index``; None past either end and for trailing question marks."""
        return self.chunks[index] if 0 <= index < self.n and self.chunks[index].kind != "trailing" else None

    def key(self, index: int, length: int) -> str | None:
        """Compact key of ``length`` word chunks from ``index``; None when any of them is not a word."""
        parts = []
        for j in range(index, index + length):
            chunk = self.chunk(j)
            if chunk is None or not chunk.is_word or not chunk.key:
                return None
            parts.append(chunk.key)
        return "".join(parts)

    def lookup(self, index: int, table: dict[str, Any] | set[str], max_words: int) -> tuple[Any, int] | None:
        """Longest phrase of ``table`` at chunk ``index``: (value, chunk count)."""
        for length in range(min(max_words, self.n - index), 0, -1):
            key = self.key(index, length)
            if key is not None and key in table:
                return (table[key] if isinstance(table, dict) else key), length
        return None

    def span_text(self, start: int, end: int) -> str:
        """The question's text from chunk ``start`` to before chunk ``end``, whitespace collapsed."""
        return " ".join(self.text[self.chunks[start].start : self.chunks[end - 1].end].split())

    def word_token(self, kind: str, value: str, start: int, end: int) -> Token:
        """A token covering chunks ``start``..``end - 1``."""
        return token(kind, value, self.chunks[start].start, self.chunks[end - 1].end)
