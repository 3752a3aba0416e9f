"""``manage.py load_demo_data [--tenants N] [--rows N] [--seed S] [--reset]``: demo tenants, records and logins.

The work is done by :func:`console.demo.demo_data_load`; this command parses options, shows progress on stderr and
prints a summary and the demo console logins (a table: e-mail, password, role, tenant) on stdout.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.demo import (
    DEFAULT_ROWS,
    DEFAULT_SEED,
    DEFAULT_TENANTS,
    MIN_ROWS_PER_TENANT,
    DemoDataError,
    DemoLogin,
    DemoProgress,
    demo_data_load,
)


class Command(BaseCommand):
    help = (
        "Load realistic demo data: tenants, 30 days of records of every kind, and console users with known "
        "passwords (printed at the end). A demo tenant that already holds records is skipped unless --reset is "
        "given, which deletes its records and loads them anew; demo users always get their known passwords back."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tenants", type=int, default=DEFAULT_TENANTS, help=f"Number of demo tenants (default {DEFAULT_TENANTS})."
        )
        parser.add_argument(
            "--rows",
            type=int,
            default=DEFAULT_ROWS,
            help=f"Total records across tenants and kinds (default {DEFAULT_ROWS:,}; at least "
            f"{MIN_ROWS_PER_TENANT:,} per tenant).",
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Random seed: same seed, same data (default {DEFAULT_SEED}).",
        )
        parser.add_argument(
            "--reset", action="store_true", help="Delete the demo tenants' existing records first, then load."
        )

    def handle(self, *args: Any, tenants: int, rows: int, seed: int, reset: bool, **options: Any) -> None:
        verbosity = options["verbosity"]
        self.last_percent = -1
        try:
            result = demo_data_load(
                tenants=tenants,
                rows=rows,
                seed=seed,
                reset=reset,
                progress=self.show_progress if verbosity >= 1 else None,
            )
        except DemoDataError as exc:
            raise CommandError(str(exc)) from None
        for slug in result.skipped:
            self.stdout.write(f"Tenant {slug} already has records: left as it is (use --reset to reload it).")
        if result.loaded:
            per_tenant = ", ".join(f"{slug}: {sum(counts.values()):,}" for slug, counts in result.loaded.items())
            self.stdout.write(
                self.style.SUCCESS(f"Loaded {result.total:,} records in {result.seconds:.1f} s ({per_tenant}).")
            )
        self.stdout.write("")
        self.stdout.write(
            "The super admin stands for the operator running authmon (it can switch to every tenant); a customer's "
            "own admins, its first one included, are tenant_admin."
        )
        self.stdout.write("Demo console logins:")
        self.write_logins(result.logins)

    def show_progress(self, progress: DemoProgress) -> None:
        """One line per batch on stderr: overall percentage, tenant, kind and rows of the kind so far."""
        if progress.percent == self.last_percent and progress.done != progress.kind_total:
            return
        self.last_percent = progress.percent
        self.stderr.write(
            f"[{progress.percent:3d}%] {progress.tenant}: {progress.kind} {progress.done:,}/{progress.kind_total:,}"
        )

    def write_logins(self, logins: list[DemoLogin]) -> None:
        header = ("E-MAIL", "PASSWORD", "ROLE", "TENANT")
        table = [header, *((login.email, login.password, login.role, login.tenant) for login in logins)]
        widths = [max(len(row[column]) for row in table) for column in range(len(header))]
        for row in table:
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
