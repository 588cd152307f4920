"""Every write to bug reports goes through these functions (pages, API and admin alike), plus the rules for who
sees and who triages which report, screenshot validation and the e-mail to the section's support contacts.

Who sees a report: its reporter; the editors of its section (who triage it); platform admins (who triage every
report, including those sent from platform pages, which have no section) and auditors (read-only).
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from PIL import Image, UnidentifiedImageError

from core.live import live_setting
from core.services import run_in_transaction, save_with_history
from tenants.models import Section
from tenants.permissions import can_edit_section, editable_sections, is_platform_admin, reads_everything

from .models import BugReport, Comment, Severity, Status

logger = logging.getLogger("atrium.feedback")

# Limits on uploaded screenshots; override in settings. Reading them here, not at import, lets tests change them.
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
DEFAULT_MAX_DIMENSION = 8000
ACCEPTED_FORMATS = {"PNG": "png", "JPEG": "jpg"}

# How a report moves: forward, possibly skipping steps (a duplicate is resolved at once), and reopened to
# "triaged" from "resolved". Going back from "in progress" to "new" says nothing useful and is refused.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset({Status.TRIAGED, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.TRIAGED: frozenset({Status.IN_PROGRESS, Status.RESOLVED}),
    Status.IN_PROGRESS: frozenset({Status.TRIAGED, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.TRIAGED}),
}

# Client-side context keys kept (anything else the browser sends is dropped), and how long text may be.
CLIENT_CONTEXT_KEYS = (
    "url",
    "section",
    "viewport",
    "device_pixel_ratio",
    "colour_mode",
    "page_request_id",
    "recent_request_ids",
    "js_errors",
    "user_agent",
    "title",
)
MAX_TEXT = 2000
MAX_LIST = 10


# Visibility --------------------------------------------------------------------------------------------------------
def all_reports() -> QuerySet[BugReport]:
    return BugReport.objects.all_sections().select_related("section", "reporter", "assignee")


def visible_reports(user: Any, sections: QuerySet[Section] | None = None) -> QuerySet[BugReport]:
    """The reports `user` may read; `sections` (the API's token-narrowed editable sections) replaces the default."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return BugReport.objects.none()
    if reads_everything(user) and sections is None:
        return all_reports()
    triaged = editable_sections(user) if sections is None else sections
    return all_reports().filter(Q(reporter=user) | Q(section__in=triaged))


def triage_reports(user: Any, sections: QuerySet[Section] | None = None) -> QuerySet[BugReport]:
    """The reports `user` triages (and reads as a triager): their sections' reports, every report for admins."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return BugReport.objects.none()
    if sections is None:
        if reads_everything(user):
            return all_reports()
        sections = editable_sections(user)
    return all_reports().filter(section__in=sections)


def can_triage(user: Any, report: BugReport) -> bool:
    """May `user` change the report's status and assignee? (Auditors never: they read.)"""
    if is_platform_admin(user):
        return True
    return report.section is not None and can_edit_section(user, report.section)


def may_read(user: Any, report: BugReport) -> bool:
    return bool(report.reporter_id == getattr(user, "pk", None) or reads_everything(user) or can_triage(user, report))


def possible_assignees(report: BugReport) -> QuerySet[Any]:
    """Who a report may be assigned to: active platform admins and members of the section's editor groups."""
    users = get_user_model().objects.filter(is_active=True)
    query = Q(is_superuser=True)
    if report.section is not None:
        from tenants.permissions import section_access

        query |= Q(groups__in=section_access(report.section).editor_group_ids)
    return users.filter(query).distinct().order_by("username")


# Screenshots -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CheckedImage:
    extension: str
    width: int
    height: int


def screenshot_limit() -> int:
    """The largest screenshot accepted, in bytes (setting FEEDBACK_SCREENSHOT_MAX_BYTES, default 5 MB)."""
    return int(getattr(settings, "FEEDBACK_SCREENSHOT_MAX_BYTES", DEFAULT_MAX_BYTES))


def check_screenshot(data: bytes) -> CheckedImage:
    """Prove `data` is a PNG or JPEG within the limits, by decoding it (the name and declared type prove nothing)."""
    max_bytes = screenshot_limit()
    max_dimension = getattr(settings, "FEEDBACK_SCREENSHOT_MAX_DIMENSION", DEFAULT_MAX_DIMENSION)
    if len(data) > max_bytes:
        raise ValidationError(
            f"The screenshot is larger than {max_bytes // (1024 * 1024) or max_bytes} "
            f"{'MB' if max_bytes >= 1024 * 1024 else 'bytes'}.",
            code="too_large",
        )
    if not data:
        raise ValidationError("The screenshot is empty.", code="empty")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            # Refuse before decoding anything big: the header is enough to know the size.
            width, height = probe.size
            if image_format not in ACCEPTED_FORMATS:
                raise ValidationError("The screenshot must be a PNG or JPEG image.", code="invalid_format")
            if width > max_dimension or height > max_dimension or width < 1 or height < 1:
                raise ValidationError(
                    f"The screenshot must be at most {max_dimension} × {max_dimension} pixels.", code="too_big"
                )
            probe.verify()
        # verify() leaves the image unusable; decoding it fully once more catches truncated pixel data.
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ValidationError("The screenshot is not a readable PNG or JPEG image.", code="invalid_image") from exc
    return CheckedImage(ACCEPTED_FORMATS[image_format], width, height)


# Context -----------------------------------------------------------------------------------------------------------
def _clip(value: Any, depth: int = 0) -> Any:
    """The browser's context, made safe to store: short strings, short lists, shallow dicts, plain values."""
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, list | tuple) and depth < 3:
        return [_clip(v, depth + 1) for v in list(value)[-MAX_LIST:]]
    if isinstance(value, dict) and depth < 3:
        return {str(k)[:100]: _clip(v, depth + 1) for k, v in list(value.items())[:20]}
    return str(value)[:MAX_TEXT]


def build_context(client: Any, *, user: Any, user_agent: str, section: Section | None) -> dict[str, Any]:
    """What is stored with a report: the known keys the browser sent, and what the server knows for sure."""
    sent = client if isinstance(client, dict) else {}
    context = {key: _clip(sent[key]) for key in CLIENT_CONTEXT_KEYS if key in sent}
    context["user_agent"] = user_agent[:MAX_TEXT] or context.get("user_agent", "")
    context["section"] = section.slug if section is not None else ""
    context["user"] = getattr(user, "username", "")
    context["groups"] = sorted(user.groups.values_list("name", flat=True)) if getattr(user, "pk", None) else []
    return context


# Writes ------------------------------------------------------------------------------------------------------------
def submit_report(
    *,
    reporter: Any,
    section: Section | None,
    description: str,
    expected: str = "",
    severity: str = Severity.MEDIUM,
    page_url: str = "",
    request_id: str = "",
    screenshot: bytes | None = None,
    context: dict[str, Any] | None = None,
) -> BugReport:
    """Store a report (and its screenshot) and, once committed, mail the section's support contacts."""
    checked = check_screenshot(screenshot) if screenshot is not None else None

    def work() -> BugReport:
        report = BugReport(
            section=section,
            reporter=reporter,
            description=description.strip(),
            expected=expected.strip(),
            severity=severity,
            page_url=page_url[:2000],
            request_id=request_id[:128],
            context=context or {},
        )
        if screenshot is not None and checked is not None:
            # save=False: the row is saved once, below, with the file name in place and history recorded.
            report.screenshot.save(f"screenshot.{checked.extension}", ContentFile(screenshot), save=False)
        try:
            save_with_history(report, actor=reporter, reason="Reported from a page")
        except Exception:
            if report.screenshot:
                report.screenshot.delete(save=False)
            raise
        transaction.on_commit(lambda: notify_support(report), robust=True)
        return report

    return run_in_transaction(work)


def update_report(
    report: BugReport,
    *,
    actor: Any,
    reason: str,
    status: str | None = None,
    assignee: Any = None,
    change_assignee: bool = False,
) -> BugReport:
    """Move a report to `status` and/or (with `change_assignee`) give it to `assignee` (None: nobody)."""

    def work() -> BugReport:
        if status is not None and status != report.status:
            check_transition(report.status, status)
            report.status = status
        if change_assignee:
            if assignee is not None and not possible_assignees(report).filter(pk=assignee.pk).exists():
                raise ValidationError({"assignee": "The assignee must be an editor of the report's section."})
            report.assignee = assignee
        save_with_history(report, actor=actor, reason=reason)
        return report

    return run_in_transaction(work)


def check_transition(current: str, wanted: str) -> None:
    if wanted not in Status.values:
        raise ValidationError({"status": f"Unknown status “{wanted}”."})
    if wanted != current and wanted not in TRANSITIONS[current]:
        raise ValidationError(
            {"status": f"A report cannot go from “{Status(current).label}” to “{Status(wanted).label}”."}
        )


def add_comment(report: BugReport, body: str, *, actor: Any) -> Comment:
    def work() -> Comment:
        comment = Comment(report=report, author=actor, body=body.strip())
        save_with_history(comment, actor=actor, reason="Commented")
        return comment

    return run_in_transaction(work)


# Mail ----------------------------------------------------------------------------------------------------------------
def support_recipients(section: Section | None) -> list[str]:
    """The section's support address and contacts; without any (or for platform pages), the platform's support
    address (live setting SUPPORT_EMAIL) and settings.ADMINS."""
    addresses: list[str] = []
    if section is not None:
        addresses += [section.support_email]
        addresses += [c.email for c in (section.primary_contact, section.backup_contact) if c is not None]
    addresses = [a for a in addresses if a]
    if not addresses:
        addresses = [live_setting("SUPPORT_EMAIL") or ""] + [email for _name, email in settings.ADMINS]
    return list(dict.fromkeys(a for a in addresses if a))


def notify_support(report: BugReport) -> int:
    recipients = support_recipients(report.section)
    if not recipients:
        logger.warning("Bug report #%s has nobody to go to: no section contacts, SUPPORT_EMAIL or ADMINS.", report.pk)
        return 0
    where = report.section.name if report.section is not None else "the platform"
    first_line = report.description.splitlines()[0][:80] if report.description else ""
    reporter = report.reporter
    who = f"{reporter.get_full_name() or reporter.username} <{reporter.email}>" if reporter is not None else "?"
    body = (
        f"{who} reported a problem in {where} (severity: {report.get_severity_display()}).\n\n"
        f"What went wrong:\n{report.description}\n\n"
        f"What they expected:\n{report.expected or '—'}\n\n"
        f"Page: {report.page_url}\nRequest id: {report.request_id}\n"
        f"Screenshot: {'attached to the report' if report.screenshot else 'none'}\n\n"
        f"Triage it at {report.get_absolute_url()}\n"
    )
    return send_mail(
        subject=f"[Atrium] Problem #{report.pk} ({report.get_severity_display()}) in {where}: {first_line}",
        message=body,
        from_email=None,
        recipient_list=recipients,
    )
