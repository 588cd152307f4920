"""Write paths for themes and user preferences."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from core.services import delete_with_history, run_in_transaction, save_with_history

from .models import Theme, UserPreference
from .resolution import forget_default_theme, forget_user_preference


def save_theme(theme: Theme, *, actor: Any, reason: str) -> Theme:
    """Create or change a theme; making it the default takes the default away from the others."""

    def work() -> Theme:
        if theme.is_default:
            for other in Theme.objects.filter(is_default=True).exclude(pk=theme.pk):
                other.is_default = False
                save_with_history(other, actor=actor, reason=reason)
        save_with_history(theme, actor=actor, reason=reason)
        _bump_sections_using(Theme.objects.filter(pk=theme.pk))
        return theme

    result = run_in_transaction(work)
    forget_default_theme()
    return result


def delete_theme(theme: Theme, *, actor: Any, reason: str) -> None:
    def work() -> None:
        _bump_sections_using(Theme.objects.filter(pk=theme.pk))
        delete_with_history(theme, actor=actor, reason=reason)

    run_in_transaction(work)
    forget_default_theme()


def _bump_sections_using(themes: QuerySet[Theme]) -> None:
    from tenants.models import Section
    from tenants.services import bump_config_version

    for section in Section.objects.filter(default_theme__in=themes):
        bump_config_version(section)


def save_preference(user: Any, **changes: Any) -> UserPreference:
    """Change some of the user's display preferences (colour mode, theme, sidebar)."""

    def work() -> UserPreference:
        preference, _ = UserPreference.objects.get_or_create(user=user)
        for key, value in changes.items():
            setattr(preference, key, value)
        preference.full_clean()
        preference.save()
        return preference

    preference = run_in_transaction(work)
    forget_user_preference(user)
    return preference
