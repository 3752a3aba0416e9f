"""Two layers, never mixed (STYLE.md, "Where the house should go next").

The framework (``authmon/``) never imports a kind app or the site (``console/``); the kind apps, the insights app
and the query language never import the site. Every import is read from the source (also those inside functions),
so a lazy import cannot slip past.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KIND_APPS = {"audit", "events", "jobs", "notifications", "sessions_grants", "insights"}
SITE = {"console"}
RULES = {  # package -> the top-level packages it must never import
    "authmon": KIND_APPS | SITE,
    **{app: SITE for app in KIND_APPS},
    "nlq": KIND_APPS | SITE | {"authmon"},
}


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in the file: ``import a.b``, ``from a.b import c``; relative ones skipped."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
    return found


def sources(package: str) -> list[Path]:
    return [p for p in sorted((ROOT / package).rglob("*.py")) if "migrations" not in p.parts]


@pytest.mark.parametrize("package", sorted(RULES))
def test_no_layer_reaches_up(package):
    forbidden = RULES[package]
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sources(package)
        for line, module in imported(path)
        if module.split(".")[0] in forbidden
    ]
    assert sources(package), f"{package} has no sources: the walk reads the wrong tree"
    assert not offences, "\n".join(offences)


def test_the_walk_sees_a_lazy_import(tmp_path):
    """A positive control: an import inside a function is found like one at the top."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from audit.services import audit_record\n    return audit_record\n")
    assert imported(module) == [(2, "audit.services")]
