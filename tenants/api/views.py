"""Viewsets of sections and section roles. Reads are limited to the sections the caller may read; every write
goes through tenants.services (history with the acting user and reason, Galera-safe transaction, cache bump)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import api_editable_sections, api_readable_sections, is_section_restricted
from api.viewsets import ApiViewSetMixin, CreateListRetrieveDestroyViewSet, as_api_validation_error, change_reason
from tenants import services
from tenants.models import NavigationLayout, Section, SectionRole, SectionRoleKind, SectionStatus
from tenants.permissions import is_platform_admin

from .serializers import ADMIN_ONLY_FIELDS, SectionOnboardingSerializer, SectionRoleSerializer, SectionSerializer

DEFAULT_REASON = "Changed through the API"


def require_editor(request: Request, section: Section) -> None:
    """403 unless this call may change `section` (its editors, platform admins; never auditors or read tokens)."""
    if not api_editable_sections(request).filter(pk=section.pk).exists():
        raise PermissionDenied(f"You cannot change the section “{section.slug}”.")


class SectionFilter(filters.FilterSet):
    slug = filters.CharFilter(label="The section with this slug.")
    status = filters.ChoiceFilter(choices=SectionStatus.choices, label="Only sections in this status.")
    navigation_layout = filters.ChoiceFilter(choices=NavigationLayout.choices, label="Only this navigation layout.")

    class Meta:
        model = Section
        fields = ["slug", "status", "navigation_layout"]


@extend_schema_view(
    list=extend_schema(
        summary="List sections",
        description="The sections whose configuration you may read: every section for platform admins and "
        "auditors, the sections you edit otherwise. A section-restricted token sees only its section.",
    ),
    retrieve=extend_schema(summary="Read a section", description="One section; 404 if you may not read it."),
    create=extend_schema(
        summary="Onboard a section",
        description="Platform admins only. Creates the section with its editor (and viewer) roles, a starter home "
        "page and menu, as the admin's onboarding form does; the reason is kept in the section's history. "
        "Onboarding an existing section again with the same name changes nothing and answers 200.",
        request=SectionOnboardingSerializer,
        responses={201: SectionSerializer, 200: SectionSerializer},
    ),
    update=extend_schema(
        summary="Replace a section's settings",
        description="The section's editors; slug, status and host name only for platform admins.",
    ),
    partial_update=extend_schema(
        summary="Change some of a section's settings",
        description="The section's editors; slug, status and host name only for platform admins.",
    ),
)
class SectionViewSet(
    ApiViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """Sections: read those you may read, change those you edit, onboard new ones (platform admins)."""

    queryset = Section.objects.none()
    serializer_class = SectionSerializer
    filterset_class = SectionFilter
    ordering_fields = ["id", "name", "slug", "created"]
    ordering = ("name",)

    def get_queryset(self) -> QuerySet[Section]:
        return api_readable_sections(self.request)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if not is_platform_admin(request.user) or is_section_restricted(request):
            raise PermissionDenied("Only platform admins can onboard a section, with an unrestricted token.")
        onboarding = SectionOnboardingSerializer(data=request.data, context=self.get_serializer_context())
        onboarding.is_valid(raise_exception=True)
        data = onboarding.validated_data
        try:
            result = services.onboard_section(
                slug=data["slug"],
                name=data["name"],
                description=data["description"],
                editors_group=data["editors_group"],
                viewers_group=data["viewers_group"] or None,
                actor=request.user,
                reason=change_reason(request, f"Onboarded section {data['slug']} through the API"),
            )
        except services.OnboardingError as exc:
            raise as_api_validation_error(_onboarding_error(exc)) from None
        body = self.get_serializer(result.section).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    def perform_update(self, serializer: SectionSerializer) -> None:  # type: ignore[override]
        section = serializer.instance
        require_editor(self.request, section)
        changed = [name for name in ADMIN_ONLY_FIELDS if name in serializer.validated_data]
        changed = [name for name in changed if serializer.validated_data[name] != getattr(section, name)]
        if changed and not is_platform_admin(self.request.user):
            raise PermissionDenied(f"Only platform admins can change {', '.join(changed)}.")
        values = {k: v for k, v in serializer.validated_data.items() if k != "reason"}
        for name, value in values.items():
            setattr(section, name, value)
        try:
            services.save_section(section, actor=self.request.user, reason=change_reason(self.request, DEFAULT_REASON))
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None


def _onboarding_error(exc: services.OnboardingError) -> ValidationError:
    """The onboarding service's refusal, on the field it is about (the slug, mostly)."""
    message = str(exc)
    field = "slug" if message.startswith(("Slug", "The slug")) else "non_field_errors"
    return ValidationError({field: message})


class SectionRoleFilter(filters.FilterSet):
    section = filters.NumberFilter(field_name="section_id", label="Only this section's roles (its id).")
    section_slug = filters.CharFilter(field_name="section__slug", label="Only this section's roles (its slug).")
    role = filters.ChoiceFilter(choices=SectionRoleKind.choices, label="Only editor or only viewer roles.")
    group = filters.CharFilter(field_name="group__name", label="Only this group's roles (its name).")

    class Meta:
        model = SectionRole
        fields = ["section", "section_slug", "role", "group"]


@extend_schema_view(
    list=extend_schema(
        summary="List section roles",
        description="Which directory groups edit or may visit the sections you may read.",
    ),
    retrieve=extend_schema(summary="Read a section role", description="One role; 404 if you may not read its section."),
    create=extend_schema(
        summary="Grant a role",
        description="Give a directory group the editor or viewer role in a section you edit (granting a role the "
        "group already has changes nothing). The group must exist: directory groups appear when a member signs "
        "in, or when a section is onboarded with them.",
    ),
    destroy=extend_schema(
        summary="Revoke a role",
        description="Take the role away, with its object permissions. An optional JSON body "
        '`{"reason": "…"}` is recorded in the history.',
    ),
)
class SectionRoleViewSet(CreateListRetrieveDestroyViewSet):
    """Section roles: which groups edit or visit a section; granted and revoked by the section's editors."""

    queryset = SectionRole.objects.none()
    serializer_class = SectionRoleSerializer
    filterset_class = SectionRoleFilter
    ordering_fields = ["id", "created"]
    ordering = ("id",)

    def get_queryset(self) -> QuerySet[SectionRole]:
        return (
            SectionRole.objects.all_sections()
            .filter(section__in=api_readable_sections(self.request))
            .select_related("section", "group")
        )

    def perform_create(self, serializer: SectionRoleSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        require_editor(self.request, data["section"])
        serializer.instance = services.grant_section_role(
            data["section"],
            data["group"],
            data["role"],
            actor=self.request.user,
            reason=change_reason(self.request, "Granted through the API"),
        )

    def perform_destroy(self, instance: SectionRole) -> None:
        require_editor(self.request, instance.section)
        services.revoke_section_role(
            instance, actor=self.request.user, reason=change_reason(self.request, "Revoked through the API")
        )
