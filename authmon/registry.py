"""The log-kind registry: the one place that knows the six record kinds.

A kind is declared once (model, table, filterset, NLQ field map, trim policy and a few page facts) with
:func:`register`, from its app's ``AppConfig.ready``; the generic list/detail/export views, the URLs, the API, the
retention page, the nightly trim, the demo data and the tests all walk this registry. A new kind needs nothing else:
``tests/kindkit`` is one that lives only in the test tree.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from authmon.daterange import DEFAULT_PRESET

if TYPE_CHECKING:
    import django_filters
    import django_tables2 as tables
    from django.db import models
    from django.db.models import Q
    from django.http import HttpResponse

    from authmon.trim import TrimPolicy
    from nlq import FieldMap


def _default_trim() -> TrimPolicy:
    from authmon.trim import TrimPolicy

    return TrimPolicy()


@dataclass(frozen=True, eq=False)
class LogKind:
    """The whole contract of one record kind: everything the framework and the site need to know about it.

    The kind's name (API and URL name, DESIGN section 5), title and time field are its NLQ field map's, stated there
    once. Page hooks are typed fields: templates a page includes, views for per-record actions, callables the ingest
    calls. How the nightly trim removes the kind's old records is its ``trim`` policy; how long a tenant keeps them
    unless told otherwise is ``default_retention_days`` (0: forever). What its list shows when the URL names no date
    range and no question is ``default_preset`` plus ``default_filters``: history kinds show the last week, state
    kinds (sessions, grants) every active record, whatever its age (DESIGN section 6b).
    """

    model: type[models.Model]
    table: type[tables.Table]
    filterset: type[django_filters.FilterSet]
    field_map: FieldMap
    search_fields: tuple[str, ...]  # quick search: the guide's default field(s) for the page
    search_label: str  # placeholder text for quick search
    export_label: str  # e.g. "Export Login Events"
    menu_order: int = 100  # position in the menu and on every page that lists the kinds
    default_retention_days: int = 365
    default_preset: str = DEFAULT_PRESET  # a key of authmon.daterange.PRESETS
    # Filterset values the list applies while the URL has no preset, start, end or q and does not set that filter
    # itself, e.g. {"status": ("active",)}; shown as a "(default)" chip whose removal shows every value.
    default_filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    trim: TrimPolicy = field(default_factory=_default_trim)
    singular_label: str = ""  # "Audit log"; by default the title without its plural "s" and " Log"
    noun: str = "records"  # "No {noun} in the last 7 days."
    person_fields: tuple[str, ...] = ()  # fields that hold a user (e-mail or id): pivot to the user view
    client_fields: tuple[str, ...] = ()  # fields that hold an application: pivot to the client view
    # The rows the console writes itself (its sign-ins, its admins' actions), e.g. Q(client_actor=CONSOLE_CLIENT):
    # ``console=hide`` leaves them out of the list and its exports. None: the console writes none of this kind.
    # Best an equality on an indexed field, so hiding them costs the page no extra work.
    console_rows: Q | None = None
    upsert_key: str | None = None  # sessions/grants are upserted by their own id on ingest
    computed_fields: tuple[str, ...] = ()  # never accepted from clients (audit diff)
    restorable: bool = False  # sealed JSON exports of this kind can be restored (audit)
    detail_skip: tuple[str, ...] = ()  # fields the details page leaves to ``detail_template``
    detail_template: str | None = None  # included on the details page below the fields
    detail_actions_template: str | None = None  # buttons of the details page
    list_actions_template: str | None = None  # buttons above the list's rows
    # Per-record actions: URL ``<pk>/<action>/`` served by the view, called as view(request, kind=kind, pk=pk).
    record_actions: Mapping[str, Callable[..., HttpResponse]] = field(default_factory=dict)
    # Actions on a set of the list's records (bulk revocation): URL ``<action>/``, named ``<model>_bulk_<action>``,
    # served by the view, called as view(request, kind=kind).
    bulk_actions: Mapping[str, Callable[..., HttpResponse]] = field(default_factory=dict)
    # Called once per ingested batch that reported revoked rows as not revoked (authmon.ingest keeps them revoked),
    # in the batch's transaction, to audit it:
    # kept_revoked_audit(kind=, tenant=, rows=, records=, statuses=, actor=, token=) (token: the sender's ApiToken).
    kept_revoked_audit: Callable[..., Any] | None = None
    # Called after an API ingest batch of this kind created or updated rows: after_ingest(kind=, tenant=, since=)
    # (sessions, grants: revocations the identity service reported reach the revocation webhook).
    after_ingest: Callable[..., Any] | None = None
    # Makes the kind's demo records (console.demo): an authmon.world.DemoBuilder subclass, called with a tenant's
    # DemoTenant; kinds made together (a session with the login event that opens it) name the same builder.
    demo_builder: Callable[..., Any] | None = None

    @property
    def name(self) -> str:
        return self.field_map.kind

    @property
    def label(self) -> str:
        """Menu and page title, e.g. "Event Logs"."""
        return self.field_map.title

    @property
    def time_field(self) -> str:
        return self.field_map.time_field

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
        return self.singular_label or self.label.removesuffix("s").removesuffix(" Log")

    @property
    def data_fields(self) -> list[Any]:
        """Concrete record fields in declaration order, without id and tenant."""
        return [f for f in self.model._meta.concrete_fields if f.name not in {"id", "tenant"}]


_REGISTRY: dict[str, LogKind] = {}


class RegistryLockedError(RuntimeError):
    """A kind registered after start-up: URLs, the API and the menu were built from the registry already."""


def register(kind: LogKind) -> LogKind:
    """Register a record kind. Called once per kind from its app's ``AppConfig.ready``; refused once Django's
    app registry is ready, since the URLs, API routes and menus built from this registry would not know the kind."""
    from django.apps import apps

    if apps.ready:
        raise RegistryLockedError(f"Log kind {kind.name!r} registered after start-up; register it in AppConfig.ready.")
    if kind.name in _REGISTRY and _REGISTRY[kind.name].model is not kind.model:
        raise ValueError(f"Log kind {kind.name!r} is already registered.")
    _REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> LogKind:
    """The kind registered as ``name``; ``KeyError`` when there is none."""
    return _REGISTRY[name]


def kinds() -> Iterator[LogKind]:
    """All registered kinds, in menu order."""
    yield from sorted(_REGISTRY.values(), key=lambda k: (k.menu_order, k.name))


def for_model(model: type[models.Model]) -> LogKind:
    for kind in _REGISTRY.values():
        if kind.model is model:
            return kind
    raise KeyError(model)
