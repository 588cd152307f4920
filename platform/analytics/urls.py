"""URLs under /analytics/: the dashboards, the privacy switch and the time-on-page beacon.

The fixed pages come first. A section whose slug is one of theirs ("beacon", "privacy") would have its dashboard
shadowed, so the selector on /analytics/ (?section=<slug>) shows such a section's dashboard itself instead of
redirecting to /analytics/<slug>/.
"""

from django.urls import URLPattern, path

from . import views

app_name = "analytics"

urlpatterns: list[URLPattern] = [
    path("", views.index, name="index"),
    path("beacon/", views.beacon, name="beacon"),
    path("privacy/", views.privacy, name="privacy"),
    path("<slug:section_slug>/", views.section_dashboard, name="section"),
]
