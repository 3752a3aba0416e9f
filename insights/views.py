"""Insights, alert rules, detection thresholds and the review page. Views only read input and call services."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from authmon import registry
from authmon.daterange import DEFAULT_PRESET, PRESETS, DateRange, DateRangeError, custom_range, preset_range
from authmon.models import Tenant
from authmon.permissions import Perm, has_perm
from authmon.tenancy import active_tenant_for
from insights import alerts, services
from insights.forms import AlertRuleForm, ReviewNoteForm, ThresholdsForm
from insights.models import AlertRule, ReviewCadence, ReviewNote
from insights.selectors import insights_charts, review_sections


def _tenant(request: HttpRequest, perm: Perm = Perm.VIEW) -> Tenant:
    if not has_perm(request.user, perm):
        raise PermissionDenied
    tenant = active_tenant_for(request.user)
    if tenant is None:
        raise Http404("No active tenant.")
    return tenant


def _period(request: HttpRequest, tenant: Tenant) -> tuple[DateRange, list[str]]:
    """The page's period from ``preset`` or ``start``/``end`` (the list pages' parameters); last 7 days by default."""
    now = timezone.now()
    period = preset_range(DEFAULT_PRESET, now=now, tz=tenant.tz)
    start, end = request.GET.get("start", "").strip(), request.GET.get("end", "").strip()
    preset = request.GET.get("preset", "").strip()
    try:
        if start or end:
            period = custom_range(start, end, tz=tenant.tz)
        elif preset:
            period = preset_range(preset, now=now, tz=tenant.tz)
    except DateRangeError as exc:
        return period, [f"{exc} Showing {period.label.lower()} instead."]
    return period, []


def insights_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    period, errors = _period(request, tenant)
    now = timezone.now()
    results = services.findings_evaluate(tenant=tenant, start=period.start, end=period.end, now=now)
    can_manage = has_perm(request.user, Perm.MANAGE_ALERTS)
    context: dict[str, Any] = {
        "period": period,
        "errors": errors,
        "presets": PRESETS,
        "params": request.GET,
        "results": results,
        "finding_count": sum(len(r.findings) for r in results),
        "quiet": [r for r in results if r.enabled and not r.findings],
        "charts": insights_charts(tenant, period, now=now),
        "can_manage": can_manage,
        "rules": AlertRule.objects.for_user(request.user) if can_manage else [],
    }
    return render(request, "insights/insights.html", context)


def _rule(request: HttpRequest, pk: int) -> AlertRule:
    rule = AlertRule.objects.for_user(request.user).filter(pk=pk).first()
    if rule is None:
        raise Http404("No such alert rule in this tenant.")
    return rule


def _form_errors(form: Any, exc: ValidationError) -> None:
    for name, problems in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, problems)


def rules_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request, Perm.MANAGE_ALERTS)
    form = AlertRuleForm(request.POST or None, initial={"detection": request.GET.get("detection", "")})
    if request.method == "POST" and form.is_valid():
        try:
            rule = alerts.alert_rule_create(tenant=tenant, actor=request.user.email, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Alert rule for “{rule.get_detection_display()}” created.")
            return HttpResponseRedirect(reverse("insights:rules"))
    context = {
        "form": form,
        "rules": AlertRule.objects.for_user(request.user),
        "jobs_url": f"{registry.get('jobs').list_url}?job_name={alerts.EVALUATION_JOB_NAME}&preset=last7",
        "lookback": _duration(alerts.lookback()),
    }
    return render(request, "insights/rules.html", context, status=400 if form.errors else 200)


def _duration(span: Any) -> str:
    hours = int(span.total_seconds() // 3600)
    return f"{hours // 24} days" if hours % 24 == 0 else f"{hours} hours"


def rule_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    _tenant(request, Perm.MANAGE_ALERTS)
    rule = _rule(request, pk)
    initial = {
        "detection": rule.detection,
        "recipients": "\n".join(rule.recipient_list),
        "webhook_url": rule.webhook_url,
        "cooldown_minutes": rule.cooldown_minutes,
        "enabled": rule.enabled,
    }
    form = AlertRuleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            alerts.alert_rule_update(rule=rule, actor=request.user.email, **form.cleaned_data)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, "Alert rule saved.")
            return HttpResponseRedirect(reverse("insights:rules"))
    context = {"form": form, "rule": rule, "marks": rule.marks.order_by("-last_alerted_at")[:20]}
    return render(request, "insights/rule_form.html", context, status=400 if form.errors else 200)


@require_POST
def rule_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _tenant(request, Perm.MANAGE_ALERTS)
    alerts.alert_rule_delete(rule=_rule(request, pk), actor=request.user.email)
    messages.success(request, "Alert rule deleted.")
    return HttpResponseRedirect(reverse("insights:rules"))


@require_POST
def rule_rotate_view(request: HttpRequest, pk: int) -> HttpResponse:
    _tenant(request, Perm.MANAGE_ALERTS)
    rule = alerts.alert_rule_rotate_secret(rule=_rule(request, pk), actor=request.user.email)
    messages.success(request, "A new webhook secret was made; update your receiver.")
    return HttpResponseRedirect(reverse("insights:rule_edit", args=[rule.pk]))


@require_POST
def evaluate_view(request: HttpRequest) -> HttpResponse:
    """Run the alert evaluation now instead of waiting for the schedule."""
    tenant = _tenant(request, Perm.MANAGE_ALERTS)
    job = alerts.alerts_evaluation_queue(tenant=tenant, requested_by=request.user.email)
    if job is None:
        messages.info(request, "An evaluation is already queued or running.")
        return HttpResponseRedirect(reverse("insights:rules"))
    messages.info(request, "Alert rules are being evaluated; this job record shows the outcome.")
    return HttpResponseRedirect(reverse(registry.get("jobs").url_name("detail"), args=[job.pk]))


def settings_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request, Perm.MANAGE_ALERTS)
    current = services.detection_thresholds(tenant=tenant)
    form = ThresholdsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            for spec, _ in form.groups:
                enabled, thresholds = form.values_for(spec)
                services.detection_settings_update(
                    tenant=tenant, actor=request.user.email, detection=spec.name, enabled=enabled, thresholds=thresholds
                )
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, "Detection settings saved.")
            return HttpResponseRedirect(reverse("insights:settings"))
    return render(request, "insights/settings.html", {"form": form}, status=400 if form.errors else 200)


def review_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request)
    can_record = has_perm(request.user, Perm.RECORD_REVIEW)
    sections = review_sections(tenant)
    context = {
        "sections": [
            (s, ReviewNoteForm(initial={"cadence": s.cadence}, auto_id=f"id_{s.cadence}_%s")) for s in sections
        ],
        "can_record": can_record,
        "history": ReviewNote.objects.for_user(request.user)[:15],
    }
    return render(request, "insights/review.html", context)


@require_POST
def review_note_view(request: HttpRequest) -> HttpResponse:
    tenant = _tenant(request, Perm.RECORD_REVIEW)
    form = ReviewNoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a note about the review before marking it done.")
        return HttpResponseRedirect(reverse("insights:review"))
    try:
        services.review_note_create(
            tenant=tenant,
            actor=request.user.email,
            cadence=form.cleaned_data["cadence"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{ReviewCadence(form.cleaned_data['cadence']).label} review recorded.")
    return HttpResponseRedirect(reverse("insights:review"))
