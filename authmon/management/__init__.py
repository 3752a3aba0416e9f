"""Helpers shared by authmon's management commands."""

from __future__ import annotations

import getpass

from django.core.exceptions import ValidationError

CLI_CLIENT = "manage.py"


def cli_actor() -> str:
    """Who ran the command, for the audit record: the operating-system account, as ``cli:<name>``."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (some containers)
        name = "unknown"
    return f"cli:{name}"


def validation_message(error: ValidationError) -> str:
    """One line that says what to fix, from a model's ``full_clean`` error."""
    if hasattr(error, "error_dict"):
        parts = []
        for name, errors in error.message_dict.items():
            text = " ".join(errors)
            parts.append(text if name == "__all__" else f"{name}: {text}")
        return "; ".join(parts)
    return " ".join(error.messages)
