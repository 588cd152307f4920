"""Read-only queries over django-simple-history's tables: which models have history, who may read what, per-object
versions with field diffs, and the change timeline (one UNION query across every history table, so sorting,
filtering and paging happen in the database however many tables there are).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models import CharField, F, Q, QuerySet, Value
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils import timezone

from tenants.models import Section
from tenants.permissions import editable_sections, reads_everything

# The history_type codes simple-history stores, and the words the auditors read.
ACTIONS: dict[str, str] = {"created": "+", "changed": "~", "deleted": "-"}
ACTION_NAMES: dict[str, str] = {code: name for name, code in ACTIONS.items()}

# Fields that make a readable label for a row, in order of preference; a model with none of them is "Model #pk".
LABEL_FIELDS = ("title", "label", "name", "key", "slug")

# Shown where simple-history recorded no user: migrations, jobs and the demo loader.
SYSTEM_USER = "system"


@dataclass(frozen=True)
class HistoryModel:
    """A model with `history = HistoricalRecords()`, and how its rows belong to a section (if they do)."""

    model: type[models.Model]
    history_model: type[models.Model]
    # "id" for the Section model itself, "section_id" for section-owned rows, "" for platform tables.
    section_column: str
    label_field: str

    @property
    def key(self) -> str:
        """`app_label.model_name`: the value of the timeline's model filter and part of the history URL."""
        return f"{self.model._meta.app_label}.{self.model._meta.model_name}"

    @property
    def verbose_name(self) -> str:
        return str(self.model._meta.verbose_name).capitalize()

    @property
    def verbose_name_plural(self) -> str:
        return str(self.model._meta.verbose_name_plural).capitalize()

    @property
    def pk_column(self) -> str:
        return self.model._meta.pk.attname  # type: ignore[union-attr]

    @property
    def in_sections(self) -> bool:
        return bool(self.section_column)

    def history_url(self, pk: Any) -> str:
        return reverse(
            "audit:object-history",
            kwargs={"app_label": self.model._meta.app_label, "model_name": self.model._meta.model_name, "pk": pk},
        )

    def records(self) -> QuerySet[Any]:
        return self.history_model._default_manager.all()


def _section_column(model: type[models.Model]) -> str:
    if model is Section:
        return "id"
    try:
        field = model._meta.get_field("section")
    except Exception:  # noqa: BLE001 - FieldDoesNotExist: the model is a platform table
        return ""
    return "section_id" if getattr(field, "related_model", None) is Section else ""


@cache
def history_models() -> tuple[HistoryModel, ...]:
    """Every model the app registry knows with simple-history attached, read from the registry (never a list kept
    by hand), so a new configuration table shows up in the audit pages the day it gets `HistoricalRecords()`."""
    found = []
    for model in apps.get_models():
        manager_name = getattr(model._meta, "simple_history_manager_attribute", None)
        if not manager_name or getattr(model, "instance_type", None) is not None:
            continue  # no history, or a historical model itself
        history_model = getattr(model, manager_name).model
        field_names = {f.name for f in history_model._meta.get_fields()}
        label = next((name for name in LABEL_FIELDS if name in field_names), "")
        found.append(HistoryModel(model, history_model, _section_column(model), label))
    return tuple(sorted(found, key=lambda hm: hm.key))


def history_model_for(app_label: str, model_name: str) -> HistoryModel | None:
    key = f"{app_label}.{model_name}".lower()
    return next((hm for hm in history_models() if hm.key == key), None)


# ---------------------------------------------------------------------------------------------------------------
# Who may read what
# ---------------------------------------------------------------------------------------------------------------
def may_read_section(user: Any, section_id: int | None) -> bool:
    """Auditors and platform admins read every section; a section's editors read their own; nobody else."""
    if reads_everything(user):
        return True
    if section_id is None:
        return False  # platform tables (themes, live settings): auditors and admins only
    return editable_sections(user).filter(pk=section_id).exists()


def readable_section(user: Any, slug: str) -> Section | None:
    """The section with `slug` if `user` may read its history; otherwise None (the caller answers 404 either way,
    so a missing section and a forbidden one look the same)."""
    section = Section.objects.filter(slug=slug).first()
    if section is None or not may_read_section(user, section.pk):
        return None
    return section


# ---------------------------------------------------------------------------------------------------------------
# One object's versions
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldChange:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Version:
    record: Any
    action: str
    user: str
    changes: tuple[FieldChange, ...]


def display(value: Any) -> str:
    """A value as the auditors read it: empty values are a dash, lists (many-to-many) comma-separated."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if timezone.is_aware(value) else str(value)
    if isinstance(value, list | tuple):
        return ", ".join(display(_m2m_value(v)) for v in value) or "—"
    return str(value)


def _m2m_value(row: Any) -> Any:
    # diff_against gives many-to-many values as dicts of the through row's ids; the target's id is what matters.
    if isinstance(row, dict):
        targets = [v for k, v in row.items() if k not in ("id", "history", "history_id")]
        return targets[-1] if targets else row
    return row


def user_name(record: Any) -> str:
    user = getattr(record, "history_user", None)
    return user.get_username() if user is not None else SYSTEM_USER


def object_records(hm: HistoryModel, pk: int) -> list[Any]:
    """Every version of one object, newest first (ties broken by id: two saves in the same microsecond)."""
    return list(
        hm.records()
        .filter(**{hm.pk_column: pk})
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )


def record_section_id(hm: HistoryModel, record: Any) -> int | None:
    return getattr(record, hm.section_column) if hm.section_column else None


def versions(hm: HistoryModel, records: Sequence[Any], indexes: Iterable[int]) -> list[Version]:
    """The versions at `indexes` of the newest-first `records`, each diffed against the one before it."""
    tracked = list(hm.history_model.tracked_fields)  # type: ignore[attr-defined]
    result = []
    for index in indexes:
        record = records[index]
        previous = records[index + 1] if index + 1 < len(records) else None
        if previous is not None and record.history_type != "-":
            delta = record.diff_against(previous)
            names = {f.name: str(f.verbose_name) for f in [*tracked, *hm.model._meta.many_to_many]}
            changes = tuple(
                FieldChange(names.get(c.field, c.field), display(c.old), display(c.new)) for c in delta.changes
            )
        elif record.history_type == "+" or previous is None:
            # The first version: everything it was created with is "new".
            changes = tuple(
                FieldChange(str(f.verbose_name), "—", display(getattr(record, f.attname)))
                for f in tracked
                if getattr(record, f.attname) not in (None, "")
            )
        else:
            changes = ()  # a deletion changes no field: the row is gone
        result.append(
            Version(record, ACTION_NAMES.get(record.history_type, record.history_type), user_name(record), changes)
        )
    return result


def object_label(hm: HistoryModel, record: Any) -> str:
    value = getattr(record, hm.label_field, "") if hm.label_field else ""
    return str(value) if value else f"{hm.verbose_name} #{getattr(record, hm.pk_column)}"


# ---------------------------------------------------------------------------------------------------------------
# The timeline: every change in scope, as one UNION query
# ---------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimelineFilters:
    """The timeline's filters, already validated (see audit.views.TimelineFilterForm)."""

    user: str = ""
    model: HistoryModel | None = None
    action: str = ""  # "created" | "changed" | "deleted" | ""
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""


# Column names of the UNION: prefixed so they never collide with a model's own fields.
TIMELINE_COLUMNS = ("a_model", "a_id", "a_object", "a_date", "a_type", "a_reason", "a_user", "a_label", "a_section")


def scope_models(section: Section | None) -> tuple[HistoryModel, ...]:
    """A section's timeline covers its own tables; the platform-wide one covers every history table."""
    return tuple(hm for hm in history_models() if section is None or hm.in_sections)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def model_rows(hm: HistoryModel, section: Section | None, filters: TimelineFilters) -> QuerySet[Any]:
    queryset = hm.records()
    if section is not None:
        queryset = queryset.filter(**{hm.section_column: section.pk})
    if filters.user:
        queryset = queryset.filter(history_user__username=filters.user)
    if filters.action:
        queryset = queryset.filter(history_type=ACTIONS[filters.action])
    if filters.date_from:
        queryset = queryset.filter(history_date__gte=_start_of(filters.date_from))
    if filters.date_to:
        # Inclusive of the whole last day, in the platform's time zone.
        queryset = queryset.filter(history_date__lt=_start_of(filters.date_to + timedelta(days=1)))
    if filters.search:
        match = Q(history_change_reason__icontains=filters.search) | Q(history_user__username__icontains=filters.search)
        if hm.label_field:
            match |= Q(**{f"{hm.label_field}__icontains": filters.search})
        queryset = queryset.filter(match)
    text: CharField[str, str] = CharField(max_length=255)
    # Every column is cast to one type, so the UNION's branches agree on types (and MariaDB on collations).
    return queryset.annotate(
        a_model=Cast(Value(hm.key), text),
        a_id=F("history_id"),
        a_object=Cast(F(hm.pk_column), text),
        a_date=F("history_date"),
        a_type=Cast(F("history_type"), text),
        a_reason=Cast(F("history_change_reason"), text),
        a_user=F("history_user_id"),
        a_label=Cast(F(hm.label_field), text) if hm.label_field else Cast(Value(""), text),
        a_section=F(hm.section_column) if hm.section_column else Cast(Value(None), models.BigIntegerField()),
    ).values(*TIMELINE_COLUMNS)


def timeline(section: Section | None, filters: TimelineFilters, *, newest_first: bool = True) -> QuerySet[Any]:
    """Every change in scope that matches `filters`, as dicts keyed by TIMELINE_COLUMNS, sorted by time."""
    chosen = [hm for hm in scope_models(section) if filters.model is None or hm.key == filters.model.key]
    if not chosen:
        return history_models()[0].records().none().values()
    first, *rest = (model_rows(hm, section, filters) for hm in chosen)
    union = first.union(*rest, all=True) if rest else first
    ordering = ("-a_date", "-a_id") if newest_first else ("a_date", "a_id")
    return union.order_by(*ordering)


def timeline_rows(rows: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The UNION's raw rows as the auditors read them: names instead of ids, words instead of codes."""
    from django.contrib.auth import get_user_model

    rows = list(rows) if not isinstance(rows, list) else rows
    by_key = {hm.key: hm for hm in history_models()}
    user_ids = {row["a_user"] for row in rows if row["a_user"] is not None}
    users = dict(get_user_model()._default_manager.filter(pk__in=user_ids).values_list("pk", "username"))
    section_ids = {row["a_section"] for row in rows if row["a_section"] is not None}
    slugs = dict(Section.objects.filter(pk__in=section_ids).values_list("pk", "slug"))
    for row in rows:
        hm = by_key[row["a_model"]]
        yield {
            "when": display(row["a_date"]),
            "user": users.get(row["a_user"], SYSTEM_USER) if row["a_user"] is not None else SYSTEM_USER,
            "section": slugs.get(row["a_section"], "—") if row["a_section"] is not None else "—",
            "model": hm.verbose_name,
            "object": row["a_label"] or f"{hm.verbose_name} #{row['a_object']}",
            "action": ACTION_NAMES.get(row["a_type"], row["a_type"]),
            "reason": row["a_reason"] or "",
            "history": hm.history_url(row["a_object"]),
        }


def iterate_timeline(queryset: QuerySet[Any], batch: int = 500) -> Iterator[dict[str, Any]]:
    """Stream a whole timeline (for exports) in batches, resolving names one batch at a time."""
    chunk: list[dict[str, Any]] = []
    for row in queryset.iterator(chunk_size=batch):
        chunk.append(row)
        if len(chunk) == batch:
            yield from timeline_rows(chunk)
            chunk = []
    if chunk:
        yield from timeline_rows(chunk)
