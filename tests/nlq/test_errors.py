"""Errors that teach: where the question failed, what was expected, and close suggestions (no database)."""

from __future__ import annotations

import pytest

from nlq import MAX_LENGTH, NLQError

from .conftest import ask

ERRORS = [
    # (kind, question, message starts with, position, suggestions start with)
    (
        "events",
        "evnt type is login",
        "'evnt type' is not a field of Event Logs. Did you mean 'event type'?",
        0,
        ["event type"],
    ),
    (
        "events",
        "login events where provder is google",
        "'provder' is not a field of Event Logs. Did you mean 'provider'?",
        19,
        ["provider"],
    ),
    ("jobs", "status is faild", "latest status 'faild': did you mean 'failed'?", 10, ["failed"]),
    ("notifications", "status is faild", "status 'faild': did you mean 'failed'?", 10, ["failed"]),
    (
        "events",
        "event type is mf",
        "event type 'mf': did you mean 'mfa verified' or 'mfa failed'?",
        14,
        ["mfa verified", "mfa failed"],
    ),
    ("events", "event type is lgoin", "event type 'lgoin': did you mean 'login'?", 14, ["login"]),
    ("events", "event type contains xyz", "No event type contains 'xyz'.", 20, []),
    ("sessions", "protocol is ldap", "protocol 'ldap' is not one of its values: OIDC, SAML.", 12, []),
    ("events", "client contians auth", "'contians' is not an operator. Did you mean 'contains'?", 7, ["contains"]),
    ("events", "client is", "The question ends too early: expected a value after 'is'.", 9, []),
    ("events", "client is and email is x@example.com", "Expected a value after 'is', not 'and'.", 10, []),
    ("events", "(event type is login", "This '(' is never closed.", 0, []),
    ("events", "event type is login)", "This ')' has no matching '('.", 19, []),
    ("events", "ip is 10.0.0", "'10.0.0' is not an IP address.", 6, ["ip address starts with 10.0.0"]),
    ("events", "'foo'", "'foo' is a value, but no field comes before it", 0, []),
    (
        "events",
        "logins between Nov 1",
        "'between' must be part of a time phrase, e.g. 'between Nov 1 and Nov 3'.",
        7,
        [],
    ),
    ("events", "logins in the last", "'in the last' must be part of a time phrase", 7, []),
    ("events", "logins 3 days", "'3 days' needs more words to be a time", 7, ["3 days ago"]),
    ("events", "logins on Nov 31", "'Nov 31' is not a date: Nov has no day 31.", 10, []),
    ("events", "logins since 2026-13-01", "'2026-13-01' is not a valid date.", 13, []),
    (
        "events",
        "logins between today and yesterday",
        "In 'between X and Y' the first time must come before the second.",
        7,
        [],
    ),
    ("events", "logins in the last 100000000 years", "That time is too far from today to look up.", 7, []),
    ("events", "status is failed", "'status' is not a field of Event Logs.", 0, []),
    ("events", "failed logins blah", "I don't understand 'blah' here.", 14, []),
    ("events", "client name > 5", "'>' compares numbers and times, but client name is text.", 14, []),
    ("events", "details is timeout", "details holds JSON", 11, []),
    ("events", "created on contains 2026", "After 'created on' I expected", 11, []),
    ("audit", "deleted the provider and", "The question ends too early", 24, []),
    ("notifications", "10.0.0.4", "Notification Logs have no IP address field.", 0, []),
    ("jobs", "user@example.com", "Job Logs have no e-mail field", 0, []),
    ("events", "sign ins via google", "I don't understand 'via' here.", 9, []),
    ("events", "event type is login or", "The question ends too early", 22, []),
    ("events", "event type is one of (login, lgoin)", "event type 'lgoin': did you mean 'login'?", 29, ["login"]),
    ("events", "client is 'auth ui", "The quote ' that starts here is never closed.", 10, []),
    ("jobs", "job nmae is trim", "'job nmae' is not a field of Job Logs. Did you mean 'job name'?", 0, ["job name"]),
    ("jobs", "status iz failed", "'iz' is not an operator. Did you mean 'is'?", 7, ["is"]),
]


@pytest.mark.parametrize(
    ("kind", "question", "message", "position", "suggestions"), ERRORS, ids=[f"{e[0]}: {e[1]}" for e in ERRORS]
)
def test_error(kind: str, question: str, message: str, position: int, suggestions: list[str]) -> None:
    with pytest.raises(NLQError) as info:
        ask(kind, question)
    error = info.value
    assert error.message.startswith(message), error.message
    assert str(error) == error.message
    assert error.position == position
    assert error.suggestions[: len(suggestions)] == suggestions
    assert error.expected


def test_expected_names_fields_in_words() -> None:
    with pytest.raises(NLQError) as info:
        ask("events", "evnt type is login")
    assert info.value.expected.startswith("a field such as event type, client name, provider name")


def test_caret_points_at_the_position() -> None:
    with pytest.raises(NLQError) as info:
        ask("events", "login events where provder is google")
    assert info.value.caret("login events where provder is google") == (
        "login events where provder is google\n" + " " * 19 + "^"
    )
    assert info.value.as_dict()["position"] == 19


def test_too_long() -> None:
    with pytest.raises(NLQError) as info:
        ask("events", "a" * (MAX_LENGTH + 1))
    assert info.value.position == MAX_LENGTH
    assert "1,001 characters" in info.value.message
    ask("events", "logins " + " " * (MAX_LENGTH - 7))  # exactly at the limit is fine


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(NLQError, match="nests more than"):
        ask("events", "(" * 40 + "logins" + ")" * 40)
    with pytest.raises(NLQError, match="nests more than"):
        ask("events", "not " * 40 + "logins")
    assert ask("events", "(" * 10 + "logins" + ")" * 10).canonical == "event type is login"
    flat = " and ".join(["not logouts"] * 40)
    assert ask("events", flat).canonical == " and ".join(["not event type is logout"] * 40)
    with pytest.raises(NLQError, match="nests more than"):
        ask("events", "not (" * 20 + "logins" + ")" * 20)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_blank_is_empty(text: str) -> None:
    result = ask("events", text)
    assert result.is_empty
    assert not result.q
    assert result.chips == [] and result.canonical == "" and result.ignored == []


def test_only_filler_words_is_everything_but_not_empty() -> None:
    result = ask("events", "show me all the events?")
    assert not result.is_empty
    assert not result.q
    assert result.summary == "all records"
    assert [w for w, _ in result.ignored] == ["show", "me", "all", "the", "events", "?"]
