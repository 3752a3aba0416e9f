from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit logs"

    def ready(self) -> None:
        from audit.filtersets import AuditLogFilterSet
        from audit.models import AuditLog
        from audit.tables import AuditLogTable
        from authmon import registry

        registry.register(
            registry.LogKind(
                name="audit",
                model=AuditLog,
                label="Audit Logs",
                table=AuditLogTable,
                filterset=AuditLogFilterSet,
                field_map_path="audit.nlq_fields.AUDIT_FIELDS",
                time_field="timestamp",
                search_fields=("action", "target", "actor", "subject", "comments"),
                search_label="Search action, target, actor, subject, comments",
                export_label="Export Audit Logs",
                person_fields=("actor", "target", "subject"),
                client_fields=("client_actor",),
                computed_fields=("diff",),
                noun="audit logs",
                restorable=True,
                extra={
                    "detail_template": "audit/detail_extra.html",
                    "detail_skip": ("old_entity", "new_entity"),
                    "list_actions": "audit/list_actions.html",
                    "singular": "Audit log",
                },
            )
        )
