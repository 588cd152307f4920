"""URLs under /reports/: the report list, a report's page, its table and chart data, its exports, the builder
(new, edit, live preview) and the user's saved views."""

from django.urls import URLPattern, path

from . import builder, views

app_name = "reports"

urlpatterns: list[URLPattern] = [
    path("", views.report_list, name="list"),
    path("new/", builder.builder, name="new"),
    path("new/preview/", builder.preview, name="new-preview"),
    path("<int:pk>/", views.report_page, name="report"),
    path("<int:pk>/edit/", builder.builder, name="builder"),
    path("<int:pk>/edit/preview/", builder.preview, name="builder-preview"),
    path("<int:pk>/views/", views.save_view, name="view-save"),
    path("<int:pk>/views/<int:view_pk>/delete/", views.delete_view, name="view-delete"),
    path("<int:pk>/data/", views.report_data, name="report-data"),
    path("<int:pk>/chart/", views.report_chart, name="report-chart"),
    path("<int:pk>/export.csv", views.report_export_csv, name="report-export-csv"),
    path("<int:pk>/export.xlsx", views.report_export_xlsx, name="report-export-xlsx"),
]
