"""Base filterset: every record field can be a URL filter, with the lookup a person expects.

Text is matched case-insensitively as "contains", enumerations as a multiple choice, IP addresses exactly. The
date range, quick search and question live in the generic list view, which is the same for every kind.

Every such filter ``<name>`` has a negated twin ``<name>__not`` (see :data:`NOT_SUFFIX`): each of its values, and it
may be repeated, leaves out the rows whose field is exactly that value (text ignoring case, as the query language
compares it). It is what a list's "Exclude this value" links set, and reads as a bookmark:
``?ip_address__not=203.0.113.9&event_type__not=logout``.

Every filter validates its value in its form field before any query is built: a value the column cannot hold (an IP
address that is not one) becomes a form error the page shows, never a database error (DESIGN section 6: no input
answers 500).
"""

from __future__ import annotations

import copy
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q, QuerySet

IP_ADDRESS_HINT = "Enter a whole IPv4 or IPv6 address, such as 203.0.113.7 or 2001:db8::1."
NOT_SUFFIX = "__not"  # ``<filter>__not``: the filter's negated twin
# One URL may exclude this many values of one field: each text value is a condition of its own (SQLite refuses
# an expression deeper than 1,000), and no one clicks "Exclude" a hundred times.
MAX_EXCLUDED_VALUES = 100
# The lookup a twin excludes with, by its filter's lookup: a value picked from a cell is a whole value.
_EXCLUDE_LOOKUPS = {"exact": "exact", "iexact": "iexact", "icontains": "iexact"}


class IPAddressFormField(forms.GenericIPAddressField):
    """An IP address filter value: checked (and IPv6 normalised) here, so the database never casts a non-address.

    PostgreSQL stores these columns as ``inet`` and refuses to compare one with ``not-an-ip`` or ``192.168.1``; the
    error belongs on the page, with what to type instead.
    """

    def clean(self, value: Any) -> Any:
        try:
            return super().clean(value)
        except ValidationError as exc:
            raise ValidationError(IP_ADDRESS_HINT, code="invalid") from exc


class IPAddressFilter(django_filters.CharFilter):
    """Matches one IP address exactly; any other value is a form error."""

    field_class = IPAddressFormField


class ValuesField(forms.Field):
    """Any number of values of one URL parameter, each cleaned by ``item``; blank values are left out."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *, item: forms.Field, **kwargs: Any) -> None:
        self.item = item
        kwargs["required"] = False
        super().__init__(**kwargs)

    def clean(self, value: Any) -> list[Any]:
        values = [v.strip() for v in value or () if isinstance(v, str) and v.strip()]
        if len(values) > MAX_EXCLUDED_VALUES:
            raise ValidationError(f"Exclude at most {MAX_EXCLUDED_VALUES} values of one field.", code="max_values")
        return [self.item.clean(v) for v in values]


class ExcludeValuesFilter(django_filters.Filter):
    """The negated twin of a text or IP address filter: leaves out rows whose field equals any of the values."""

    field_class = ValuesField

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if not value:
            return qs
        if self.lookup_expr == "exact":
            return qs.exclude(**{f"{self.field_name}__in": value})
        condition = Q()
        for item in value:
            condition |= Q(**{f"{self.field_name}__{self.lookup_expr}": item})
        return qs.exclude(condition)


def negated_twin(name: str, flt: django_filters.Filter) -> django_filters.Filter | None:
    """The ``<name>__not`` filter of filter ``name``; None for a filter no cell value could be excluded by.

    A multiple choice is copied with ``exclude`` set (a subclass that filters its own way must honour it, as the
    sessions' effective status does); a text or IP address filter becomes an :class:`ExcludeValuesFilter` that
    cleans each value as the filter does.
    """
    twin: django_filters.Filter
    if isinstance(flt, django_filters.MultipleChoiceFilter):
        twin = copy.deepcopy(flt)
        twin.exclude, twin.distinct = True, False
        twin.extra["widget"] = forms.MultipleHiddenInput
    elif isinstance(flt, django_filters.CharFilter) and flt.lookup_expr in _EXCLUDE_LOOKUPS and flt.method is None:
        lookup = _EXCLUDE_LOOKUPS[flt.lookup_expr]
        twin = ExcludeValuesFilter(field_name=flt.field_name, lookup_expr=lookup, item=flt.field_class())
    else:
        return None
    twin.negates = name  # type: ignore[attr-defined]
    twin.label = f"Not {flt.label or name.replace('_', ' ')}"
    return twin


def negated(flt: django_filters.Filter) -> str | None:
    """The name of the filter that ``flt`` negates, when it is a ``<name>__not`` twin."""
    return getattr(flt, "negates", None)


class LogFilterSet(django_filters.FilterSet):
    """Base of every kind's filterset. Subclasses only list their ``Meta.model`` and ``Meta.fields``.

    Each filter gets its negated twin (:func:`negated_twin`) when the class is made, so every kind has them.
    """

    @classmethod
    def get_filters(cls) -> dict[str, Any]:
        filters = super().get_filters()
        for name, flt in list(filters.items()):
            twin = None if name.endswith(NOT_SUFFIX) else negated_twin(name, flt)
            if twin is not None:
                filters.setdefault(f"{name}{NOT_SUFFIX}", twin)
        return filters

    @classmethod
    def filter_for_field(cls, field: models.Field, field_name: str, lookup_expr: str | None = None) -> Any:
        label = field.verbose_name[:1].upper() + field.verbose_name[1:] if field.verbose_name else field_name
        if field.choices:
            return django_filters.MultipleChoiceFilter(
                field_name=field_name, choices=field.choices, label=label, widget=_checkboxes()
            )
        if isinstance(field, models.GenericIPAddressField):
            return IPAddressFilter(field_name=field_name, lookup_expr="exact", label=label)
        if isinstance(field, (models.CharField, models.TextField)):
            return django_filters.CharFilter(field_name=field_name, lookup_expr="icontains", label=label)
        return super().filter_for_field(field, field_name, lookup_expr)


def _checkboxes() -> Any:
    return forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})  # drawn as Bootstrap's check boxes
