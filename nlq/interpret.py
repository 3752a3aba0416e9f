"""The entry point: a question, a page's field map, now and a time zone -> an Interpretation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db.models import Q

from nlq.compiler import Compiler
from nlq.describe import Chip, Describer
from nlq.errors import NLQError
from nlq.fields import FieldMap
from nlq.ir import Node
from nlq.parser import parse
from nlq.render import canonical
from nlq.timeres import Clock
from nlq.transformer import build

MAX_LENGTH = 1000


@dataclass(frozen=True)
class Interpretation:
    """How a question was understood.

    ``q`` filters the page's model (only fields of its field map); ``chips`` are the parts to show above the
    table; ``ignored`` the filler words with their positions; ``canonical`` a question that parses back to the
    same meaning (time phrases kept relative); ``summary`` one line in words with the resolved times;
    ``is_empty`` is True for a blank question. ``node`` is the intermediate form, for debugging and tests.
    """

    q: Q
    chips: list[Chip]
    ignored: list[tuple[str, int]]
    canonical: str
    summary: str
    is_empty: bool = False
    node: Node | None = field(default=None, compare=False)


def interpret(text: str, field_map: FieldMap, *, now: datetime, tz: ZoneInfo) -> Interpretation:
    """Understand ``text`` as a question about the records of ``field_map``'s kind.

    ``now`` must be timezone-aware; calendar phrases are read on ``tz``'s wall clock. Raises NLQError (and only
    NLQError, whatever the text) when the question cannot be understood as a whole: there is never a partial
    filter.
    """
    clock = Clock(now, tz)
    if len(text) > MAX_LENGTH:
        raise NLQError(
            f"The question is {len(text):,} characters long; at most {MAX_LENGTH:,} are allowed.",
            MAX_LENGTH,
            expected="a shorter question",
        )
    if not text.strip():
        return Interpretation(q=Q(), chips=[], ignored=[], canonical="", summary="", is_empty=True)
    parsed = parse(text, field_map)
    node = build(parsed.tree, field_map) if parsed.tree is not None else None
    q = Compiler(field_map, clock).q(node) if node is not None else Q()
    describer = Describer(field_map, clock)
    return Interpretation(
        q=q,
        chips=describer.chips(node),
        ignored=parsed.ignored,
        canonical=canonical(node, field_map),
        summary=describer.summary(node),
        node=node,
    )
