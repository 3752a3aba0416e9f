"""The parser driver: the lexer's tokens fed to lark's LALR parser one at a time, chunks -> parse tree.

lark never lexes here. The driver runs lark's interactive parser: before each token it asks which terminals the
grammar accepts (``choices()``), so the lexer (:mod:`nlq.lexer`) can read the next words as one of those, and it
feeds the token the lexer returns. Whatever the grammar rejects, and words that fit nothing, surface as an
NLQError worded by :mod:`nlq.diagnostics`, with where and what was expected: there is never a partial tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedInput
from lark.lexer import Lexer as LarkLexer

from nlq.diagnostics import Diagnostics
from nlq.fields import FieldMap
from nlq.lexer import Lexer


class _FedTokens(LarkLexer):
    """Placeholder: tokens are fed to lark's interactive parser by :class:`_Driver`, never lexed by lark."""

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
    return _Driver(text, field_map).run()


class _Driver:
    """One question's parse: asks the parser what fits, the lexer for it, and feeds it back."""

    def __init__(self, text: str, field_map: FieldMap) -> None:
        self.ip = _LARK.parse_interactive(None)
        self.lexer = Lexer(text, field_map)
        self.diagnostics = Diagnostics(self.lexer)

    def run(self) -> ParseResult:
        lexer = self.lexer
        while True:
            acc = self._accepts()
            if lexer.at_end:
                break
            tokens = lexer.next(acc)
            if tokens is None:
                raise self.diagnostics.here(acc)
            for token in tokens:
                self._feed(token)
        if "$END" not in acc:
            raise self.diagnostics.at_end(acc)
        if lexer.last is None:
            return ParseResult(None, lexer.ignored)
        try:
            tree = self.ip.feed_eof(lexer.last)  # type: ignore[no-untyped-call]
        except UnexpectedInput as exc:  # pragma: no cover - "$END" was accepted above
            raise self.diagnostics.at_end(acc) from exc
        return ParseResult(tree if tree.children else None, lexer.ignored)

    def _accepts(self) -> set[str]:
        choices = self.ip.choices()  # type: ignore[no-untyped-call]
        return {k for k in choices if k == "$END" or k.lstrip("_")[:1].isupper()}

    def _feed(self, token: Token) -> None:
        try:
            self.ip.feed_token(token)
        except UnexpectedInput as exc:
            expected = set(getattr(exc, "expected", ()) or ()) or self._accepts()
            raise self.diagnostics.unexpected(token, expected) from None
        self.lexer.fed(token)
