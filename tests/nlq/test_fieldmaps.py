"""Field maps: construction checks, the help panel and what a page's words mean (no database)."""

from __future__ import annotations

import pytest

from nlq import ActionVocabulary, Choice, Field, FieldMap, FieldType, Shorthand
from nlq.ir import Op

from .conftest import MAPS, ask


def _map(**overrides: object) -> FieldMap:
    options: dict[str, object] = {
        "kind": "t",
        "title": "T",
        "fields": [Field("name", "name"), Field("at", "at", FieldType.DATETIME)],
        "time_field": "at",
    }
    options.update(overrides)
    return FieldMap(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fields": [Field("name", "name"), Field("name", "other")]}, "duplicate field names"),
        ({"time_field": "name"}, "time_field 'name' is not a field"),
        ({"person_field": "missing"}, "person_field 'missing' is not a field"),
        (
            {
                "fields": [
                    Field("name", "name", synonyms=("who2",)),
                    Field("x", "who2"),
                    Field("at", "at", FieldType.DATETIME),
                ]
            },
            "means two things",
        ),
        (
            {"fields": [Field("kind", "kind", FieldType.ENUM), Field("at", "at", FieldType.DATETIME)]},
            "must have choices",
        ),
        ({"fields": [Field("name", "is"), Field("at", "at", FieldType.DATETIME)]}, "reserved word"),
        ({"shorthands": [Shorthand(("x",), "nope", Op.EQ, "y")]}, "unknown field"),
        (
            {
                "fields": [
                    Field("k", "k", FieldType.ENUM, choices=(Choice("a"),)),
                    Field("at", "at", FieldType.DATETIME),
                ],
                "shorthands": [Shorthand(("bees",), "k", Op.EQ, "b")],
            },
            "not among the choices",
        ),
        ({"actions": ActionVocabulary("action", "target", {}, {})}, "unknown fields"),
    ],
)
def test_a_broken_map_is_refused_at_import(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _map(**overrides)


def test_values_shared_by_two_enums_are_no_shorthand() -> None:
    fm = _map(
        fields=[
            Field("fg", "fg", FieldType.ENUM, choices=(Choice("red"), Choice("blue"))),
            Field("bg", "bg", FieldType.ENUM, choices=(Choice("red"), Choice("green"))),
            Field("at", "at", FieldType.DATETIME),
        ]
    )
    assert "red" not in fm.index.shorthands
    assert fm.index.shorthands["blue"].field == "fg"
    assert fm.index.shorthands["green"].field == "bg"


@pytest.mark.parametrize("kind", list(MAPS))
def test_help_lists_fields_operators_times_and_examples(kind: str) -> None:
    fm = MAPS[kind]
    panel = fm.help()
    assert panel.title == fm.title
    assert [f.name for f in panel.fields] == list(fm.field_names)
    assert all(f.label for f in panel.fields)
    assert any("contains" in op for op in panel.operators)
    assert any("last week" in t for t in panel.time_phrases)
    assert panel.examples == fm.examples and len(panel.examples) >= 3
    for f in panel.fields:
        if f.type == "enum":
            assert f.values


def test_help_mentions_the_kind_shorthands() -> None:
    events = MAPS["events"].help()
    assert any(s.startswith("failed logins: event type is login_failed") for s in events.shorthands)
    assert any("IP address" in s for s in events.shorthands)
    event_type = next(f for f in events.fields if f.name == "event_type")
    assert "type" in event_type.synonyms and "login failed" in event_type.values
    audit = MAPS["audit"].help()
    assert any("modified" in s and "provider" in s for s in audit.shorthands)
    assert any(s.startswith("user 123") for s in MAPS["sessions"].help().shorthands)


@pytest.mark.parametrize(
    ("kind", "words", "field"),
    [
        ("events", "client", "client_name"),
        ("events", "ip", "ip_address"),
        ("events", "source ip", "ip_address"),
        ("events", "user", "email"),
        ("events", "provider", "provider_name"),
        ("events", "date", "created_on"),
        ("events", "time", "created_on"),
        ("events", "timestamp", "created_on"),
        ("events", "created", "created_on"),
        ("jobs", "status", "latest_status"),
        ("jobs", "created", "created_at"),
        ("notifications", "to", "recipient"),
        ("notifications", "email subject", "subject"),
        ("notifications", "date", "timestamp"),
        ("audit", "user", "actor"),
        ("audit", "date", "timestamp"),
        ("sessions", "user id", "user_id"),
        ("grants", "client", "client"),
    ],
)
def test_synonyms_from_the_design(kind: str, words: str, field: str) -> None:
    fm = MAPS[kind]
    f = fm.field(field)
    question = f"{words} is yesterday" if f.type == FieldType.DATETIME else f"{words} is empty"
    node = ask(kind, question).node
    assert node is not None
    assert field in repr(node)


@pytest.mark.parametrize("spelling", ["Event Type", "event type", "eventType", "event_type", "EVENT-TYPE", "EventType"])
def test_field_names_in_any_case_or_separator(spelling: str) -> None:
    assert ask("events", f"{spelling} is login").canonical == "event type is login"


def test_ignored_words_are_reported_with_positions() -> None:
    result = ask("events", "show me all the failed logins from yesterday please?")
    assert result.ignored == [("show", 0), ("me", 5), ("all", 8), ("the", 12), ("from", 30), ("please", 45), ("?", 51)]
