"""The one exception type the NLQ package raises for anything a user can type."""

from __future__ import annotations

from collections.abc import Sequence


class NLQError(Exception):
    """A question that cannot be understood.

    ``message`` is a sentence for people, ``position`` the 0-based character offset where understanding failed,
    ``expected`` what would have fitted there in words ("a field such as event type, client name, email"), and
    ``suggestions`` close alternatives to what was typed (did-you-mean), best first.
    """

    def __init__(self, message: str, position: int = 0, *, expected: str = "", suggestions: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.position = max(0, position)
        self.expected = expected
        self.suggestions = list(dict.fromkeys(suggestions))

    def __str__(self) -> str:
        return self.message

    def caret(self, text: str) -> str:
        """The question on one line and a caret under the failing position on the next."""
        line = " ".join(text.splitlines())
        return f"{line}\n{' ' * min(self.position, len(line))}^"

    def as_dict(self) -> dict[str, object]:
        """The API's error body (DESIGN section 6) without the ``error`` key."""
        return {"message": self.message, "position": self.position, "suggestions": self.suggestions}
