from django.apps import AppConfig


class SessionsGrantsConfig(AppConfig):
    name = "sessions_grants"
    verbose_name = "Sessions and grants"

    def ready(self) -> None:
        from authmon import registry
        from sessions_grants.filtersets import GrantFilterSet, SessionFilterSet
        from sessions_grants.models import Grant, Session
        from sessions_grants.services import revocations_kept_audit
        from sessions_grants.tables import GrantTable, SessionTable

        registry.register(
            registry.LogKind(
                name="sessions",
                model=Session,
                label="Sessions",
                table=SessionTable,
                filterset=SessionFilterSet,
                field_map_path="sessions_grants.nlq_fields.SESSION_FIELDS",
                time_field="created_at",
                search_fields=("user_id__exact",),
                search_label="Search by user ID",
                export_label="Export Sessions",
                person_fields=("user_id", "email"),
                client_fields=("client_id",),
                upsert_key="session_id",
                noun="sessions",
                kept_revoked_audit=revocations_kept_audit,
                extra={
                    "record_actions": {"revoke": "sessions_grants.views.revoke_view"},
                    "detail_actions": "sessions_grants/detail_actions.html",
                    "detail_template": "sessions_grants/detail_panel.html",
                    "after_ingest": "sessions_grants.webhooks.revocations_after_ingest",
                    "list_actions": "sessions_grants/list_actions.html",
                    "singular": "Session",
                },
            )
        )
        registry.register(
            registry.LogKind(
                name="grants",
                model=Grant,
                label="Grants",
                table=GrantTable,
                filterset=GrantFilterSet,
                field_map_path="sessions_grants.nlq_fields.GRANT_FIELDS",
                time_field="created_at",
                search_fields=("email",),
                search_label="Search by email",
                export_label="Export Grants",
                person_fields=("email", "user_id"),
                client_fields=("client",),
                upsert_key="grant_id",
                noun="grants",
                kept_revoked_audit=revocations_kept_audit,
                extra={
                    "record_actions": {"revoke": "sessions_grants.views.revoke_view"},
                    "detail_actions": "sessions_grants/detail_actions.html",
                    "detail_template": "sessions_grants/detail_panel.html",
                    "after_ingest": "sessions_grants.webhooks.revocations_after_ingest",
                    "list_actions": "sessions_grants/list_actions.html",
                    "singular": "Grant",
                },
            )
        )
