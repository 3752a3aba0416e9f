import django_tables2 as tables

from audit.models import AuditLog
from authmon.tables import ClientColumn, CopyColumn, DetailsColumn, LogTable, PersonColumn, TimeColumn, TruncatedColumn


class AuditLogTable(LogTable):
    action = tables.Column()
    target = TruncatedColumn()
    actor = PersonColumn()
    subject = TruncatedColumn()
    client_actor = ClientColumn(verbose_name="ClientActor")
    comments = TruncatedColumn(length=40)
    timestamp = TimeColumn(verbose_name="TimeStamp")
    old_entity = CopyColumn(verbose_name="Old Entity")
    new_entity = CopyColumn(verbose_name="New Entity")
    diff = CopyColumn(verbose_name="Diff")
    details = DetailsColumn()

    class Meta(LogTable.Meta):
        model = AuditLog
        fields = (
            "action",
            "target",
            "actor",
            "subject",
            "client_actor",
            "comments",
            "timestamp",
            "old_entity",
            "new_entity",
            "diff",
        )
        sequence = (*fields, "details")
