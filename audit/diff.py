"""The audit diff of DESIGN section 5, built on jsondiff's symmetric syntax.

Objects recurse; anything else that differs (strings, numbers, lists, a change of type) is replaced whole as
``{"_old": ..., "_new": ...}``. A key only in the old entity becomes ``key__deleted``, only in the new one
``key__added``.
"""

from __future__ import annotations

from typing import Any

import jsondiff


def compute_diff(old: Any, new: Any) -> dict[str, Any]:
    """Diff two entity snapshots. ``None`` stands for "no entity" (a create or a delete)."""
    old_obj = old if isinstance(old, dict) else {}
    new_obj = new if isinstance(new, dict) else {}
    if (old is not None and not isinstance(old, dict)) or (new is not None and not isinstance(new, dict)):
        return {} if old == new else {"_old": old, "_new": new}
    return _diff_objects(old_obj, new_obj)


def _diff_objects(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    raw = jsondiff.diff(old, new, syntax="symmetric", marshal=True)
    changed = set(raw) if isinstance(raw, dict) else set(old)
    result: dict[str, Any] = {}
    for key in old:
        if key not in new:
            result[f"{key}__deleted"] = old[key]
    for key in new:
        if key not in old:
            result[f"{key}__added"] = new[key]
    for key, value in old.items():
        if key not in new or (key not in changed and _same(value, new[key])):
            continue
        if isinstance(value, dict) and isinstance(new[key], dict):
            nested = _diff_objects(value, new[key])
            if nested:
                result[key] = nested
        elif not _same(value, new[key]):
            result[key] = {"_old": value, "_new": new[key]}
    return result


def _same(a: Any, b: Any) -> bool:
    # 1 == True and 1 == 1.0 in Python; in JSON they are different values.
    return type(a) is type(b) and a == b
