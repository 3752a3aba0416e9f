"""Natural-language questions about log records, compiled to Django ``Q`` objects (DESIGN section 7).

Pure Python: no models, no settings. A page calls :func:`interpret` with its kind's :class:`FieldMap`::

    from nlq import NLQError, interpret

    result = interpret("failed logins from IP 10.0.0.4 yesterday", EVENT_FIELDS, now=now, tz=tz)
    EventLog.objects.filter(result.q)

JSON fields are searched with the ``text_icontains`` lookup that ``authmon.lookups`` registers.
"""

from nlq.compiler import JSON_TEXT_LOOKUP
from nlq.describe import Chip
from nlq.errors import NLQError
from nlq.fields import (
    ActionVocabulary,
    Choice,
    Field,
    FieldHelp,
    FieldMap,
    FieldMapHelp,
    FieldType,
    Shorthand,
    created_synonyms,
)
from nlq.interpret import MAX_LENGTH, Interpretation, interpret
from nlq.ir import Op, time_fields

__all__ = [
    "JSON_TEXT_LOOKUP",
    "MAX_LENGTH",
    "ActionVocabulary",
    "Chip",
    "Choice",
    "Field",
    "FieldHelp",
    "FieldMap",
    "FieldMapHelp",
    "FieldType",
    "Interpretation",
    "NLQError",
    "Op",
    "Shorthand",
    "created_synonyms",
    "interpret",
    "time_fields",
]
