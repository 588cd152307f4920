"""Section bundles from the admin: download a section's bundle, and import one with a dry run before applying.

These are the same bundles as `manage.py export_section` / `import_section` (both call `audit.bundles`), served
inside the admin site (its login, MFA and look) at /admin/tenants/section/… next to the Section pages.

Import is two steps: the uploaded file is validated and dry-run (applied inside a transaction that is rolled
back), and the page shows field by field what would change; only the second POST, with the same bundle, applies
it. Between the two steps the bundle travels in a hidden field: it carries its own checksum, and both steps
check the user's rights against the section it names, so a changed hidden field gains nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from core.security import EventType, record_security_event
from tenants.models import Section
from tenants.permissions import can_edit_section, is_platform_admin, readable_sections

from .bundles import BundleError, ImportPlan, apply_import, dry_run, dumps, export_section, loads

# A section's bundle is a few hundred kilobytes at most; anything far larger is not a bundle.
MAX_BUNDLE_BYTES = 5 * 1024 * 1024


@never_cache
@require_safe
def export_bundle(request: HttpRequest, pk: int) -> HttpResponse:
    """GET /admin/tenants/section/<pk>/bundle/: the section's configuration bundle as a JSON download."""
    section = readable_sections(request.user).filter(pk=pk).first()
    if section is None:
        raise Http404("No such section.")
    try:
        text = dumps(export_section(section))
    except BundleError as exc:
        messages.error(request, f"Cannot export {section.name}: {exc}")
        return HttpResponseRedirect(reverse("admin:tenants_section_change", args=[section.pk]))
    record_security_event(EventType.EXPORT, request=request, section=section, reason="section bundle", format="json")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response = HttpResponse(text, content_type="application/json; charset=utf-8")
    filename = f"section-{section.slug}-{settings.ATRIUM_ENV}-{stamp}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class BundleUploadForm(forms.Form):
    file = forms.FileField(label="Bundle file", help_text="A .json file from export_section or the admin download.")
    create = forms.BooleanField(
        label="Create the section if it does not exist here", required=False, help_text="Platform admins only."
    )

    def clean_file(self) -> str:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BUNDLE_BYTES:
            raise forms.ValidationError(f"The file is larger than {MAX_BUNDLE_BYTES // (1024 * 1024)} MB.")
        try:
            return str(upload.read().decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise forms.ValidationError("The file is not UTF-8 text, so it is not a section bundle.") from exc


class BundleConfirmForm(forms.Form):
    bundle = forms.CharField(widget=forms.HiddenInput, max_length=MAX_BUNDLE_BYTES)
    create = forms.BooleanField(required=False, widget=forms.HiddenInput)


def _check_rights(request: HttpRequest, bundle: dict[str, Any], create: bool) -> None:
    """Editors import into their own section; creating a section is for platform admins."""
    section = Section.objects.filter(slug=bundle["section"]["slug"]).first()
    if section is None:
        if not (create and is_platform_admin(request.user)):
            raise BundleError(
                f"There is no section “{bundle['section']['slug']}” here"
                + ("; only platform admins may create one from a bundle." if create else "; tick “Create”.")
            )
    elif not can_edit_section(request.user, section):
        raise PermissionDenied("You do not edit that section, so you cannot import into it.")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def import_bundle(request: HttpRequest) -> HttpResponse:
    """GET/POST /admin/tenants/section/import-bundle/: upload, dry run, then apply on confirmation."""
    if getattr(request.user, "is_auditor", False) and not is_platform_admin(request.user):
        raise PermissionDenied("Auditors read configuration; they do not import it.")
    if request.method == "POST" and "bundle" in request.POST:
        return _confirm(request)
    form = BundleUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        create = form.cleaned_data["create"]
        try:
            bundle = loads(form.cleaned_data["file"])
            _check_rights(request, bundle, create)
            plan = dry_run(bundle, create=create)
        except BundleError as exc:
            form.add_error("file", str(exc))
        else:
            confirm = BundleConfirmForm(initial={"bundle": form.cleaned_data["file"], "create": create})
            return _render(request, "Check the import", form=None, plan=plan, confirm=confirm)
    status = 400 if request.method == "POST" else 200
    return _render(request, "Import a section bundle", form=form, status=status)


def _confirm(request: HttpRequest) -> HttpResponse:
    form = BundleConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The confirmation lost its bundle; upload the file again.")
        return HttpResponseRedirect(reverse("admin-section-bundle-import"))
    create = form.cleaned_data["create"]
    try:
        bundle = loads(form.cleaned_data["bundle"])
        _check_rights(request, bundle, create)
        plan = apply_import(bundle, actor=request.user, create=create)
    except BundleError as exc:
        return _render(
            request, "Import a section bundle", form=BundleUploadForm(), error=f"Refused, nothing imported: {exc}"
        )
    section = Section.objects.get(slug=bundle["section"]["slug"])
    record_security_event(
        EventType.BUNDLE_IMPORTED, request=request, section=section, reason=plan.reason, changes=len(plan.changes)
    )
    messages.success(request, f"Imported into {section.name}: {plan.summary() if plan.has_changes else 'no changes'}.")
    return HttpResponseRedirect(reverse("admin:tenants_section_change", args=[section.pk]))


def _render(
    request: HttpRequest,
    title: str,
    *,
    form: BundleUploadForm | None,
    plan: ImportPlan | None = None,
    confirm: BundleConfirmForm | None = None,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    context = {
        **admin.site.each_context(request),
        "opts": Section._meta,
        "title": title,
        "form": form,
        "plan": plan,
        "confirm": confirm,
        "error": error,
    }
    return render(request, "admin/tenants/section/import_bundle.html", context, status=400 if error else status)
