"""A question about one kind's records (DESIGN section 7) to a condition, or the reason it cannot be one.

The list page (through :func:`authmon.selectors.log_search`, also its export and the export job) and the HTTP API
read a question the same way: one length rule, one field map, the tenant's clock. Each caller only shows the
:class:`nlq.NLQError` its own way: the page as a message with a caret, the API as its 400 ``{"error": "query"}``.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from authmon.registry import LogKind
from nlq import MAX_LENGTH, Interpretation, NLQError, interpret


def question_interpret(*, kind: LogKind, question: str, now: dt.datetime, tz: ZoneInfo) -> Interpretation:
    """The interpretation of ``question`` on ``kind``'s records; raises NLQError (only) when there is none.

    A question over the length limit is refused before the query language reads any of it.
    """
    if len(question) > MAX_LENGTH:
        message = f"The question is longer than {MAX_LENGTH} characters."
        raise NLQError(message, MAX_LENGTH, expected="a shorter question")
    return interpret(question, kind.field_map, now=now, tz=tz)
