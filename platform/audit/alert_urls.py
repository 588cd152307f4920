"""URLs under /audit/alerts/: the alerts raised by the alert rules, and acknowledging them."""

from django.urls import URLPattern, URLResolver, path

from . import alert_views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", alert_views.alerts, name="alerts"),
    path("<int:alert_id>/acknowledge/", alert_views.acknowledge_alert, name="alert-acknowledge"),
]
