"""Every registered kind's field map matches its model: names, types and enum values."""

from __future__ import annotations

import pytest
from django.db import models

from authmon import registry
from nlq import FieldMap, FieldType

from .conftest import MAPS

_MODEL_TYPES: dict[FieldType, tuple[type[models.Field], ...]] = {  # type: ignore[type-arg]
    FieldType.TEXT: (models.CharField, models.TextField),
    FieldType.ENUM: (models.CharField,),
    FieldType.DATETIME: (models.DateTimeField,),
    FieldType.NUMBER: (models.IntegerField, models.FloatField, models.DecimalField),
    FieldType.IP: (models.GenericIPAddressField,),
    FieldType.JSON: (models.JSONField,),
}
#: Model fields a question cannot name, on purpose.
_NOT_ASKABLE = {"id", "tenant", "revoked_at"}


@pytest.mark.parametrize("name", list(MAPS))
def test_field_map_matches_the_model(name: str) -> None:
    kind = registry.get(name)
    fm = kind.field_map
    assert isinstance(fm, FieldMap)
    assert fm is MAPS[name]
    assert fm.time_field == kind.time_field
    model_fields = {f.name: f for f in kind.model._meta.concrete_fields}
    for f in fm.fields:
        model_field = model_fields[f.name]
        assert isinstance(model_field, _MODEL_TYPES[f.type]), f.name
        if f.type == FieldType.ENUM:
            assert {c.value for c in f.choices} == {value for value, _ in model_field.choices}, f.name
        else:
            assert not model_field.choices, f"{f.name} has choices: declare it as an enum"


@pytest.mark.parametrize("name", list(MAPS))
def test_every_column_can_be_asked_about(name: str) -> None:
    kind = registry.get(name)
    columns = {f.name for f in kind.model._meta.concrete_fields} - _NOT_ASKABLE
    assert columns == set(kind.field_map.field_names)
