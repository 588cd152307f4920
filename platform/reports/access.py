"""Who sees which dataset, which of its columns, and which reports: the one place these rules live.

- A dataset with allowed groups is seen by their members (and by platform admins and auditors); without any,
  by every signed-in user.
- A column with clearance groups is received only by their members, whoever they are (platform admins and
  auditors included: a clearance is about the data, not the platform). A column registered as sensitive is
  received by nobody until its clearance groups are set.
- A section report is seen by those who may visit its section (and, if it names groups, are in one of them)
  and may see its dataset; a personal report by its owner only, while the owner may still see the dataset.
Everything else answers 404: the pages never confirm that a dataset or report exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from jobs.status import freshness_by_job
from tenants.models import Section
from tenants.permissions import can_visit_section, reads_everything

from .datasets import DatasetSpec, UnknownDataset, get_dataset
from .models import Dataset, DatasetColumn, ReportDefinition
from .query import DatasetQuery


def _group_ids(user: Any) -> set[int]:
    group_ids = getattr(user, "group_ids", None)
    return set(group_ids()) if callable(group_ids) else set()


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def visible_datasets(user: Any) -> QuerySet[Dataset]:
    """The catalog entries `user` may see."""
    if not _signed_in(user):
        return Dataset.objects.none()
    datasets = Dataset.objects.all()
    if reads_everything(user):
        return datasets
    return datasets.filter(Q(allowed_groups__isnull=True) | Q(allowed_groups__in=_group_ids(user))).distinct()


def may_see_dataset(user: Any, dataset: Dataset) -> bool:
    return visible_datasets(user).filter(pk=dataset.pk).exists()


def visible_columns(user: Any, dataset: Dataset, spec: DatasetSpec | None = None) -> list[str]:
    """The dataset's columns `user` may receive, in registry order."""
    spec = spec or get_dataset(dataset.key)
    mine = _group_ids(user)
    clearance: dict[str, set[int]] = {}
    for name, group_id in DatasetColumn.objects.filter(dataset=dataset).values_list("name", "clearance_groups"):
        groups = clearance.setdefault(name, set())
        if group_id is not None:
            groups.add(group_id)
    shown = []
    for column in spec.columns:
        groups = clearance.get(column.name, set())
        if groups:
            if groups & mine:
                shown.append(column.name)
        elif not column.sensitive:
            shown.append(column.name)
    return shown


def engine_for(user: Any, dataset: Dataset) -> DatasetQuery:
    """The query engine over `dataset`, limited to the columns `user` may receive."""
    spec = get_dataset(dataset.key)
    return DatasetQuery(spec, visible_columns(user, dataset, spec))


def visible_reports(user: Any) -> QuerySet[ReportDefinition]:
    """Reports `user` may run (section checks included; the caller still checks the section's archive state)."""
    if not _signed_in(user):
        return ReportDefinition.objects.none()
    datasets = visible_datasets(user)
    personal = Q(section__isnull=True, owner=user)
    if reads_everything(user):
        shared = Q(section__isnull=False)
    else:
        shared = Q(section_id__in=_visitable_section_ids(user)) & (
            Q(allowed_groups__isnull=True) | Q(allowed_groups__in=_group_ids(user))
        )
    return (
        ReportDefinition.objects.filter(personal | shared, dataset__in=datasets)
        .select_related("section", "dataset", "owner")
        .distinct()
    )


def _visitable_section_ids(user: Any) -> list[int]:
    """Sections holding reports that `user` may visit (few: one query, then the cached section roles)."""
    ids = set(ReportDefinition.objects.filter(section__isnull=False).values_list("section_id", flat=True))
    return [s.pk for s in Section.objects.filter(pk__in=ids) if not s.is_archived and can_visit_section(user, s)]


def report_or_404(user: Any, pk: int) -> ReportDefinition:
    report = visible_reports(user).filter(pk=pk).first()
    if report is None:
        raise Http404("No such report.")
    try:
        get_dataset(report.dataset.key)
    except UnknownDataset:
        raise Http404("No such report.") from None
    return report


def dataset_or_404(user: Any, key: str) -> Dataset:
    dataset = visible_datasets(user).filter(key=key).select_related("owner_section", "sync_source").first()
    if dataset is None:
        raise Http404("No such dataset.")
    try:
        get_dataset(dataset.key)
    except UnknownDataset:
        raise Http404("No such dataset.") from None
    return dataset


# -----------------------------------------------------------------------------------------------------------------
# Freshness (from the jobs app: the sync source's last successful sync)
# -----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DatasetFreshness:
    synced: bool  # False: no sync source, so freshness is not tracked
    last_success_at: datetime | None
    target_minutes: int | None
    stale: bool
    job_name: str = ""


def dataset_freshness(dataset: Dataset) -> DatasetFreshness:
    source = dataset.sync_source
    if source is None:
        return DatasetFreshness(synced=False, last_success_at=None, target_minutes=None, stale=False)
    state = freshness_by_job([source.job_name]).get(source.job_name)
    last = state.last_success_at if state else None
    target = dataset.freshness_target_minutes or source.freshness_target_minutes
    stale = last is None or last < timezone.now() - timedelta(minutes=target)
    return DatasetFreshness(True, last, target, stale, source.job_name)
