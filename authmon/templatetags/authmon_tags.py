"""Template helpers: links that keep or drop URL parameters, and the readable audit diff."""

from __future__ import annotations

import json
from typing import Any

from django import template
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def url_without(context: dict[str, Any], *keys: str) -> str:
    """The current URL without ``keys`` (and without the page cursor, which a changed filter invalidates)."""
    request: HttpRequest = context["request"]
    params = request.GET.copy()
    for key in (*keys, "cursor"):
        params.pop(key, None)
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


@register.simple_tag(takes_context=True)
def chip_remove_url(context: dict[str, Any], chip: Any) -> str:
    """The current URL without what ``chip`` (an authmon.selectors.Chip) stands for, and without the page cursor: its
    keys dropped, or with ``remove_value`` only that value of its key (one excluded value of several); for a kind's
    default filter, the default range named explicitly, which turns the default off."""
    request: HttpRequest = context["request"]
    params = request.GET.copy()
    if chip.remove_value:
        key = chip.remove_params[0]
        params.setlist(key, [v for v in params.getlist(key) if v != chip.remove_value])
    else:
        for key in chip.remove_params:
            params.pop(key, None)
    params.pop("cursor", None)
    for key, value in chip.set_params.items():
        params[key] = value
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


@register.simple_tag(takes_context=True)
def url_with(context: dict[str, Any], **changes: Any) -> str:
    """The current URL with ``changes`` applied; a value of ``None`` removes the key."""
    request: HttpRequest = context["request"]
    params = request.GET.copy()
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    query = params.urlencode()
    return f"{request.path}?{query}" if query else request.path


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


@register.filter
def jsontext(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _diff_items(diff: dict[str, Any]) -> SafeString:
    rows = []
    for key, value in diff.items():
        if key.endswith("__added"):
            rows.append(
                format_html(
                    '<li class="diff-added"><span class="diff-sign" aria-hidden="true">+</span> '
                    '<span class="visually-hidden">added </span><strong>{}</strong>: <code>{}</code></li>',
                    key.removesuffix("__added"),
                    _scalar(value),
                )
            )
        elif key.endswith("__deleted"):
            rows.append(
                format_html(
                    '<li class="diff-deleted"><span class="diff-sign" aria-hidden="true">&minus;</span> '
                    '<span class="visually-hidden">deleted </span><strong>{}</strong>: <code>{}</code></li>',
                    key.removesuffix("__deleted"),
                    _scalar(value),
                )
            )
        elif isinstance(value, dict) and set(value) == {"_old", "_new"}:
            rows.append(
                format_html(
                    '<li class="diff-changed"><span class="diff-sign" aria-hidden="true">~</span> '
                    '<span class="visually-hidden">changed </span><strong>{}</strong>: '
                    '<code class="diff-old">{}</code> <span aria-label="changed to">&rarr;</span> '
                    '<code class="diff-new">{}</code></li>',
                    key,
                    _scalar(value["_old"]),
                    _scalar(value["_new"]),
                )
            )
        elif isinstance(value, dict):
            rows.append(format_html("<li><strong>{}</strong>{}</li>", key, render_diff(value)))
        else:
            rows.append(format_html("<li><strong>{}</strong>: <code>{}</code></li>", key, _scalar(value)))
    return format_html_join("", "{}", ((r,) for r in rows))


@register.filter
def render_diff(diff: Any) -> SafeString:
    """DESIGN's diff notation as a nested list: added green, deleted red, changed old → new."""
    if not diff:
        return mark_safe('<p class="text-body-secondary mb-0">No differences.</p>')
    if not isinstance(diff, dict):
        return format_html("<code>{}</code>", _scalar(diff))
    if set(diff) == {"_old", "_new"}:
        return _diff_items({"(entity)": diff})
    return format_html('<ul class="diff-tree">{}</ul>', _diff_items(diff))


@register.filter
def caret(position: Any) -> str:
    """A caret under the character at ``position`` (for showing where a question failed)."""
    try:
        return " " * max(0, int(position)) + "^"
    except (TypeError, ValueError):
        return ""
