"""Insights and review pages, under /monitoring/ (DESIGN 6b fixes /monitoring/insights/ and /monitoring/review/)."""

from django.urls import path

from insights import views

app_name = "insights"

urlpatterns = [
    path("insights/", views.insights_view, name="overview"),
    path("insights/rules/", views.rules_view, name="rules"),
    path("insights/rules/evaluate/", views.evaluate_view, name="evaluate"),
    path("insights/rules/<int:pk>/", views.rule_edit_view, name="rule_edit"),
    path("insights/rules/<int:pk>/delete/", views.rule_delete_view, name="rule_delete"),
    path("insights/rules/<int:pk>/rotate-secret/", views.rule_rotate_view, name="rule_rotate"),
    path("insights/settings/", views.settings_view, name="settings"),
    path("review/", views.review_view, name="review"),
    path("review/notes/", views.review_note_view, name="review_note"),
]
