"""Admin for users: the directory fills most fields, so they are shown but rarely edited here."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "first_name", "last_name", "email", "department", "source", "is_active")
    list_filter = ("source", "is_active", "is_superuser", "groups")
    fieldsets = (
        *(DjangoUserAdmin.fieldsets or ()),
        ("Directory", {"fields": ("source", "department", "title")}),
    )
