"""Base filterset: every record field can be a URL filter, with the lookup a person expects.

Text is matched case-insensitively as "contains", enumerations as a multiple choice, IP addresses exactly. The
date range, quick search and question live in the generic list view, which is the same for every kind.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.db import models


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
            return django_filters.CharFilter(field_name=field_name, lookup_expr="exact", label=label)
        if isinstance(field, (models.CharField, models.TextField)):
            return django_filters.CharFilter(field_name=field_name, lookup_expr="icontains", label=label)
        return super().filter_for_field(field, field_name, lookup_expr)


def _checkboxes() -> Any:
    from django import forms

    return forms.CheckboxSelectMultiple
