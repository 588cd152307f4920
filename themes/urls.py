"""Preferences (under /preferences/) and theme stylesheets (under /-/theme/)."""

from django.urls import path

from . import views

app_name = "themes"

urlpatterns = [
    path("preferences/", views.preferences, name="preferences"),
    path("preferences/display/", views.save_display, name="save-display"),
    path("-/theme/<slug:slug>.css", views.theme_css, name="css"),
]
