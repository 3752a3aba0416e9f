"""Forms of the insights pages. They only read input; the services validate and write."""

from __future__ import annotations

from typing import Any

from django import forms

from insights import detections
from insights.models import Detection, ReviewCadence


class StyledForm(forms.Form):
    """Gives every widget its Bootstrap class, so templates render fields without per-field markup."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style()

    def style(self) -> None:
        for bound in self.fields.values():
            widget = bound.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs.setdefault("class", css)


class AlertRuleForm(StyledForm):
    detection = forms.ChoiceField(choices=Detection.choices)
    recipients = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="E-mail addresses, separated by commas or new lines.",
    )
    webhook_url = forms.CharField(
        required=False,
        max_length=500,
        label="Webhook URL",
        help_text=(
            "Optional. Receives a JSON POST signed with HMAC-SHA256 (header X-Authmon-Signature). A public http(s) "
            "address; redirects are not followed."
        ),
    )
    cooldown_minutes = forms.IntegerField(
        min_value=5,
        max_value=60 * 24 * 30,
        initial=60,
        label="Cooldown (minutes)",
        help_text="One alert per finding within this time; a finding alerts again only with new evidence.",
    )
    enabled = forms.BooleanField(required=False, initial=True)


class ThresholdsForm(StyledForm):
    """One checkbox per detection (on or off) and one field per threshold, named ``<detection>__<param>``."""

    def __init__(self, *args: Any, current: dict[str, tuple[bool, dict[str, int]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.groups: list[tuple[detections.DetectionSpec, list[str]]] = []
        for spec in detections.detections():
            enabled, values = current[spec.name]
            names = [f"{spec.name}__enabled"]
            self.fields[names[0]] = forms.BooleanField(required=False, initial=enabled, label="On")
            for param in spec.params:
                name = f"{spec.name}__{param.name}"
                if param.boolean:
                    self.fields[name] = forms.BooleanField(
                        required=False, initial=bool(values[param.name]), label=param.label
                    )
                else:
                    self.fields[name] = forms.IntegerField(
                        min_value=param.minimum,
                        max_value=param.maximum,
                        initial=values[param.name],
                        label=param.label,
                        help_text=f"Default {param.default}",
                    )
                names.append(name)
            self.groups.append((spec, names))
        self.style()

    def grouped(self) -> list[tuple[detections.DetectionSpec, list[forms.BoundField]]]:
        return [(spec, [self[name] for name in names]) for spec, names in self.groups]

    def values_for(self, spec: detections.DetectionSpec) -> tuple[bool, dict[str, int]]:
        data = self.cleaned_data
        thresholds = {p.name: int(data[f"{spec.name}__{p.name}"] or 0) for p in spec.params}
        return bool(data[f"{spec.name}__enabled"]), thresholds


class ReviewNoteForm(StyledForm):
    cadence = forms.ChoiceField(choices=ReviewCadence.choices, widget=forms.HiddenInput)
    note = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you reviewed, what you found, what you did about it.",
    )
