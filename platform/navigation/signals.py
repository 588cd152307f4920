"""Adds a starter menu to every newly onboarded section."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from core.services import save_with_history
from tenants.models import Page, Section
from tenants.signals import section_onboarded

from .models import MenuItem


@receiver(section_onboarded)
def add_starter_menu(sender: type, section: Section, actor: Any, reason: str, **kwargs: Any) -> None:
    """A "Home" entry pointing at the section's home page, so the menu is never empty on day one."""
    if MenuItem.objects.all_sections().filter(section=section).exists():
        return
    home = Page.objects.all_sections().filter(section=section, slug="home").first()
    item = MenuItem(section=section, label="Home", icon="house", page=home, order=10)
    save_with_history(item, actor=actor, reason=reason)
