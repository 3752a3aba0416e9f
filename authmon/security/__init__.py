"""Hardening of the console and the API: masking of secrets, safe log lines, login throttling, API rate limits and
security headers. Each module is small and configured from settings."""
