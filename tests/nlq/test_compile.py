"""The Q each operator compiles to, per field type, and that a Q only ever names the map's fields (no database)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from nlq import Choice, Field, FieldMap, FieldType, NLQError, Shorthand, interpret
from nlq.ir import Op

from .conftest import MAPS, ask
from .test_questions import TABLE

TEXT = [
    ("client is auth ui", Q(client_name__iexact="auth ui")),
    ("client = 'Auth UI'", Q(client_name__iexact="Auth UI")),
    ("client is not auth ui", ~Q(client_name__iexact="auth ui")),
    ("client != auth ui", ~Q(client_name__iexact="auth ui")),
    ("client contains auth", Q(client_name__icontains="auth")),
    ("client does not contain auth", ~Q(client_name__icontains="auth")),
    ("client starts with auth", Q(client_name__istartswith="auth")),
    ("client does not start with auth", ~Q(client_name__istartswith="auth")),
    ("client ends with beta", Q(client_name__iendswith="beta")),
    ("client doesn't end with beta", ~Q(client_name__iendswith="beta")),
    ("client like auth", Q(client_name__icontains="auth")),
    ("client like auth*", Q(client_name__istartswith="auth")),
    ("client like %beta", Q(client_name__iendswith="beta")),
    ("client like '*ui*'", Q(client_name__icontains="ui")),
    ("client like 'a*b'", Q(client_name__iregex=r"^a.*b$")),
    ("client like 'a+b.c%d'", Q(client_name__iregex=r"^a\+b\.c.*d$")),
    ("client not like 'a*b'", ~Q(client_name__iregex=r"^a.*b$")),
    ("client is one of (a, 'b c')", Q(client_name__iexact="a") | Q(client_name__iexact="b c")),
    ("client is not one of (a, b)", ~(Q(client_name__iexact="a") | Q(client_name__iexact="b"))),
    ("client is empty", Q(client_name__isnull=True) | Q(client_name="")),
    ("client is not empty", ~(Q(client_name__isnull=True) | Q(client_name=""))),
]
ENUM = [
    ("event type is login failed", Q(event_type="login_failed")),
    ("event type is not login", ~Q(event_type="login")),
    ("event type is one of (login, logout)", Q(event_type__in=["login", "logout"])),
    ("event type contains failed", Q(event_type__in=["login_failed", "mfa_failed"])),
    ("event type does not contain failed", ~Q(event_type__in=["login_failed", "mfa_failed"])),
    ("event type starts with mfa", Q(event_type__in=["mfa_verified", "mfa_failed"])),
    (
        "event type like '*ed'",
        Q(
            event_type__in=[
                "login_failed",
                "mfa_verified",
                "mfa_failed",
                "account_locked",
                "session_created",
                "token_refreshed",
            ]
        ),
    ),
    ("mfa events", Q(event_type__in=["mfa_verified", "mfa_failed"])),
    ("event type is empty", Q(event_type__isnull=True) | Q(event_type="")),
]
OTHER = [
    ("ip is 10.0.0.4", Q(ip_address="10.0.0.4")),
    ("ip is 2001:DB8:0::1", Q(ip_address="2001:db8::1")),
    ("ip is ::ffff:10.0.0.4", Q(ip_address="::ffff:10.0.0.4")),
    ("ip is not 10.0.0.4", ~Q(ip_address="10.0.0.4")),
    ("ip starts with 10.0.", Q(ip_address__istartswith="10.0.")),
    ("ip contains .0.4", Q(ip_address__icontains=".0.4")),
    ("ip is one of (10.0.0.4, ::1)", Q(ip_address__in=["10.0.0.4", "::1"])),
    ("ip is empty", Q(ip_address__isnull=True)),
    ("details contains timeout", Q(details__text_icontains="timeout")),
    ("details does not contain timeout", ~Q(details__text_icontains="timeout")),
    ("details is empty", Q(details__isnull=True) | Q(details={}) | Q(details=[])),
    ("created on is empty", Q(created_on__isnull=True)),
]


@pytest.mark.parametrize(("question", "q"), TEXT + ENUM + OTHER, ids=[t[0] for t in TEXT + ENUM + OTHER])
def test_compiles_to(question: str, q: Q) -> None:
    assert ask("events", question).q == q


NUMBERS = FieldMap(
    kind="test",
    title="Tests",
    fields=[
        Field("attempts", "attempts", FieldType.NUMBER, ("tries",)),
        Field("level", "level", FieldType.ENUM, choices=(Choice("low"), Choice("high"))),
        Field("state", "state", FieldType.ENUM, choices=(Choice("low"), Choice("done"))),
        Field("at", "at", FieldType.DATETIME),
    ],
    time_field="at",
    status_field="state",
)


@pytest.mark.parametrize(
    ("question", "q"),
    [
        ("attempts > 3", Q(attempts__gt=3)),
        ("attempts >= 3", Q(attempts__gte=3)),
        ("attempts < 2.5", Q(attempts__lt=2.5)),
        ("tries <= 3", Q(attempts__lte=3)),
        ("attempts is greater than 3", Q(attempts__gt=3)),
        ("attempts is at least 3", Q(attempts__gte=3)),
        ("attempts is 3", Q(attempts=3)),
        ("attempts is one of (1, 2)", Q(attempts__in=[1, 2])),
        ("low", Q(state="low")),  # a value of two enums: the status field wins
        ("done", Q(state="done")),
        ("high", Q(level="high")),
    ],
)
def test_numbers_and_status_words(question: str, q: Q) -> None:
    assert interpret(question, NUMBERS, now=datetime(2026, 1, 1, tzinfo=UTC), tz=ZoneInfo("UTC")).q == q


def test_a_number_field_refuses_text() -> None:
    with pytest.raises(NLQError, match="attempts is a number; 'many' is not"):
        interpret("attempts is many", NUMBERS, now=datetime(2026, 1, 1, tzinfo=UTC), tz=ZoneInfo("UTC"))


def _lookups(q: Q) -> list[str]:
    names: list[str] = []
    for child in q.children:
        if isinstance(child, Q):
            names += _lookups(child)
        else:
            names.append(child[0])
    return names


@pytest.mark.parametrize(("kind", "question", "expected"), TABLE, ids=[f"{k}: {q}" for k, q, _ in TABLE])
def test_q_names_only_fields_of_the_map(kind: str, question: str, expected: str) -> None:
    fields = set(MAPS[kind].field_names)
    for lookup in _lookups(ask(kind, question).q):
        assert lookup.split("__")[0] in fields


def test_user_text_is_never_a_lookup() -> None:
    result = ask("events", "client is 'x__regex' and email contains 'a) OR 1=1 --'")
    assert _lookups(result.q) == ["client_name__iexact", "email__icontains"]
    assert result.q == Q(client_name__iexact="x__regex") & Q(email__icontains="a) OR 1=1 --")


def test_shorthand_ops_are_kept() -> None:
    fm = FieldMap(
        kind="t",
        title="T",
        fields=[Field("name", "name"), Field("at", "at", FieldType.DATETIME)],
        time_field="at",
        shorthands=[Shorthand(("bots",), "name", Op.ENDSWITH, "-bot")],
    )
    result = interpret("bots", fm, now=datetime(2026, 1, 1, tzinfo=UTC), tz=ZoneInfo("UTC"))
    assert result.q == Q(name__iendswith="-bot")
    assert result.canonical == "name ends with '-bot'"
