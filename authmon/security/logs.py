"""A logging filter that keeps each record on one line and secrets out of it.

Values that end up in log lines come from requests (paths, e-mail addresses, questions): a CR or LF in them could
forge log lines, so they are written as ``\\r`` and ``\\n``; ``password=...``-style pairs are masked. Stack traces
(``exc_info``) are left as they are: the formatter adds them, and their lines are the traceback's.
"""

from __future__ import annotations

import logging
import re

_PAIRS = re.compile(
    r"(?P<key>\b[\w-]*(?:password|passwd|secret|token|api[_-]?key|private[_-]?key|authorization)[\w-]*)"
    r"(?P<sep>\s*[=:]\s*)(?P<value>(?:bearer\s+)?[^\s&,;\"']+)",
    re.IGNORECASE,
)


def clean_line(text: str) -> str:
    """``text`` on one line (CR/LF escaped) with ``key=value`` secrets masked."""
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    return _PAIRS.sub(lambda m: f"{m.group('key')}{m.group('sep')}***", text)


class SafeLogFilter(logging.Filter):
    """Render the message once, cleaned; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call still gets logged, as written
            message = str(record.msg)
        cleaned = clean_line(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True
