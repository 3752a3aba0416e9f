"""record_url builds the same links as reverse(), under any script prefix."""

from __future__ import annotations

import pytest
from django.urls import clear_script_prefix, reverse, set_script_prefix

from authmon import registry
from authmon.tables import record_url


@pytest.mark.parametrize("kind_name", [k.name for k in registry.kinds()])
@pytest.mark.parametrize("prefix", ["/", "/authmon/"])
def test_record_url_matches_reverse(kind_name, prefix):
    kind = registry.get(kind_name)
    set_script_prefix(prefix)
    try:
        for pk in (1, 42, 918273645, 10**12):
            assert record_url(kind.url_name("detail"), pk) == reverse(kind.url_name("detail"), args=[pk])
        assert record_url(kind.url_name("detail"), 7).startswith(prefix)
    finally:
        clear_script_prefix()
