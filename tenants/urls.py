"""A section's own URLs, mounted at /<section_slug>/ (or at / on a section's host name)."""

from django.urls import path

from . import views

app_name = "tenants"

urlpatterns = [
    path("", views.section_home, name="section-home"),
    path("pages/<int:page_id>/", views.page_detail, name="page"),
]
