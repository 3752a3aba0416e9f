"""NLQ field map of Audit Logs (audit.AuditLog), with the audit verbs and resource nouns of DESIGN section 7.

Importable without Django set up.
"""

from nlq import ActionVocabulary, Field, FieldMap, FieldType, created_synonyms

AUDIT_ACTIONS = ActionVocabulary(
    field="action",
    target_field="target",
    verbs={
        "create": ("created", "creates", "creating", "add", "added", "adds", "new"),
        "update": ("modified", "modify", "modifies", "changed", "updated", "updates", "edited", "edit", "edits"),
        "delete": ("deleted", "deletes", "removed", "remove", "removes"),
        "enable": ("enabled", "enables"),
        "disable": ("disabled", "disables"),
    },
    resources={
        "IdentityProvider": ("provider", "providers", "identity provider", "identity providers", "idp", "idps"),
        "Application": ("application", "applications", "app", "apps", "client", "clients"),
        "User": ("user", "users"),
        "Group": ("group", "groups"),
        "Role": ("role", "roles"),
        "Permission": ("permission", "permissions"),
        "Template": ("template", "templates"),
        "TenantSettings": ("settings", "tenant settings", "setting"),
        "Secret": ("secret", "secrets"),
        "Certificate": ("certificate", "certificates", "cert", "certs"),
    },
)

AUDIT_FIELDS = FieldMap(
    kind="audit",
    title="Audit Logs",
    fields=[
        Field("action", "action", synonyms=("action type", "operation")),
        Field("target", "target", synonyms=("resource", "target resource", "object")),
        Field(
            "actor",
            "actor",
            synonyms=("user", "admin", "performed by", "done by", "changed by", "modified by", "actor email"),
        ),
        Field("subject", "subject", synonyms=("secondary", "affected")),
        Field("client_actor", "client actor", synonyms=("client application", "via")),
        Field("timestamp", "timestamp", FieldType.DATETIME, ("time stamp", "logged", *created_synonyms("action"))),
        Field("old_entity", "old entity", FieldType.JSON, ("old", "old value", "old state", "previous state")),
        Field("new_entity", "new entity", FieldType.JSON, ("new entity value", "new value", "new state")),
        Field("diff", "diff", FieldType.JSON, ("difference", "differences")),
        Field("comments", "comments", synonyms=("comment", "justification", "note", "notes", "reason")),
        Field("external_id", "external id"),
        # The tamper-evident chain (audit.chain): find a record by its position or hash, e.g. from verify's report.
        Field("seq", "chain position", FieldType.NUMBER, ("seq", "sequence", "sequence number", "position")),
        Field("prev_hash", "previous hash", synonyms=("prev hash",)),
        Field("hash", "record hash", synonyms=("hash", "chain hash")),
    ],
    time_field="timestamp",
    person_field="actor",
    actions=AUDIT_ACTIONS,
    nouns=(
        "actions",
        "changes",
        "change",
        "audit logs",
        "audit log",
        "audit entries",
        "audit",
        "modifications",
        "activity",
    ),
    examples=(
        "action is 'update IdentityProvider' and the timestamp is from last month",
        "the actor is like example.com",
        "the target is 'test role'",
        "show me all delete actions from yesterday",
        "who modified the google provider last week",
    ),
)
