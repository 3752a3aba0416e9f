from typing import Any

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from authmon.filtersets import LogFilterSet
from sessions_grants.models import AccessStatus, Grant, Session, status_q


class EffectiveStatusFilter(django_filters.MultipleChoiceFilter):
    """Status as shown: "active" leaves out rows past their expiry, "expired" includes them (see ``status_q``).

    With ``exclude`` set (its ``status__not`` twin) it leaves out the rows of those statuses instead."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", AccessStatus.choices)
        kwargs.setdefault("label", "Status")
        kwargs.setdefault("widget", forms.CheckboxSelectMultiple)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if not value:
            return qs
        condition = Q()
        for status in value:
            condition |= status_q(status)
        return qs.exclude(condition) if self.exclude else qs.filter(condition)


class SessionFilterSet(LogFilterSet):
    session_id = django_filters.CharFilter(label="Session ID")
    user_id = django_filters.CharFilter(label="User ID")
    status = EffectiveStatusFilter()

    class Meta:
        model = Session
        fields = ["session_id", "protocol", "client_id", "user_id", "email", "status"]


class GrantFilterSet(LogFilterSet):
    grant_id = django_filters.CharFilter(label="Grant ID")
    session_id = django_filters.CharFilter(label="Session ID")
    user_id = django_filters.CharFilter(label="User ID")
    status = EffectiveStatusFilter()

    class Meta:
        model = Grant
        fields = ["grant_id", "email", "user_id", "provider", "client", "session_id", "status"]
