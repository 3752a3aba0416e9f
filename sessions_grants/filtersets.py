import django_filters

from authmon.filters import LogFilterSet
from sessions_grants.models import Grant, Session


class SessionFilterSet(LogFilterSet):
    session_id = django_filters.CharFilter(label="Session ID")
    user_id = django_filters.CharFilter(label="User ID")
    class Meta:
        model = Session
        fields = ["session_id", "protocol", "client_id", "user_id", "email", "status"]


class GrantFilterSet(LogFilterSet):
    grant_id = django_filters.CharFilter(label="Grant ID")
    session_id = django_filters.CharFilter(label="Session ID")
    user_id = django_filters.CharFilter(label="User ID")
    class Meta:
        model = Grant
        fields = ["grant_id", "email", "user_id", "provider", "client", "session_id", "status"]
