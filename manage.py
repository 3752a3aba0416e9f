#!/usr/bin/env python
"""Django's command-line utility for authmon."""

import os
import sys

# Commands that neither serve requests nor sign anything, so they may run on a developer's machine or in a build
# step (the Docker image's collectstatic) without SECRET_KEY (settings refuse the development key with DEBUG off for
# everything else).
OFFLINE_COMMANDS = {"makemigrations", "showmigrations", "sqlmigrate", "help", "collectstatic"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authmon.settings")
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command in OFFLINE_COMMANDS or (command == "check" and "--deploy" not in sys.argv):
        os.environ.setdefault("AUTHMON_ALLOW_DEV_SECRET", "1")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
