"""The log-kind registry: the one place that knows the six record kinds.

A kind is declared once (model, table, filterset, NLQ field map and a few page facts) with :func:`register`; the
generic list/detail/export views, the URLs, the API and the tests all walk this registry. A new kind needs nothing
else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    import django_filters
    import django_tables2 as tables
    from django.db import models

    from nlq import FieldMap


@dataclass(frozen=True, eq=False)
class LogKind:
    """Everything the generic machinery needs to know about one record kind."""

    name: str  # API and URL name (DESIGN section 5): audit, events, jobs, notifications, sessions, grants
    model: type[models.Model]
    label: str  # menu and page title, e.g. "Event Logs"
    table: type[tables.Table]
    filterset: type[django_filters.FilterSet]
    field_map_path: str  # dotted path of the kind's NLQ FieldMap (kept importable without Django)
    time_field: str
    search_fields: tuple[str, ...]  # quick search: the guide's default field(s) for the page
    search_label: str  # placeholder text for quick search
    export_label: str  # e.g. "Export Login Events"
    person_fields: tuple[str, ...] = ()  # fields that hold a user (e-mail or id): pivot to the user view
    client_fields: tuple[str, ...] = ()  # fields that hold an application: pivot to the client view
    upsert_key: str | None = None  # sessions/grants are upserted by their own id on ingest
    computed_fields: tuple[str, ...] = ()  # never accepted from clients (audit diff)
    restorable: bool = False  # sealed JSON exports of this kind can be restored (audit)
    noun: str = "records"  # "No {noun} in the last 7 days."
    # Called once per ingested batch that reported revoked rows as not revoked (authmon.ingest keeps them revoked),
    # in the batch's transaction, to audit it:
    # kept_revoked_audit(kind=, tenant=, rows=, records=, statuses=, actor=, token=) (token: the sender's ApiToken).
    kept_revoked_audit: Callable[..., Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def field_map(self) -> FieldMap:
        return _load(self.field_map_path)

    @property
    def model_name(self) -> str:
        return self.model._meta.model_name  # type: ignore[return-value]

    def url_name(self, view: str) -> str:
        return f"{self.name}:{self.model_name}_{view}"

    @property
    def list_url(self) -> str:
        from django.urls import reverse

        return reverse(self.url_name("list"))

    @property
    def export_url(self) -> str:
        from django.urls import reverse

        return reverse(self.url_name("export"))

    @property
    def columns_url(self) -> str:
        from django.urls import reverse

        return reverse(self.url_name("columns"))

    @property
    def singular(self) -> str:
        return self.extra.get("singular") or self.label.removesuffix("s").removesuffix(" Log")

    @property
    def data_fields(self) -> list[Any]:
        """Concrete record fields in declaration order, without id and tenant."""
        return [f for f in self.model._meta.concrete_fields if f.name not in {"id", "tenant"}]


@cache
def _load(path: str) -> Any:
    return import_string(path)


_REGISTRY: dict[str, LogKind] = {}


def register(kind: LogKind) -> LogKind:
    """Register a record kind. Called once per kind from its app's ``AppConfig.ready``."""
    if kind.name in _REGISTRY and _REGISTRY[kind.name].model is not kind.model:
        raise ValueError(f"Log kind {kind.name!r} is already registered.")
    _REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> LogKind:
    """The kind registered as ``name``; ``KeyError`` when there is none."""
    return _REGISTRY[name]


def kinds() -> Iterator[LogKind]:
    """All registered kinds, in menu order."""
    order = ["audit", "events", "jobs", "notifications", "sessions", "grants"]
    yield from sorted(_REGISTRY.values(), key=lambda k: order.index(k.name) if k.name in order else len(order))


def for_model(model: type[models.Model]) -> LogKind:
    for kind in _REGISTRY.values():
        if kind.model is model:
            return kind
    raise KeyError(model)
