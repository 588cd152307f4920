"""Admin building blocks: the base classes every configuration table's admin uses.

Saves and deletions made in the admin go through the app's service functions (never `obj.save()` directly), with
the reason the editor typed, so the admin is one more caller of the same write path as commands and the API.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from simple_history.admin import SimpleHistoryAdmin

from .services import delete_with_history, run_in_transaction, save_with_history

REASON_FIELD = "change_reason"


class ChangeReasonForm(forms.ModelForm):
    """Adds the "reason for change" every configuration change records in its history."""

    change_reason = forms.CharField(
        label="Reason for change",
        max_length=100,
        required=True,
        help_text="Recorded in the history with your name and the time, for the auditors.",
    )


def user_reads_everything(user: Any) -> bool:
    return bool(user.is_active and (user.is_superuser or getattr(user, "is_auditor", False)))


class ConfigAdmin(SimpleHistoryAdmin):
    """Base admin for configuration tables: history, a required reason, and writes through the services."""

    form = ChangeReasonForm
    # Addresses typed without a scheme are https, never http (and Django 6's default, without its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = list(super().get_fieldsets(request, obj))
        if not self.has_change_permission(request, obj) and obj is not None:
            return fieldsets
        for _name, options in fieldsets:
            options["fields"] = [f for f in options.get("fields", ()) if f != REASON_FIELD]
        return [*fieldsets, ("Why", {"fields": [REASON_FIELD]})]

    # Write path ------------------------------------------------------------------------------------------------
    def save_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        """Override to call the app's service; the default records history in a Galera-safe transaction."""
        run_in_transaction(lambda: save_with_history(obj, actor=actor, reason=reason))

    def delete_service(self, obj: models.Model, *, actor: Any, reason: str) -> None:
        run_in_transaction(lambda: delete_with_history(obj, actor=actor, reason=reason))

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        reason = form.cleaned_data.get(REASON_FIELD) or ("Changed in the admin" if change else "Added in the admin")
        self.save_service(obj, actor=request.user, reason=reason)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.delete_service(obj, actor=request.user, reason="Deleted in the admin")

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        # One service call per row so each deletion has its own history entry and permission check.
        for obj in queryset:
            self.delete_service(obj, actor=request.user, reason="Deleted in the admin (bulk)")

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # Objects outside the user's reach are "not found" (404), never a hint that they exist elsewhere.
        raise Http404("No such object.")

    def _in_reach(self, request: HttpRequest, object_id: str) -> bool:
        try:
            return self.get_queryset(request).filter(pk=unquote(object_id)).exists()
        except (ValueError, TypeError, ValidationError):
            return False

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        # Decide "not found" before "not allowed", so a 403 never confirms that another section's row exists.
        if not self._in_reach(request, object_id):
            raise Http404("No such object.")
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        if not self._in_reach(request, object_id):
            raise Http404("No such object.")
        return super().delete_view(request, object_id, extra_context)

    # History pages ---------------------------------------------------------------------------------------------
    def _history_in_reach(self, request: HttpRequest, object_id: str) -> bool:
        """Is this object (or, once deleted, its last recorded state) one the user may read?"""
        try:
            if self.get_queryset(request).filter(pk=object_id).exists():
                return True
            history = getattr(self.model, "history", None)
            if history is None:
                return False
            record = history.filter(**{self.model._meta.pk.attname: object_id}).order_by("-history_date").first()
        except (ValueError, TypeError, ValidationError):
            return False
        return record is not None and self.has_view_permission(request, record.instance)

    def history_view(self, request: HttpRequest, object_id: str, extra_context: Any = None) -> HttpResponse:
        if not self._history_in_reach(request, unquote(object_id)):
            raise Http404("No such object.")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        if not self._history_in_reach(request, unquote(object_id)):
            raise Http404("No such object.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class PlatformConfigAdmin(ConfigAdmin):
    """Configuration owned by the platform (not by a section): platform admins change it, auditors read it."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return user_reads_everything(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_reads_everything(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_superuser)
