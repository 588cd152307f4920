"""Themes through the API (everyone signed in reads them, platform admins change them) and the caller's own display
preferences. Every write goes through themes.services."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import is_section_restricted
from api.viewsets import ApiViewSetMixin, as_api_validation_error, change_reason
from tenants.permissions import is_platform_admin
from themes import services
from themes.models import Theme, UserPreference

from .serializers import PreferenceSerializer, ThemeSerializer


def require_platform_admin(request: Request) -> None:
    """403 unless a platform admin calls with a token that is not restricted to one section."""
    if not is_platform_admin(request.user) or is_section_restricted(request):
        raise PermissionDenied("Only platform admins can change themes, with a token not restricted to a section.")


class ThemeFilter(filters.FilterSet):
    slug = filters.CharFilter(label="The theme with this slug.")
    is_default = filters.BooleanFilter(label="Only the platform default (true) or only the others (false).")
    package = filters.CharFilter(label="Only themes using this package (empty: none).")

    class Meta:
        model = Theme
        fields = ["slug", "is_default", "package"]


@extend_schema_view(
    list=extend_schema(summary="List themes", description="Every theme; anyone signed in may read them."),
    retrieve=extend_schema(summary="Read a theme", description="One theme."),
    create=extend_schema(
        summary="Add a theme",
        description="Platform admins only. Colours are #rrggbb; `package` must name a theme package installed in "
        "themes/packages/. Making it the default takes the default from the others. The `reason` is kept in the "
        "history.",
    ),
    update=extend_schema(summary="Replace a theme", description="Platform admins only."),
    partial_update=extend_schema(summary="Change some of a theme", description="Platform admins only."),
    destroy=extend_schema(
        summary="Delete a theme",
        description="Platform admins only; the default theme cannot be deleted (choose another default first). "
        "Users and sections that chose it fall back to the default.",
    ),
)
class ThemeViewSet(ApiViewSetMixin, viewsets.ModelViewSet):  # type: ignore[type-arg]
    """Themes: read by everyone signed in, changed by platform admins."""

    queryset = Theme.objects.all()
    serializer_class = ThemeSerializer
    filterset_class = ThemeFilter
    ordering_fields = ["id", "name", "slug", "created", "updated"]
    ordering = ("name",)

    def perform_create(self, serializer: ThemeSerializer) -> None:  # type: ignore[override]
        require_platform_admin(self.request)
        data = {k: v for k, v in serializer.validated_data.items() if k != "reason"}
        self._save(serializer, Theme(**data), "Added through the API")

    def perform_update(self, serializer: ThemeSerializer) -> None:  # type: ignore[override]
        require_platform_admin(self.request)
        theme: Theme = serializer.instance  # type: ignore[assignment]
        for name, value in serializer.validated_data.items():
            if name != "reason":
                setattr(theme, name, value)
        self._save(serializer, theme, "Changed through the API")

    def _save(self, serializer: ThemeSerializer, theme: Theme, default_reason: str) -> None:
        try:
            services.save_theme(theme, actor=self.request.user, reason=change_reason(self.request, default_reason))
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None
        serializer.instance = theme

    def perform_destroy(self, instance: Theme) -> None:
        require_platform_admin(self.request)
        if instance.is_default:
            raise as_api_validation_error(
                ValidationError("The default theme cannot be deleted: make another theme the default first.")
            )
        services.delete_theme(
            instance, actor=self.request.user, reason=change_reason(self.request, "Deleted through the API")
        )


@extend_schema_view(
    list=extend_schema(
        summary="List your preferences",
        description="Your own display preferences as a list of at most one row (empty until you first save one). "
        "`GET /api/v1/preferences/me/` answers them directly, with the defaults when none are saved.",
    ),
)
class PreferenceViewSet(ApiViewSetMixin, mixins.ListModelMixin, viewsets.GenericViewSet):  # type: ignore[type-arg]
    """The caller's own display preferences (colour mode, theme, sidebar); nobody reads another person's."""

    queryset = UserPreference.objects.none()
    serializer_class = PreferenceSerializer
    ordering_fields = ["id"]
    ordering = ("id",)
    # People manage their own display choices: auditors included (a read token still only reads).
    personal = True

    def get_queryset(self) -> QuerySet[UserPreference]:
        return UserPreference.objects.filter(user=self.request.user).select_related("theme")

    @extend_schema(
        methods=["GET"],
        summary="Read your preferences",
        description="Your colour mode, theme and sidebar state; the defaults when you never saved any.",
    )
    @extend_schema(
        methods=["PATCH"],
        summary="Change your preferences",
        description="Send only what changes. They apply on every device you sign in on.",
    )
    @action(detail=False, methods=["get", "patch"], url_path="me", filter_backends=[], pagination_class=None)
    def me(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        current = self.get_queryset().first() or UserPreference(user=request.user)
        if request.method == "GET":
            return Response(self.get_serializer(current).data)
        serializer = self.get_serializer(current, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            saved = services.save_preference(request.user, **serializer.validated_data)
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None
        return Response(self.get_serializer(saved).data)
