import django_tables2 as tables

from authmon.tables import ClientColumn, DetailsColumn, LogTable, PersonColumn, RevokeColumn, StatusColumn, TimeColumn
from sessions_grants.models import Grant, Session


class SessionTable(LogTable):
    session_id = tables.Column(verbose_name="Session ID")
    protocol = tables.Column()
    client_id = ClientColumn(verbose_name="Client ID")
    user_id = PersonColumn(verbose_name="User ID")
    created_at = TimeColumn(verbose_name="Created At")
    status = StatusColumn()
    details = DetailsColumn(copy_field="details")
    remove = RevokeColumn(verbose_name="Remove")

    class Meta(LogTable.Meta):
        model = Session
        fields = ("session_id", "protocol", "client_id", "user_id", "created_at", "status", "details")
        sequence = (*fields, "remove")


class GrantTable(LogTable):
    grant_id = tables.Column(verbose_name="Grant ID")
    email = PersonColumn()
    provider = tables.Column()
    client = ClientColumn()
    session_id = tables.Column(verbose_name="Session ID")
    created_at = TimeColumn(verbose_name="Created At")
    status = StatusColumn()
    details = DetailsColumn(copy_field="details")

    class Meta(LogTable.Meta):
        model = Grant
        fields = ("grant_id", "email", "provider", "client", "session_id", "created_at", "status", "details")
