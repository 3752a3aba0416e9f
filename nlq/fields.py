"""Field maps: what one record kind lets a question talk about.

A :class:`FieldMap` is declared once per kind (``events/nlq_fields.py``, ...) and is the only bridge from words
to model fields: a question can reach exactly the fields listed in it, by their labels and synonyms, plus the
kind's shorthands ("failed logins", "who modified the google provider"). It is plain data, importable without
Django being set up.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

from nlq.ir import Op
from nlq.vocabulary import (
    FILLERS,
    HELP_OPERATORS,
    HELP_TIME_PHRASES,
    NUMBER_WORDS,
    OP_WORDS,
    OPERATORS,
    TIME_WORDS,
    UNITS,
    compact,
)

_V = TypeVar("_V")


class FieldType(enum.StrEnum):
    """How a field's values are matched."""

    TEXT = "text"  # case-insensitive text
    ENUM = "enum"  # one of ``choices``
    DATETIME = "datetime"  # compared with time phrases
    NUMBER = "number"
    IP = "ip"  # an IPv4/IPv6 address (GenericIPAddressField)
    JSON = "json"  # searched as text with ``contains``


@dataclass(frozen=True)
class Choice:
    """One value of an enum field: ``value`` as stored, ``label`` as shown, ``synonyms`` also understood."""

    value: str
    label: str = ""
    synonyms: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.value.replace("_", " "))

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.value, self.label, *self.synonyms)


@dataclass(frozen=True)
class Field:
    """A model field a question may name: by ``label`` ("event type") or any of ``synonyms``."""

    name: str
    label: str
    type: FieldType = FieldType.TEXT
    synonyms: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()

    @property
    def phrases(self) -> tuple[str, ...]:
        return (self.name, self.label, *self.synonyms)

    @cached_property
    def choice_index(self) -> dict[str, Choice]:
        """Compact key of every value, label and synonym -> its choice."""
        index: dict[str, Choice] = {}
        for choice in self.choices:
            for phrase in choice.phrases:
                index.setdefault(compact(phrase), choice)
        return index

    def choice_for(self, text: str) -> Choice | None:
        """The choice ``text`` names (as stored, as labelled or by synonym, in any case or spacing)."""
        return self.choice_index.get(compact(text))

    def label_of(self, value: str) -> str:
        choice = self.choice_for(value)
        return choice.label if choice else value


@dataclass(frozen=True)
class Shorthand:
    """A phrase that stands for one condition: "failed logins" = event_type eq login_failed."""

    phrases: tuple[str, ...]
    field: str
    op: Op
    value: str | tuple[str, ...]


@dataclass(frozen=True, eq=False)
class ActionVocabulary:
    """Audit verbs and resource nouns that build ``"<verb> <ResourceType>"`` in the action field.

    ``verbs`` maps a stored verb ("update") to the words for it ("modified", "changed", ...); ``resources`` a
    stored resource type ("IdentityProvider") to its nouns ("provider", "idp", ...). Words between a verb and a
    noun ("modified the *google* provider") are matched against ``target_field``.
    """

    field: str
    target_field: str
    verbs: Mapping[str, tuple[str, ...]]
    resources: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True)
class FieldHelp:
    """One field as the "How to ask" panel lists it."""

    name: str
    label: str
    type: str
    synonyms: tuple[str, ...]
    values: tuple[str, ...]


@dataclass(frozen=True)
class FieldMapHelp:
    """Everything the "How to ask" panel shows for one page."""

    title: str
    fields: tuple[FieldHelp, ...]
    operators: tuple[str, ...]
    time_phrases: tuple[str, ...]
    shorthands: tuple[str, ...]
    examples: tuple[str, ...]


def created_synonyms(*nouns: str) -> tuple[str, ...]:
    """Time-field synonyms every kind shares, plus "<noun> was created" for the kind's record nouns."""
    phrases = [
        "date",
        "time",
        "timestamp",
        "when",
        "was created",
        "were created",
        "log was created",
        "logs were created",
        "record was created",
        "entry was created",
    ]
    phrases += [f"{noun} was created" for noun in nouns] + [f"{noun}s were created" for noun in nouns]
    return tuple(phrases)


class FieldMap:
    """The fields and words of one record kind.

    ``time_field`` is what time phrases apply to when no time field is named; ``person_field`` what a bare
    e-mail address matches; ``ip_field`` what a bare IP address (or "from IP x") matches; ``status_field`` wins
    when a status word is also a value of another enum; ``user_id_field`` is what "user 123" means. ``nouns``
    are the kind's record nouns ("jobs", "sessions"), ignored like "logs". ``examples`` are the guide's example
    questions for the page. Construction checks the map and raises ValueError on a mistake.
    """

    def __init__(
        self,
        *,
        kind: str,
        title: str,
        fields: Iterable[Field],
        time_field: str,
        person_field: str | None = None,
        ip_field: str | None = None,
        status_field: str | None = None,
        user_id_field: str | None = None,
        shorthands: Iterable[Shorthand] = (),
        actions: ActionVocabulary | None = None,
        nouns: Iterable[str] = (),
        examples: Iterable[str] = (),
    ) -> None:
        self.kind = kind
        self.title = title
        self.fields: tuple[Field, ...] = tuple(fields)
        self.time_field = time_field
        self.person_field = person_field
        self.ip_field = ip_field
        self.status_field = status_field
        self.user_id_field = user_id_field
        self.declared_shorthands: tuple[Shorthand, ...] = tuple(shorthands)
        self.actions = actions
        self.nouns: tuple[str, ...] = tuple(nouns)
        self.examples: tuple[str, ...] = tuple(examples)
        self._by_name = {f.name: f for f in self.fields}
        self._check()
        self.index = _Index(self)

    def __repr__(self) -> str:
        return f"<FieldMap {self.kind}>"

    def field(self, name: str) -> Field:
        """The field called ``name``; KeyError when the map has none."""
        return self._by_name[name]

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self._by_name)

    def help(self) -> FieldMapHelp:
        """Fields with labels, synonyms and values, operators, time phrases, shorthands and examples."""
        fields = tuple(
            FieldHelp(
                name=f.name,
                label=f.label,
                type=f.type.value,
                synonyms=tuple(s for s in f.synonyms if compact(s) != compact(f.label)),
                values=tuple(c.label for c in f.choices),
            )
            for f in self.fields
        )
        shorthands = [
            f"{s.phrases[0]}: {self.field(s.field).label} {OP_WORDS[s.op]} {_show(s.value)}"
            for s in self.declared_shorthands
        ]
        if self.person_field:
            shorthands.append(f"an e-mail address alone: {self.field(self.person_field).label} is that address")
        if self.ip_field:
            shorthands.append(f"an IP address alone, or from IP x: {self.field(self.ip_field).label}")
        if self.status_field:
            words = ", ".join(c.label for c in self.field(self.status_field).choices)
            shorthands.append(f"{words}: {self.field(self.status_field).label}")
        if self.user_id_field:
            shorthands.append(f"user 123: {self.field(self.user_id_field).label} is 123")
        if self.actions:
            verbs = ", ".join(words[0] for words in self.actions.verbs.values())
            nouns = ", ".join(words[0] for words in self.actions.resources.values())
            shorthands.append(f"verbs ({verbs}) and nouns ({nouns}): {self.field(self.actions.field).label}")
        return FieldMapHelp(
            title=self.title,
            fields=fields,
            operators=HELP_OPERATORS,
            time_phrases=HELP_TIME_PHRASES,
            shorthands=tuple(shorthands),
            examples=self.examples,
        )

    def _check(self) -> None:
        if len(self._by_name) != len(self.fields):
            raise ValueError(f"{self.kind}: duplicate field names")
        expected = {
            "time_field": (self.time_field, {FieldType.DATETIME}),
            "person_field": (self.person_field, {FieldType.TEXT}),
            "ip_field": (self.ip_field, {FieldType.IP}),
            "status_field": (self.status_field, {FieldType.ENUM}),
            "user_id_field": (self.user_id_field, {FieldType.TEXT, FieldType.NUMBER}),
        }
        for role, (name, types) in expected.items():
            if name is not None and (name not in self._by_name or self._by_name[name].type not in types):
                raise ValueError(f"{self.kind}: {role} {name!r} is not a field of type {sorted(types)}")
        for f in self.fields:
            if (f.type == FieldType.ENUM) != bool(f.choices):
                raise ValueError(f"{self.kind}: field {f.name!r} must have choices exactly when it is an enum")
        for s in self.declared_shorthands:
            target = self._by_name.get(s.field)
            if target is None:
                raise ValueError(f"{self.kind}: shorthand {s.phrases[0]!r} names unknown field {s.field!r}")
            if target.type == FieldType.ENUM and s.op in {Op.EQ, Op.IN}:
                values = s.value if isinstance(s.value, tuple) else (s.value,)
                if any(target.choice_for(v) is None for v in values):
                    raise ValueError(f"{self.kind}: shorthand {s.phrases[0]!r} has a value not among the choices")
        if self.actions and not {self.actions.field, self.actions.target_field} <= set(self._by_name):
            raise ValueError(f"{self.kind}: action vocabulary names unknown fields")


def _show(value: str | tuple[str, ...]) -> str:
    return ", ".join(value) if isinstance(value, tuple) else value


class _Index:
    """Phrase tables of one field map, keyed by compact key, and the longest phrase in words."""

    def __init__(self, fm: FieldMap) -> None:
        self.kind = fm.kind
        self.fields: dict[str, str] = {}
        self.shorthands: dict[str, Shorthand] = {}
        self.verbs: dict[str, str] = {}
        self.resources: dict[str, str] = {}
        self.nouns: set[str] = set()
        self.max_words = 1
        for f in fm.fields:
            for phrase in f.phrases:
                self._add(self.fields, phrase, f.name, "field")
        for s in fm.declared_shorthands:
            for phrase in s.phrases:
                self._add(self.shorthands, phrase, s, "shorthand")
        self._auto_shorthands(fm)
        if fm.actions:
            for verb, words in fm.actions.verbs.items():
                for phrase in (verb, *words):
                    self._add(self.verbs, phrase, verb, "verb")
            for resource, words in fm.actions.resources.items():
                for phrase in (resource, *words):
                    self._add(self.resources, phrase, resource, "resource")
        for noun in fm.nouns:
            self.nouns.add(compact(noun))
            self._count(noun)
        reserved = set(OPERATORS) | set(TIME_WORDS) | set(UNITS) | set(NUMBER_WORDS) | {"and", "or", "not"}
        for key in [*self.fields, *self.shorthands, *self.verbs, *self.resources]:
            if key in reserved or key in FILLERS:
                raise ValueError(f"{fm.kind}: phrase {key!r} is a reserved word")

    def _count(self, phrase: str) -> None:
        self.max_words = max(self.max_words, len(phrase.replace("_", " ").replace("-", " ").split()))

    def _add(self, table: dict[str, _V], phrase: str, value: _V, what: str) -> None:
        key = compact(phrase)
        if not key:
            raise ValueError(f"{self.kind}: empty {what} phrase {phrase!r}")
        if table.get(key, value) != value:
            raise ValueError(f"{self.kind}: {what} phrase {phrase!r} means two things")
        table[key] = value
        self._count(phrase)

    def _auto_shorthands(self, fm: FieldMap) -> None:
        """Every enum value alone means "that field is that value" ("running", "invitation", "saml"),
        unless the words are a field, a declared shorthand, or a value of two enums (the status field wins)."""
        enum_fields = sorted(
            (f for f in fm.fields if f.type == FieldType.ENUM), key=lambda f: f.name != fm.status_field
        )
        declared = set(self.shorthands)
        taken: dict[str, str] = {}
        ambiguous: set[str] = set()
        for f in enum_fields:
            for choice in f.choices:
                for phrase in choice.phrases:
                    key = compact(phrase)
                    if key in self.fields or key in declared or key in FILLERS:
                        continue
                    if key in taken:
                        if taken[key] != f.name and taken[key] != fm.status_field:
                            ambiguous.add(key)
                        continue
                    taken[key] = f.name
                    self.shorthands[key] = Shorthand((phrase,), f.name, Op.EQ, choice.value)
                    self._count(phrase)
        for key in ambiguous:
            del self.shorthands[key]
