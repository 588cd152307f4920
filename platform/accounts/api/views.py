"""The caller's own API tokens: list, read, create (the secret is answered once) and revoke (DELETE)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import ApiToken, TokenScope
from accounts.tokens import create_token, revoke_token, tokens_of
from api.authentication import token_of
from api.viewsets import CreateListRetrieveDestroyViewSet, as_api_validation_error

from .serializers import ApiTokenCreateSerializer, ApiTokenSerializer


class ApiTokenFilter(filters.FilterSet):
    active = filters.BooleanFilter(method="filter_active", label="Only active (true) or only inactive (false) tokens.")
    scope = filters.ChoiceFilter(choices=TokenScope.choices, label="Only read or only write tokens.")
    section = filters.NumberFilter(field_name="section_id", label="Only tokens restricted to this section (its id).")

    class Meta:
        model = ApiToken
        fields = ["scope", "section"]

    def filter_active(self, queryset: QuerySet[ApiToken], name: str, value: bool) -> QuerySet[ApiToken]:
        live = {"revoked_at__isnull": True, "expires_at__gt": timezone.now()}
        return queryset.filter(**live) if value else queryset.exclude(**live)


@extend_schema_view(
    list=extend_schema(summary="List your API tokens", description="Your tokens, newest first, revoked ones too."),
    retrieve=extend_schema(summary="Read one of your API tokens", description="Another person's token is a 404."),
    create=extend_schema(
        summary="Create an API token",
        description="The response's `token` is the secret: it is shown this once and never stored. A token that "
        "creates a token cannot give it a wider scope, another section, other addresses or a longer life than its "
        "own. Expiry: at most API_TOKEN_MAX_DAYS (365) days, 90 by default.",
        request=ApiTokenCreateSerializer,
        responses={201: ApiTokenCreateSerializer},
    ),
    destroy=extend_schema(
        summary="Revoke an API token",
        description="The token stops working at once (a token may revoke itself). Revoking twice changes nothing.",
    ),
)
class ApiTokenViewSet(CreateListRetrieveDestroyViewSet):
    """Your personal API tokens: list, create (the secret is answered once) and revoke."""

    # The model, for the schema and the filters; requests get the caller's own tokens (get_queryset).
    queryset = ApiToken.objects.none()
    serializer_class = ApiTokenSerializer
    filterset_class = ApiTokenFilter
    ordering_fields = ["id", "created", "expires_at"]
    ordering = ("-created",)
    # People manage their own credentials: auditors included (their tokens still only read).
    personal = True

    def get_queryset(self) -> QuerySet[ApiToken]:
        return tokens_of(self.request.user)

    def get_serializer_class(self) -> Any:
        return ApiTokenCreateSerializer if self.action == "create" else ApiTokenSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            new = create_token(
                request.user,
                name=data["name"],
                scope=data.get("scope", "read"),
                expires_at=data.get("expires_at"),
                section=data.get("section"),
                allowed_ips=data.get("allowed_ips", ""),
                request=request._request,
                creator_token=token_of(request),
            )
        except ValidationError as exc:
            raise as_api_validation_error(exc) from None
        body = ApiTokenCreateSerializer(
            new.token, context={**self.get_serializer_context(), "plaintext": new.plaintext}
        )
        return Response(body.data, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    def perform_destroy(self, instance: ApiToken) -> None:
        revoke_token(instance, actor=self.request.user, request=self.request._request)
