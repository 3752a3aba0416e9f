"""The fixed words of the language: operators, time words, numbers, fillers.

Words are looked up by their *compact key* (see :func:`compact`): case-folded letters and digits only, so
"Event Type", "event_type", "eventType" and "EVENT-TYPE" are one key, and a phrase may be typed as one word or
several. The kind-specific words (fields, shorthands, audit verbs and nouns) live in each field map.
"""

from __future__ import annotations

from nlq.ir import Op, Unit


def compact(text: str) -> str:
    """Case-folded letters and digits of ``text``: the key every phrase table is indexed by."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _table(entries: dict[str, object]) -> dict[str, object]:
    return {compact(k): v for k, v in entries.items()}


# ---- operators ----------------------------------------------------------------------------------------
# phrase -> list of (terminal, payload). A phrase can be several terminals; the lexer takes the one the parser
# accepts: "is" is OP eq after a field and _TIS after a time field. ``needs_paren`` phrases ("in") count only
# when "(" follows.

OpEntry = tuple[str, Op | None]

_OPERATOR_PHRASES: dict[str, list[OpEntry]] = {
    "is": [("OP", Op.EQ), ("_TIS", None)],
    "was": [("_TIS", None)],
    "were": [("_TIS", None)],
    "equals": [("OP", Op.EQ), ("_TIS", None)],
    "equal": [("OP", Op.EQ)],
    "equal to": [("OP", Op.EQ)],
    "is equal to": [("OP", Op.EQ)],
    "eq": [("OP", Op.EQ)],
    "is exactly": [("OP", Op.EQ)],
    "exactly": [("OP", Op.EQ)],
    "is not": [("OP", Op.NE), ("TNOT", None)],
    "isn't": [("OP", Op.NE), ("TNOT", None)],
    "was not": [("TNOT", None)],
    "wasn't": [("TNOT", None)],
    "not": [("OP", Op.NE), ("TNOT", None)],
    "not equal": [("OP", Op.NE)],
    "not equal to": [("OP", Op.NE)],
    "not equals": [("OP", Op.NE)],
    "is not equal to": [("OP", Op.NE)],
    "does not equal": [("OP", Op.NE)],
    "doesn't equal": [("OP", Op.NE)],
    "ne": [("OP", Op.NE)],
    "contains": [("OP", Op.CONTAINS)],
    "contain": [("OP", Op.CONTAINS)],
    "containing": [("OP", Op.CONTAINS)],
    "does contain": [("OP", Op.CONTAINS)],
    "has": [("OP", Op.CONTAINS)],
    "includes": [("OP", Op.CONTAINS)],
    "including": [("OP", Op.CONTAINS)],
    "does not contain": [("OP", Op.NOT_CONTAINS)],
    "doesn't contain": [("OP", Op.NOT_CONTAINS)],
    "do not contain": [("OP", Op.NOT_CONTAINS)],
    "don't contain": [("OP", Op.NOT_CONTAINS)],
    "not contains": [("OP", Op.NOT_CONTAINS)],
    "not contain": [("OP", Op.NOT_CONTAINS)],
    "not containing": [("OP", Op.NOT_CONTAINS)],
    "does not include": [("OP", Op.NOT_CONTAINS)],
    "doesn't include": [("OP", Op.NOT_CONTAINS)],
    "does not have": [("OP", Op.NOT_CONTAINS)],
    "doesn't have": [("OP", Op.NOT_CONTAINS)],
    "excludes": [("OP", Op.NOT_CONTAINS)],
    "like": [("OP", Op.LIKE)],
    "is like": [("OP", Op.LIKE)],
    "looks like": [("OP", Op.LIKE)],
    "matches": [("OP", Op.LIKE)],
    "match": [("OP", Op.LIKE)],
    "not like": [("OP", Op.NOT_LIKE)],
    "is not like": [("OP", Op.NOT_LIKE)],
    "isn't like": [("OP", Op.NOT_LIKE)],
    "unlike": [("OP", Op.NOT_LIKE)],
    "does not match": [("OP", Op.NOT_LIKE)],
    "doesn't match": [("OP", Op.NOT_LIKE)],
    "starts with": [("OP", Op.STARTSWITH)],
    "start with": [("OP", Op.STARTSWITH)],
    "starting with": [("OP", Op.STARTSWITH)],
    "begins with": [("OP", Op.STARTSWITH)],
    "begin with": [("OP", Op.STARTSWITH)],
    "beginning with": [("OP", Op.STARTSWITH)],
    "does not start with": [("OP", Op.NOT_STARTSWITH)],
    "doesn't start with": [("OP", Op.NOT_STARTSWITH)],
    "not starting with": [("OP", Op.NOT_STARTSWITH)],
    "does not begin with": [("OP", Op.NOT_STARTSWITH)],
    "doesn't begin with": [("OP", Op.NOT_STARTSWITH)],
    "ends with": [("OP", Op.ENDSWITH)],
    "end with": [("OP", Op.ENDSWITH)],
    "ending with": [("OP", Op.ENDSWITH)],
    "does not end with": [("OP", Op.NOT_ENDSWITH)],
    "doesn't end with": [("OP", Op.NOT_ENDSWITH)],
    "not ending with": [("OP", Op.NOT_ENDSWITH)],
    "is one of": [("LISTOP", Op.IN)],
    "one of": [("LISTOP", Op.IN)],
    "is any of": [("LISTOP", Op.IN)],
    "any of": [("LISTOP", Op.IN)],
    "is not one of": [("LISTOP", Op.NOT_IN)],
    "isn't one of": [("LISTOP", Op.NOT_IN)],
    "not one of": [("LISTOP", Op.NOT_IN)],
    "is none of": [("LISTOP", Op.NOT_IN)],
    "none of": [("LISTOP", Op.NOT_IN)],
    "is empty": [("UNOP", Op.EMPTY)],
    "is blank": [("UNOP", Op.EMPTY)],
    "is null": [("UNOP", Op.EMPTY)],
    "is missing": [("UNOP", Op.EMPTY)],
    "is unset": [("UNOP", Op.EMPTY)],
    "is not set": [("UNOP", Op.EMPTY)],
    "empty": [("UNOP", Op.EMPTY)],
    "blank": [("UNOP", Op.EMPTY)],
    "missing": [("UNOP", Op.EMPTY)],
    "is not empty": [("UNOP", Op.NOT_EMPTY)],
    "isn't empty": [("UNOP", Op.NOT_EMPTY)],
    "is not blank": [("UNOP", Op.NOT_EMPTY)],
    "is not null": [("UNOP", Op.NOT_EMPTY)],
    "is not missing": [("UNOP", Op.NOT_EMPTY)],
    "not empty": [("UNOP", Op.NOT_EMPTY)],
    "is set": [("UNOP", Op.NOT_EMPTY)],
    "is present": [("UNOP", Op.NOT_EMPTY)],
    "exists": [("UNOP", Op.NOT_EMPTY)],
    "greater than": [("CMP", Op.GT)],
    "is greater than": [("CMP", Op.GT)],
    "is more than": [("CMP", Op.GT)],
    "above": [("CMP", Op.GT)],
    "less than": [("CMP", Op.LT)],
    "is less than": [("CMP", Op.LT)],
    "below": [("CMP", Op.LT)],
    "at least": [("CMP", Op.GE)],
    "is at least": [("CMP", Op.GE)],
    "at most": [("CMP", Op.LE)],
    "is at most": [("CMP", Op.LE)],
}

#: Phrases that are an operator only when "(" follows ("status in (failed, pending)").
PAREN_OPERATORS: dict[str, list[OpEntry]] = {
    compact("in"): [("LISTOP", Op.IN)],
    compact("is in"): [("LISTOP", Op.IN)],
    compact("not in"): [("LISTOP", Op.NOT_IN)],
    compact("is not in"): [("LISTOP", Op.NOT_IN)],
}

OPERATORS: dict[str, list[OpEntry]] = {compact(k): v for k, v in _OPERATOR_PHRASES.items()}
MAX_OPERATOR_WORDS = max(len(k.split()) for k in _OPERATOR_PHRASES)
#: Every single word of an operator phrase ("null" of "is null"): never written as a bare value.
OPERATOR_WORDS = frozenset(compact(w) for phrase in _OPERATOR_PHRASES for w in phrase.split())

SYMBOL_OPERATORS: dict[str, list[OpEntry]] = {
    "=": [("OP", Op.EQ), ("_TIS", None)],
    "==": [("OP", Op.EQ), ("_TIS", None)],
    "!=": [("OP", Op.NE), ("TNOT", None)],
    "<>": [("OP", Op.NE), ("TNOT", None)],
    "≠": [("OP", Op.NE), ("TNOT", None)],
    ">": [("CMP", Op.GT)],
    ">=": [("CMP", Op.GE)],
    "≥": [("CMP", Op.GE)],
    "<": [("CMP", Op.LT)],
    "<=": [("CMP", Op.LE)],
    "≤": [("CMP", Op.LE)],
}

#: How each operator is written back: in the canonical question (so it must parse to the same operator), in
#: the summary line and in the help's shorthand list. The one home for these words.
OP_WORDS: dict[Op, str] = {
    Op.EQ: "is",
    Op.NE: "is not",
    Op.CONTAINS: "contains",
    Op.NOT_CONTAINS: "does not contain",
    Op.LIKE: "is like",
    Op.NOT_LIKE: "is not like",
    Op.STARTSWITH: "starts with",
    Op.NOT_STARTSWITH: "does not start with",
    Op.ENDSWITH: "ends with",
    Op.NOT_ENDSWITH: "does not end with",
    Op.IN: "is one of",
    Op.NOT_IN: "is not one of",
    Op.EMPTY: "is empty",
    Op.NOT_EMPTY: "is not empty",
    Op.GT: ">",
    Op.GE: ">=",
    Op.LT: "<",
    Op.LE: "<=",
}

AND_WORDS = frozenset({"and", "&&", "&", "but"})
OR_WORDS = frozenset({"or", "||", "|"})
NOT_WORDS = frozenset({"not", "!"})

# ---- time ---------------------------------------------------------------------------------------------

_TIME_PHRASES: dict[str, tuple[str, str]] = {
    "today": ("NAMED", "today"),
    "yesterday": ("NAMED", "yesterday"),
    "now": ("NAMED", "now"),
    "right now": ("NAMED", "now"),
    "this": ("THIS", "this"),
    "current": ("THIS", "this"),
    "the current": ("THIS", "this"),
    "last": ("LAST", "last"),
    "previous": ("LAST", "last"),
    "prev": ("LAST", "last"),
    "the previous": ("LAST", "last"),
    "past": ("ROLLING", "in the last"),
    "the past": ("ROLLING", "in the last"),
    "in the last": ("ROLLING", "in the last"),
    "in the past": ("ROLLING", "in the last"),
    "in last": ("ROLLING", "in the last"),
    "in past": ("ROLLING", "in the last"),
    "within": ("ROLLING", "in the last"),
    "within the last": ("ROLLING", "in the last"),
    "within the past": ("ROLLING", "in the last"),
    "during the last": ("ROLLING", "in the last"),
    "during the past": ("ROLLING", "in the last"),
    "over the last": ("ROLLING", "in the last"),
    "over the past": ("ROLLING", "in the last"),
    "for the last": ("ROLLING", "in the last"),
    "for the past": ("ROLLING", "in the last"),
    "ago": ("AGO", "ago"),
    "back": ("AGO", "ago"),
    "on": ("ON", "on"),
    "since": ("SINCE", "since"),
    "as of": ("SINCE", "since"),
    "starting": ("SINCE", "since"),
    "starting from": ("SINCE", "since"),
    "after": ("AFTER", "after"),
    "later than": ("AFTER", "after"),
    "before": ("BEFORE", "before"),
    "until": ("BEFORE", "before"),
    "till": ("BEFORE", "before"),
    "prior to": ("BEFORE", "before"),
    "earlier than": ("BEFORE", "before"),
    "between": ("BETWEEN", "between"),
    "older than": ("OLDER", "older than"),
    "more than": ("MORE", "more than"),
    "over": ("MORE", "more than"),
    "at least": ("MORE", "more than"),
    "less than": ("NEWER", "less than"),
    "newer than": ("NEWER", "less than"),
    "younger than": ("NEWER", "less than"),
    "at most": ("NEWER", "less than"),
}
TIME_WORDS: dict[str, tuple[str, str]] = {compact(k): v for k, v in _TIME_PHRASES.items()}
MAX_TIME_WORDS = max(len(k.split()) for k in _TIME_PHRASES)
TIME_PHRASE_WORDS = frozenset(compact(w) for phrase in _TIME_PHRASES for w in phrase.split())

#: "from X to Y" is "between X and Y".
RANGE_TO_WORDS = frozenset({"to", "until", "till", "through", "thru"})

UNITS: dict[str, Unit] = {}
for _unit, _words in {
    Unit.MINUTE: ("minute", "minutes", "min", "mins"),
    Unit.HOUR: ("hour", "hours", "hr", "hrs"),
    Unit.DAY: ("day", "days"),
    Unit.WEEK: ("week", "weeks", "wk", "wks"),
    Unit.MONTH: ("month", "months"),
    Unit.YEAR: ("year", "years", "yr", "yrs"),
}.items():
    UNITS.update(dict.fromkeys(_words, _unit))

#: Compact durations typed as one word: "24h", "7d", "2w", "30min".
COMPACT_UNITS: dict[str, Unit] = {
    "min": Unit.MINUTE,
    "mins": Unit.MINUTE,
    "h": Unit.HOUR,
    "hr": Unit.HOUR,
    "hrs": Unit.HOUR,
    "d": Unit.DAY,
    "w": Unit.WEEK,
    "wk": Unit.WEEK,
    "y": Unit.YEAR,
    "yr": Unit.YEAR,
}

NUMBER_WORDS: dict[str, int] = {
    word: n
    for n, word in enumerate(
        (
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        )
    )
}
#: "an hour ago", "a week ago": only before a unit.
ARTICLE_ONE = frozenset({"a", "an"})

WEEKDAYS: dict[str, int] = {}
for _n, _names in enumerate(
    [
        ("monday", "mon"),
        ("tuesday", "tue", "tues"),
        ("wednesday", "wed"),
        ("thursday", "thu", "thur", "thurs"),
        ("friday", "fri"),
        ("saturday", "sat"),
        ("sunday", "sun"),
    ]
):
    WEEKDAYS.update(dict.fromkeys(_names, _n))
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    [
        ("january", "jan"),
        ("february", "feb"),
        ("march", "mar"),
        ("april", "apr"),
        ("may",),
        ("june", "jun"),
        ("july", "jul"),
        ("august", "aug"),
        ("september", "sep", "sept"),
        ("october", "oct"),
        ("november", "nov"),
        ("december", "dec"),
    ],
    start=1,
):
    MONTHS.update(dict.fromkeys(_names, _n))
MONTH_ABBR = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# ---- words that carry no meaning ----------------------------------------------------------------------

FILLERS = frozenset(
    compact(w)
    for w in (
        "show",
        "me",
        "list",
        "find",
        "get",
        "give",
        "display",
        "fetch",
        "search",
        "all",
        "every",
        "the",
        "a",
        "an",
        "any",
        "entries",
        "entry",
        "records",
        "record",
        "logs",
        "log",
        "events",
        "event",
        "rows",
        "items",
        "where",
        "with",
        "which",
        "that",
        "for",
        "please",
        "who",
        "what",
        "by",
        "whose",
        "there",
        "are",
        "of",
    )
)
#: "from" is a filler only before a time phrase or an IP address ("from IP 10.0.0.4", "from yesterday").
FROM_WORD = "from"
#: Fillers skipped before looking for a time phrase that ends a bare value ("client is x the last 7 days").
TIME_LEAD_FILLERS = frozenset({"the", "from"})

# ---- help ---------------------------------------------------------------------------------------------

HELP_OPERATORS = (
    "is, =",
    "is not, !=",
    "contains",
    "does not contain",
    "like, not like (partial match; * and % are wildcards)",
    "starts with, ends with",
    "is one of (a, b or c)",
    "is empty, is not empty",
    ">, <, >=, <= (times and numbers)",
    "and, or, not, ( )",
)
HELP_TIME_PHRASES = (
    "today, yesterday",
    "this week / month / year",
    "last week / month / year (previous calendar week from Monday, month, year)",
    "in the last 7 days, in the past 24 hours (rolling)",
    "two days ago, one week ago (that calendar day), 3 hours ago (that hour)",
    "since Nov 3, after 2026-11-01, before 3 November 2026, on Nov 3",
    "between Nov 1 and Nov 3",
    "older than 1 hour, more than 2 days ago",
)
