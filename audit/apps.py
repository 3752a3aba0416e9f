from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit logs"

    def ready(self) -> None:
        from django.db.models import Q

        from audit.demo import AuditDemo
        from audit.filtersets import AuditLogFilterSet
        from audit.models import AuditLog
        from audit.nlq_fields import AUDIT_FIELDS
        from audit.services import audit_record
        from audit.tables import AuditLogTable
        from audit.trim import AuditTrimPolicy
        from authmon import auditing, registry

        auditing.recorder_set(audit_record)
        registry.register(
            registry.LogKind(
                model=AuditLog,
                table=AuditLogTable,
                filterset=AuditLogFilterSet,
                field_map=AUDIT_FIELDS,
                menu_order=10,
                default_retention_days=2555,  # seven years
                trim=AuditTrimPolicy(),
                search_fields=("action", "target", "actor", "subject", "comments"),
                search_label="Search action, target, actor, subject, comments",
                export_label="Export Audit Logs",
                demo_builder=AuditDemo,
                person_fields=("actor", "target", "subject"),
                client_fields=("client_actor",),
                console_rows=Q(client_actor=auditing.CONSOLE_CLIENT),  # indexed: audit_tenant_client
                computed_fields=("diff",),
                noun="audit logs",
                restorable=True,
                singular_label="Audit log",
                detail_skip=("old_entity", "new_entity"),
                detail_template="audit/detail_extra.html",
                list_actions_template="audit/list_actions.html",
            )
        )
