"""What the application writes to its own logs stays on one line and holds no secrets."""

from __future__ import annotations

import io
import logging

from authmon.security.logs import SafeLogFilter, clean_line


def test_cr_lf_are_escaped():
    assert clean_line("Not Found: /x\r\n2026-01-01 INFO forged") == "Not Found: /x\\r\\n2026-01-01 INFO forged"


def test_secret_pairs_are_masked():
    assert clean_line("GET /cb?code=1&client_secret=abc&x=2") == "GET /cb?code=1&client_secret=***&x=2"
    assert clean_line("password: hunter2, user: bob") == "password: ***, user: bob"
    assert clean_line("Authorization=Bearer eyJabc") == "Authorization=***"
    assert clean_line("token_lifetime is 3600") == "token_lifetime is 3600"


def test_the_console_handler_filters_every_record():
    handler = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    assert any(isinstance(f, SafeLogFilter) for f in handler.filters)
    stream = io.StringIO()
    probe = logging.StreamHandler(stream)
    for f in handler.filters:
        probe.addFilter(f)
    log = logging.getLogger("authmon.test.logs")
    log.addHandler(probe)
    try:
        log.warning("Failed sign-in for %s", "eve@x.example\nINFO admin signed in password=hunter2")
        log.warning("bad %s %s", "only-one")  # a malformed call is still written
    finally:
        log.removeHandler(probe)
    lines = stream.getvalue().splitlines()
    assert lines[0] == "Failed sign-in for eve@x.example\\nINFO admin signed in password=***"
    assert len(lines) == 2
