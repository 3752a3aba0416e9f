from authmon.filtersets import LogFilterSet
from events.models import EventLog


class EventLogFilterSet(LogFilterSet):
    class Meta:
        model = EventLog
        fields = ["event_type", "client_name", "provider_name", "email", "username", "ip_address", "user_agent"]
