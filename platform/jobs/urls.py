"""URLs under /jobs/: the job status pages."""

from django.urls import URLPattern, path

from . import views

app_name = "jobs"

urlpatterns: list[URLPattern] = [
    path("", views.job_list, name="list"),
    path("<str:name>/", views.job_detail, name="detail"),
]
