"""URLs under /feedback/: triage, the reporter's own reports, one report, its screenshot and its forms."""

from django.urls import URLPattern, path

from . import views

app_name = "feedback"

urlpatterns: list[URLPattern] = [
    path("", views.triage, name="triage"),
    path("mine/", views.mine, name="mine"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/screenshot/", views.screenshot, name="screenshot"),
    path("<int:pk>/update/", views.update, name="update"),
    path("<int:pk>/comment/", views.comment, name="comment"),
]
