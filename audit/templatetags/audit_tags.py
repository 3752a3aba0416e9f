"""Template helpers of the audit pages; permission questions still go to the one role table."""

from __future__ import annotations

from typing import Any

from django import template

from authmon.permissions import Perm, has_perm

register = template.Library()


@register.filter
def can_verify_chain(user: Any) -> bool:
    return has_perm(user, Perm.VERIFY, "audit")
