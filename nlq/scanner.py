"""First pass over a question: split it into chunks (words, quoted strings, symbols) with their positions.

A chunk knows nothing of fields or grammar; :mod:`nlq.lexer` groups chunks into tokens.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import cached_property

from nlq.errors import NLQError
from nlq.vocabulary import compact

_WORD_CHAR = r"""[^\s()"',=<>!“”‘’]"""
_TOKEN_RE = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<sym>!=|<>|>=|<=|==|=|>|<|≠|≥|≤|\(|\)|,|&&|\|\|)
  | (?P<word>(?:{_WORD_CHAR}|(?<={_WORD_CHAR})['’!](?={_WORD_CHAR}))+)
  | (?P<quote>["'“”‘’])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_CLOSING = {'"': '"”', "'": "'’", "“": '”"', "‘": "’'", "”": '”"', "’": "’'"}

_EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_NUMBER_RE = re.compile(r"\d+")
_IP_CHARS_RE = re.compile(r"[0-9a-fA-F:.]+")
_ISO_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?)?", re.I)
_CLOCK_RE = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?", re.I)


@dataclass(frozen=True)
class Chunk:
    """One word, quoted string or symbol of the question, ``start``/``end`` being offsets into it."""

    kind: str  # "word", "quoted", "sym", "trailing" (a final "?")
    text: str  # as typed; for "quoted" the content with escapes resolved
    start: int
    end: int

    @cached_property
    def key(self) -> str:
        """The compact key of a word ("" for anything else)."""
        return compact(self.text) if self.kind == "word" else ""

    @cached_property
    def lower(self) -> str:
        return self.text.casefold()

    @property
    def is_word(self) -> bool:
        return self.kind == "word"

    @cached_property
    def is_email(self) -> bool:
        return self.kind == "word" and _EMAIL_RE.fullmatch(self.text) is not None

    @cached_property
    def is_number(self) -> bool:
        return self.kind == "word" and _NUMBER_RE.fullmatch(self.text) is not None

    @cached_property
    def is_ip(self) -> bool:
        if self.kind != "word" or not _IP_CHARS_RE.fullmatch(self.text) or not ({".", ":"} & set(self.text)):
            return False
        try:
            ipaddress.ip_address(self.text)
        except ValueError:
            return False
        return True

    @cached_property
    def is_iso(self) -> bool:
        return self.kind == "word" and _ISO_RE.fullmatch(self.text) is not None

    @cached_property
    def is_clock(self) -> bool:
        return self.kind == "word" and _CLOCK_RE.fullmatch(self.text) is not None


def scan(text: str) -> list[Chunk]:
    """Split ``text`` into chunks. Raises NLQError for a quote that is never closed."""
    chunks: list[Chunk] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        assert m is not None  # the "other" alternative matches any character
        kind = m.lastgroup or "other"
        if kind == "ws":
            pos = m.end()
            continue
        if kind == "quote":
            chunk = _quoted(text, pos)
            chunks.append(chunk)
            pos = chunk.end
            continue
        chunks.append(Chunk("word" if kind == "other" else kind, m.group(), m.start(), m.end()))
        pos = m.end()
    return _split_trailing_question_marks(chunks)


def _quoted(text: str, start: int) -> Chunk:
    closing = _CLOSING[text[start]]
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text) and (text[pos + 1] in closing or text[pos + 1] == "\\"):
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch in closing:
            return Chunk("quoted", "".join(out), start, pos + 1)
        out.append(ch)
        pos += 1
    raise NLQError(
        f"The quote {text[start]} that starts here is never closed.",
        start,
        expected=f"a closing {closing[0]}",
    )


def _split_trailing_question_marks(chunks: list[Chunk]) -> list[Chunk]:
    """A question may end in "?": those marks are set apart to be ignored."""
    trailing: list[Chunk] = []
    while chunks and chunks[-1].kind == "word" and chunks[-1].text.endswith("?"):
        last = chunks.pop()
        stripped = last.text.rstrip("?")
        cut = last.start + len(stripped)
        trailing.insert(0, Chunk("trailing", last.text[len(stripped) :], cut, last.end))
        if stripped:
            chunks.append(Chunk("word", stripped, last.start, cut))
            break
    return chunks + trailing
