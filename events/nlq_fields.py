"""NLQ field map of Event Logs (events.EventLog). Importable without Django set up."""

from nlq import Choice, Field, FieldMap, FieldType, Op, Shorthand, created_synonyms

EVENT_TYPES = (
    Choice("login", "login", ("sign in", "signin")),
    Choice("login_failed", "login failed", ("failed login", "login failure", "failed sign in")),
    Choice("logout", "logout", ("log out", "sign out", "signout")),
    Choice("mfa_verified", "mfa verified", ("mfa success", "mfa passed")),
    Choice("mfa_failed", "mfa failed", ("failed mfa", "mfa failure", "mfa failures")),
    Choice("password_reset", "password reset", ("reset password",)),
    Choice("account_locked", "account locked", ("lockout", "locked account", "locked out")),
    Choice("session_created", "session created", ("new session",)),
    Choice("token_refreshed", "token refreshed", ("token refresh",)),
)

EVENT_FIELDS = FieldMap(
    kind="events",
    title="Event Logs",
    fields=[
        Field("event_type", "event type", FieldType.ENUM, ("type", "event kind"), EVENT_TYPES),
        Field("client_name", "client name", synonyms=("client", "application", "app", "application name")),
        Field("provider_name", "provider name", synonyms=("provider", "identity provider", "idp")),
        Field("email", "email", synonyms=("user", "e-mail", "user email", "email address", "mail")),
        Field("username", "username", synonyms=("login name",)),
        Field("ip_address", "ip address", FieldType.IP, ("ip", "source ip", "ip addr", "address")),
        Field("user_agent", "user agent", synonyms=("agent", "browser", "device")),
        Field(
            "created_on",
            "created on",
            FieldType.DATETIME,
            ("created", "created at", "occurred", "happened", *created_synonyms("event")),
        ),
        Field("details", "details", FieldType.JSON, ("detail", "context", "data")),
        Field("external_id", "external id"),
    ],
    time_field="created_on",
    person_field="email",
    ip_field="ip_address",
    shorthands=[
        Shorthand(
            ("failed logins", "failed login attempts", "login failures", "failed sign ins"),
            "event_type",
            Op.EQ,
            "login_failed",
        ),
        Shorthand(("logins", "successful logins", "successful login", "sign ins"), "event_type", Op.EQ, "login"),
        Shorthand(("logouts", "sign outs"), "event_type", Op.EQ, "logout"),
        Shorthand(("mfa", "mfa events", "mfa event"), "event_type", Op.STARTSWITH, "mfa_"),
        Shorthand(("lockouts", "account lockouts", "locked accounts"), "event_type", Op.EQ, "account_locked"),
        Shorthand(("password resets",), "event_type", Op.EQ, "password_reset"),
        Shorthand(("token refreshes",), "event_type", Op.EQ, "token_refreshed"),
        Shorthand(("new sessions", "sessions created"), "event_type", Op.EQ, "session_created"),
        Shorthand(("failed", "failures", "failed events"), "event_type", Op.IN, ("login_failed", "mfa_failed")),
    ],
    nouns=("event logs", "authentication events", "auth events", "attempts"),
    examples=(
        "the event type is login and the log was created in the last 7 days",
        "client is auth ui and the log was created one week ago",
        "show failed logins from IP 192.168.1.1",
        "mfa events for user@example.com yesterday",
        "login events where provider is google",
        "provider name is google and email contains @example.com",
        "event type is login and created on is from last week and email is user@example.com",
    ),
)
