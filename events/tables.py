import django_tables2 as tables

from authmon.tables import (
    ClientColumn,
    DetailsColumn,
    LogTable,
    PersonColumn,
    StatusColumn,
    TimeColumn,
    TruncatedColumn,
)
from events.models import EventLog


class EventLogTable(LogTable):
    event_type = StatusColumn(verbose_name="Event Type")
    client_name = ClientColumn(verbose_name="Client Name")
    provider_name = tables.Column(verbose_name="Provider Name")
    created_on = TimeColumn(verbose_name="Created On")
    email = PersonColumn()
    username = tables.Column()
    ip_address = tables.Column(verbose_name="IP Address", orderable=False)
    user_agent = TruncatedColumn(verbose_name="User Agent", length=40)
    details = DetailsColumn(copy_field="details")

    class Meta(LogTable.Meta):
        model = EventLog
        fields = (
            "event_type",
            "client_name",
            "provider_name",
            "created_on",
            "email",
            "username",
            "ip_address",
            "user_agent",
            "details",
        )
