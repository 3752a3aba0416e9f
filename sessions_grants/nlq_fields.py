"""NLQ field maps of Sessions and Grants (sessions_grants.Session, .Grant). Importable without Django set up."""

from nlq import Choice, Field, FieldMap, FieldType, created_synonyms

ACCESS_STATUSES = (
    Choice("active", synonyms=("valid", "live")),
    Choice("expired"),
    Choice("revoked", synonyms=("terminated",)),
)
_PERSON = ("user", "e-mail", "user email", "email address")

SESSION_FIELDS = FieldMap(
    kind="sessions",
    title="Sessions",
    fields=[
        Field("session_id", "session id", synonyms=("session", "id", "sid")),
        Field(
            "protocol",
            "protocol",
            FieldType.ENUM,
            ("type",),
            (Choice("OIDC", "OIDC", ("openid connect", "openid")), Choice("SAML", "SAML", ("saml2",))),
        ),
        Field("client_id", "client id", synonyms=("client", "application", "app")),
        Field("user_id", "user id", synonyms=("uid",)),
        Field("email", "email", synonyms=_PERSON),
        Field(
            "created_at",
            "created at",
            FieldType.DATETIME,
            ("created", "created on", "started", "started at", *created_synonyms("session")),
        ),
        Field("expires_at", "expires at", FieldType.DATETIME, ("expires", "expiry", "expiration", "expires on")),
        Field("status", "status", FieldType.ENUM, ("state",), ACCESS_STATUSES),
        Field("details", "details", FieldType.JSON, ("detail", "claims", "scopes", "parameters")),
        Field("external_id", "external id"),
    ],
    time_field="created_at",
    person_field="email",
    status_field="status",
    user_id_field="user_id",
    nouns=("sessions", "session logs"),
    examples=(
        "user 123 and status is active",
        "active sessions for user@example.com",
        "protocol is SAML and the session was created in the last 24 hours",
        "revoked sessions last week",
        "client id is auth-ui and created at is older than 30 days",
    ),
)

GRANT_FIELDS = FieldMap(
    kind="grants",
    title="Grants",
    fields=[
        Field("grant_id", "grant id", synonyms=("grant", "id")),
        Field("email", "email", synonyms=_PERSON),
        Field("user_id", "user id", synonyms=("uid",)),
        Field("provider", "provider", synonyms=("identity provider", "idp", "provider name")),
        Field("client", "client", synonyms=("application", "app", "client name", "client id")),
        Field("session_id", "session id", synonyms=("session",)),
        Field(
            "created_at",
            "created at",
            FieldType.DATETIME,
            ("created", "created on", "granted", "granted at", *created_synonyms("grant")),
        ),
        Field("expires_at", "expires at", FieldType.DATETIME, ("expires", "expiry", "expiration", "expires on")),
        Field("status", "status", FieldType.ENUM, ("state",), ACCESS_STATUSES),
        Field("details", "details", FieldType.JSON, ("detail", "scopes")),
        Field("external_id", "external id"),
    ],
    time_field="created_at",
    person_field="email",
    status_field="status",
    user_id_field="user_id",
    nouns=("grants", "consents", "authorizations", "grant logs"),
    examples=(
        "email is user@example.com and status is active",
        "active grants for user@example.com",
        "client is auth ui and the grant was created this month",
        "expired grants where provider is google",
        "details contains 'offline_access'",
    ),
)
