"""The cell plan: how each cell of a table is made, worked out once per table and shared by the page and CSV exports.

django-tables2 makes a cell through ``BoundRow``: it resolves the column's accessor on the record (a choice field
through ``get_FOO_display()``), gives the column's default (page) or None (export) for a value in the column's
``empty_values``, and otherwise calls ``BoundColumn.render`` (page) or ``BoundColumn.value`` (export; the table's
``value_<name>``, else ``render_<name>``, else the column's ``value()``) with the arguments its signature names.
It works all of that out again for every cell, about 1 ms a row: too slow for a page of 50 rows on every request,
and far too slow for an export of millions of rows.

:class:`CellPlan` makes each decision that depends only on the column once: where the value comes from (a field of
the row, its choice label, or the record), which values are empty, and which function gives the cell with which
arguments. The same decisions then give a page's cells from model instances (:meth:`CellPlan.html`) and an export's
cells from rows read as tuples (:meth:`CellPlan.values`, building a model instance only when a column asks for one),
so a page and its CSV read every column the same way. A column the plan does not model (a ``bound_row`` or
``**kwargs`` argument, a dotted accessor, a link, many-to-many) is made by django-tables2's public
``BoundRow.get_cell``/``get_cell_value``. Tests hold the page and the CSV to django-tables2's own output for every kind.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partialmethod
from typing import Any

import django_tables2 as tables
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import Model, signals
from django.db.models.base import ModelState
from django.template import Context
from django.template.base import render_value_in_context
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django_tables2.columns import ManyToManyColumn
from django_tables2.columns.linkcolumn import BaseLinkColumn
from django_tables2.rows import BoundRow
from django_tables2.utils import Accessor, signature

# What django-tables2 may pass a cell function by name that a plan can pass too (``bound_row`` needs a real row).
_ARGUMENTS = frozenset({"value", "record", "column", "bound_column", "table"})
_MISSING = object()

Call = Callable[[Any, Any], Any]  # (value, record) -> a cell's content


class CellPlan:
    """The cells of ``names`` (default: the visible columns) of ``table``, whose records are ``model`` instances.

    A row, for :meth:`values`, is the values of the model's concrete fields (``fields``) in order, as
    ``values_list(*plan.fields)`` reads them; it may carry more values after those.
    """

    def __init__(self, table: tables.Table, names: Sequence[str] | None = None, *, model: type[Model] | None = None):
        self.table = table
        self.model: type[Model] = model or table._meta.model
        self.fields = tuple(f.attname for f in self.model._meta.concrete_fields)
        columns = table.columns if names is None else [table.columns[name] for name in names]
        self.cells = [Cell(table, column, self.model, self.fields) for column in columns]
        self._init_listeners = signals.pre_init.has_listeners(self.model) or signals.post_init.has_listeners(self.model)

    @cached_property
    def _html(self) -> list[Callable[[Any], str]]:
        return [cell.html for cell in self.cells]

    @cached_property
    def _values(self) -> list[Callable[[tuple[Any, ...], Any], Any]]:
        return [cell.value for cell in self.cells]

    @cached_property
    def needs_record(self) -> bool:
        """Whether some export value reads the model instance rather than the row alone."""
        return any(cell.value_needs_record for cell in self.cells)

    def html(self, record: Any) -> list[str]:
        """The escaped HTML of each cell of ``record``, as django-tables2's templates render ``{{ cell }}``."""
        return [html(record) for html in self._html]

    def values(self, row: tuple[Any, ...], db: str) -> list[Any]:
        """The export value of each cell of ``row`` (read from database ``db``), as ``BoundRow.get_cell_value``."""
        record = self.record(row, db) if self.needs_record else None
        return [value(row, record) for value in self._values]

    def record(self, row: tuple[Any, ...], db: str) -> Model:
        """The model instance of a row, as ``Model.from_db`` would build it from all concrete fields.

        Without a listener for the model's init signals, ``Model.__init__`` would only store each field's value
        under its attname; that is done here directly, at a fifth of the cost.
        """
        model = self.model
        if self._init_listeners:
            return model.from_db(db, self.fields, row[: len(self.fields)])
        record = model.__new__(model)
        record.__dict__.update(zip(self.fields, row, strict=False))
        record._state = ModelState()
        record._state.adding, record._state.db = False, db
        return record


class Cell:
    """One column's cells: ``html(record)`` for the page, ``value(row, record)`` for an export, from one source.

    Where the value comes from is decided once for both; each half is worked out when first used (reading a
    function's signature is most of the cost of a plan, and a page never needs the export half, nor an export the
    page half).
    """

    def __init__(self, table: tables.Table, bound_column: Any, model: type[Model], fields: tuple[str, ...]):
        self.table, self.bound_column, self.name = table, bound_column, bound_column.name
        self.source = _source(bound_column, model, fields)
        self.empty = tuple(bound_column.column.empty_values)

    @cached_property
    def html(self) -> Callable[[Any], str]:
        """record -> the cell's escaped HTML."""
        table, bound_column, name, source, empty = self.table, self.bound_column, self.name, self.source, self.empty
        context = Context(autoescape=True)
        if bound_column.column.localize is not None:

            def localized(record: Any) -> str:
                # django-tables2's templates localize such a cell around ``{{ cell }}``; the console's rows do not.
                raise ImproperlyConfigured(f"Column {name!r} sets localize, which the console's rows do not apply.")

            return localized
        render = None if source is None or bound_column.link else _caller(table, bound_column, bound_column.render)
        if source is None or render is None:
            return lambda record: render_value_in_context(BoundRow(record, table=table).get_cell(name), context)
        call, from_record = render.call, source.from_record
        if not empty and not render.wants_value:  # the value would be neither tested nor passed: not read at all
            return lambda record: render_value_in_context(call(None, record), context)
        default = render_value_in_context(bound_column.default, context)

        def html(record: Any) -> str:
            value = from_record(record)
            return default if value in empty else render_value_in_context(call(value, record), context)

        return html

    @cached_property
    def _export(self) -> tuple[Callable[[tuple[Any, ...], Any], Any], bool]:
        table, bound_column, name, source, empty = self.table, self.bound_column, self.name, self.source, self.empty
        export = None if source is None else _caller(table, bound_column, _value_function(bound_column))
        if source is None or export is None:
            return (lambda row, record: BoundRow(record, table=table).get_cell_value(name)), True
        call, from_row = export.call, source.from_row
        if not empty and not export.wants_value:
            return (lambda row, record: call(None, record)), export.wants_record

        def value(row: tuple[Any, ...], record: Any) -> Any:
            found = from_row(row, record)
            return None if found in empty else call(found, record)

        return value, source.needs_record or export.wants_record

    @property
    def value(self) -> Callable[[tuple[Any, ...], Any], Any]:
        """(row, record) -> the cell's export value; ``record`` is None unless ``value_needs_record``."""
        return self._export[0]

    @property
    def value_needs_record(self) -> bool:
        return self._export[1]


@dataclass(frozen=True)
class _Source:
    """Where a column's value comes from: read from a record, or from a row (and the record, if ``needs_record``)."""

    from_record: Callable[[Any], Any]
    from_row: Callable[[tuple[Any, ...], Any], Any]
    needs_record: bool


def _source(bound_column: Any, model: type[Model], fields: tuple[str, ...]) -> _Source | None:
    """Where ``BoundRow`` would read the column's value; None for a column only ``BoundRow`` can read."""
    column, accessor = bound_column.column, Accessor(bound_column.accessor)
    if len(accessor.bits) != 1 or isinstance(column, (BaseLinkColumn, ManyToManyColumn)):
        return None
    name = accessor.bits[0]
    field: Any
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        field = None
    if getattr(field, "choices", None) and getattr(model, f"get_{name}_display", None) is not None:
        labels = _plain_labels(model, field)
        if labels is None:  # a customised label: only the record can give it
            display = f"get_{name}_display"

            def from_record(record: Any) -> Any:
                return getattr(record, display)()

            return _Source(from_record, lambda row, record: from_record(record), needs_record=True)
        return _field_source(field.attname, fields, lambda value: _label(labels, value))
    if field is not None and getattr(field, "concrete", False) and not field.is_relation:
        return _field_source(field.attname, fields, None)

    if hasattr(model, "__getitem__"):

        def resolve(record: Any) -> Any:
            return accessor.resolve(record, quiet=True)  # None when it cannot be resolved, as BoundRow leaves it

    else:

        def resolve(record: Any) -> Any:
            # Accessor.resolve tries record[name] first, which a model without __getitem__ refuses, at the cost of
            # an exception per cell; a plain attribute is what it would find next.
            value = getattr(record, name, _MISSING)
            return accessor.resolve(record, quiet=True) if value is _MISSING or callable(value) else value

    return _Source(resolve, lambda row, record: resolve(record), needs_record=True)


def _field_source(attname: str, fields: tuple[str, ...], convert: Callable[[Any], Any] | None) -> _Source:
    position = fields.index(attname)
    if convert is None:
        return _Source(lambda record: getattr(record, attname), lambda row, record: row[position], needs_record=False)
    return _Source(
        lambda record: convert(getattr(record, attname)),
        lambda row, record: convert(row[position]),
        needs_record=False,
    )


def _plain_labels(model: type[Model], field: Any) -> dict[Any, Any] | None:
    """The choice labels of ``field`` by value, when the model shows them the standard way; None otherwise."""
    display = inspect.getattr_static(model, f"get_{field.name}_display", None)
    if not isinstance(display, partialmethod) or model._get_FIELD_display is not Model._get_FIELD_display:
        return None
    return {make_hashable(value): force_str(label, strings_only=True) for value, label in field.flatchoices}


def _label(labels: dict[Any, Any], value: Any) -> Any:
    """``Model._get_FIELD_display`` for a value, without building the choices dictionary each time."""
    try:
        found = labels.get(value, _MISSING)
    except TypeError:  # an unhashable value: looked up as Django does
        found = labels.get(make_hashable(value), _MISSING)
    return force_str(value, strings_only=True) if found is _MISSING else found


def _value_function(bound_column: Any) -> Callable[..., Any]:
    function = bound_column.value
    if getattr(function, "__func__", None) is tables.Column.value:
        return bound_column.column.render  # Column.value() is the column's render() with the same arguments
    return function


@dataclass(frozen=True)
class _Call:
    """A cell function as ``call(value, record)``, and which of the two it reads."""

    call: Call
    wants_value: bool
    wants_record: bool


def _caller(table: tables.Table, bound_column: Any, function: Callable[..., Any]) -> _Call | None:
    """``function`` called with the arguments it names, as django-tables2's ``call_with_appropriate`` calls it; None
    when only a ``BoundRow`` can call it (it asks for ``bound_row`` or takes any keyword)."""
    arguments, catch_all = signature(function)
    if catch_all or "bound_row" in arguments:
        return None
    if not set(arguments) <= _ARGUMENTS:
        # django-tables2 does not call a function asking for an argument it cannot give: the cell is None.
        return _Call(lambda value, record: None, wants_value=False, wants_record=False)
    given = {"column": bound_column.column, "bound_column": bound_column, "table": table}
    fixed = {key: given[key] for key in arguments if key in given}
    wants_value, wants_record = "value" in arguments, "record" in arguments
    if wants_value and wants_record:

        def call(value: Any, record: Any) -> Any:
            return function(value=value, record=record, **fixed)

    elif wants_value:

        def call(value: Any, record: Any) -> Any:
            return function(value=value, **fixed)

    elif wants_record:

        def call(value: Any, record: Any) -> Any:
            return function(record=record, **fixed)

    else:

        def call(value: Any, record: Any) -> Any:
            return function(**fixed)

    return _Call(call, wants_value, wants_record)
