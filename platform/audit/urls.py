"""URLs under /audit/: per-object history, section and platform timelines, their JSON data and exports."""

from django.urls import URLPattern, URLResolver, include, path

from . import views

app_name = "audit"

urlpatterns: list[URLPattern | URLResolver] = [
    path("history/<str:app_label>/<str:model_name>/<int:pk>/", views.object_history, name="object-history"),
    path("history/<str:app_label>/<str:model_name>/<int:pk>/revert/", views.object_revert, name="object-revert"),
    path("sections/<slug:slug>/as-of/", views.section_as_of, name="section-as-of"),
    path("sections/<slug:slug>/revert/", views.section_revert, name="section-revert"),
    path("sections/<slug:slug>/", views.section_timeline, name="section-timeline"),
    path("sections/<slug:slug>/data/", views.section_timeline_data, name="section-timeline-data"),
    path("sections/<slug:slug>/export/<str:fmt>/", views.section_timeline_export, name="section-timeline-export"),
    path("changes/", views.changes, name="changes"),
    path("changes/data/", views.changes_data, name="changes-data"),
    path("changes/export/<str:fmt>/", views.changes_export, name="changes-export"),
    path("security/", include("audit.security_urls")),
    path("alerts/", include("audit.alert_urls")),
]
