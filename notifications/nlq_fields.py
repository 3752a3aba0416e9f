"""NLQ field map of Notification Logs (notifications.NotificationLog). Importable without Django set up."""

from nlq import Choice, Field, FieldMap, FieldType, created_synonyms

NOTIFICATION_FIELDS = FieldMap(
    kind="notifications",
    title="Notification Logs",
    fields=[
        Field("subject", "subject", synonyms=("email subject", "subject line", "title")),
        Field("recipient", "recipient", synonyms=("to", "email", "user", "recipient email", "sent to")),
        Field("cc", "cc", synonyms=("carbon copy",)),
        Field("bcc", "bcc", synonyms=("blind copy", "blind carbon copy")),
        Field(
            "timestamp",
            "timestamp",
            FieldType.DATETIME,
            (
                "sent at",
                "sent on",
                "created",
                "created at",
                "was sent",
                "email was sent",
                *created_synonyms("email", "notification"),
            ),
        ),
        Field(
            "status",
            "status",
            FieldType.ENUM,
            ("state", "delivery status"),
            (
                Choice("pending", synonyms=("queued",)),
                Choice("sent", synonyms=("delivered",)),
                Choice("failed", synonyms=("failure", "failures")),
                Choice("bounced", synonyms=("bounce", "bounces")),
            ),
        ),
        Field(
            "category",
            "category",
            FieldType.ENUM,
            ("type", "kind", "email type"),
            (
                Choice("invitation", synonyms=("invite", "invitations", "invites")),
                Choice("password_reset", "password reset", ("password resets",)),
                Choice("mfa_enrollment", "mfa enrollment", ("mfa enrolment", "mfa setup")),
                Choice("access_request", "access request", ("access requests",)),
                Choice("alert", synonyms=("alerts",)),
                Choice("system", synonyms=("system notification",)),
                Choice("welcome"),
            ),
        ),
        Field("body", "body", synonyms=("content", "text", "email body", "message", "details")),
        Field("external_id", "external id"),
    ],
    time_field="timestamp",
    person_field="recipient",
    status_field="status",
    nouns=("notifications", "notification", "emails", "mails", "messages", "notification logs"),
    examples=(
        "the email subject contains 'totp reset' and the timestamp is from yesterday",
        "recipient is user@example.com and status is failed",
        "category is invitation and the log was created last week",
    ),
)
