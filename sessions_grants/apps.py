from django.apps import AppConfig


class SessionsGrantsConfig(AppConfig):
    name = "sessions_grants"
    verbose_name = "Sessions and grants"

    def ready(self) -> None:
        from authmon import registry
        from events.demo import SignInDemo
        from sessions_grants.filtersets import GrantFilterSet, SessionFilterSet
        from sessions_grants.models import AccessStatus, Grant, Session
        from sessions_grants.nlq_fields import GRANT_FIELDS, SESSION_FIELDS
        from sessions_grants.services import revocations_kept_audit
        from sessions_grants.tables import GrantTable, SessionTable
        from sessions_grants.views import bulk_revoke_view, revoke_view
        from sessions_grants.webhooks import revocations_after_ingest

        # What the two kinds share: they are state, revocable one by one or many at once from the list, and
        # revocations reach the webhook.
        revocable = {
            "kept_revoked_audit": revocations_kept_audit,
            "after_ingest": revocations_after_ingest,
            "record_actions": {"revoke": revoke_view},
            "bulk_actions": {"revoke": bulk_revoke_view},
            "detail_template": "sessions_grants/detail_panel.html",
            "detail_actions_template": "sessions_grants/detail_actions.html",
            "list_actions_template": "sessions_grants/list_actions.html",
            # State, not history (DESIGN section 6b): the list opens on every active record, whatever its age.
            "default_preset": "all",
            "default_filters": {"status": (AccessStatus.ACTIVE.value,)},
        }
        registry.register(
            registry.LogKind(
                model=Session,
                table=SessionTable,
                filterset=SessionFilterSet,
                field_map=SESSION_FIELDS,
                menu_order=50,
                default_retention_days=90,
                search_fields=("user_id__exact",),
                search_label="Search by user ID",
                export_label="Export Sessions",
                demo_builder=SignInDemo,  # made with the sign-ins that open them
                person_fields=("user_id", "email"),
                client_fields=("client_id",),
                upsert_key="session_id",
                noun="sessions",
                singular_label="Session",
                **revocable,
            )
        )
        registry.register(
            registry.LogKind(
                model=Grant,
                table=GrantTable,
                filterset=GrantFilterSet,
                field_map=GRANT_FIELDS,
                menu_order=60,
                default_retention_days=365,
                search_fields=("email",),
                search_label="Search by email",
                export_label="Export Grants",
                demo_builder=SignInDemo,  # made with the sign-ins that open them
                person_fields=("email", "user_id"),
                client_fields=("client",),
                upsert_key="grant_id",
                noun="grants",
                singular_label="Grant",
                **revocable,
            )
        )
