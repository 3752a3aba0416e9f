"""A console user's own page preferences, kept in ``User.column_prefs``: which columns each page hides, and the last
questions the user asked on each page (offered again in the question box)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from authmon.registry import LogKind

RECENT_QUESTIONS = 8  # per user and page, offered as hints in the question box
RECENT_QUESTION_MAX_CHARS = 300


def hidden_columns(user: Any, kind: LogKind) -> set[str]:
    prefs = (user.column_prefs or {}).get(kind.name)
    if prefs is None:
        return set(kind.table.hidden_by_default)
    return set(prefs.get("hidden", []))


def recent_questions(user: Any, kind: LogKind) -> list[str]:
    """The user's last understood questions on this page, newest first (``column_prefs["recent_questions"]``)."""
    stored = (user.column_prefs or {}).get("recent_questions")
    questions = stored.get(kind.name, []) if isinstance(stored, dict) else []
    return [q for q in questions if isinstance(q, str)]


def recent_question_remember(*, user: Any, kind: LogKind, question: str) -> None:
    """Put ``question`` first in the user's recent questions for ``kind``; no write when it already is first.

    Paging through one question's results therefore costs no write; a long question is not kept.
    """
    recent = recent_questions(user, kind)
    if recent[:1] == [question] or len(question) > RECENT_QUESTION_MAX_CHARS:
        return
    prefs = dict(user.column_prefs or {})
    stored = dict(prefs.get("recent_questions") or {})
    stored[kind.name] = [question, *(q for q in recent if q != question)][:RECENT_QUESTIONS]
    prefs["recent_questions"] = stored
    user.column_prefs = prefs
    user.save(update_fields=["column_prefs"])


def columns_choose(*, user: Any, kind: LogKind, shown: Iterable[str]) -> None:
    """Remember that ``user`` shows the columns ``shown`` on ``kind``'s page (names it does not know are ignored)."""
    known = {c.name for c in kind.table([]).columns.iterall()}
    prefs = dict(user.column_prefs or {})
    prefs[kind.name] = {"hidden": sorted(known - (set(shown) & known))}
    user.column_prefs = prefs
    user.save(update_fields=["column_prefs"])
