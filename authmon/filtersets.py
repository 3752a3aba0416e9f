"""Base filterset: every record field can be a URL filter, with the lookup a person expects.

Text is matched case-insensitively as "contains", enumerations as a multiple choice, IP addresses exactly. The
date range, quick search and question live in the generic list view, which is the same for every kind.

Every filter validates its value in its form field before any query is built: a value the column cannot hold (an IP
address that is not one) becomes a form error the page shows, never a database error (DESIGN section 6: no input
answers 500).
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError
from django.db import models

IP_ADDRESS_HINT = "Enter a whole IPv4 or IPv6 address, such as 203.0.113.7 or 2001:db8::1."


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


class LogFilterSet(django_filters.FilterSet):
    """Base of every kind's filterset. Subclasses only list their ``Meta.model`` and ``Meta.fields``."""

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
    return forms.CheckboxSelectMultiple
