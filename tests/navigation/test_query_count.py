"""A warm section page with a 60-item, three-level menu costs at most 3 queries in total."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from navigation import services
from navigation.models import MenuItem
from tenants.models import Section

pytestmark = pytest.mark.django_db


def build_big_menu(section: Section, groups: list[Group]) -> None:
    """60 items: 6 top-level, each with 3 children with 2 grandchildren (6 + 18 + 36), some group-mapped."""
    count = 0
    for i in range(6):
        top = MenuItem(section=section, label=f"Area {i}", route_name="home", icon="folder")
        services.save_menu_item(top, actor=None, reason="bench", groups=groups[i % 2 : i % 2 + 1] if i % 3 else [])
        count += 1
        for j in range(3):
            child = MenuItem(section=section, parent=top, label=f"Topic {i}.{j}", route_name="home")
            services.save_menu_item(child, actor=None, reason="bench")
            count += 1
            for k in range(2):
                leaf = MenuItem(section=section, parent=child, label=f"Page {i}.{j}.{k}", url="https://example.com/")
                services.save_menu_item(leaf, actor=None, reason="bench", groups=groups if k else [])
                count += 1
    assert count == 60


def test_warm_section_page_with_60_item_menu_costs_at_most_3_queries(demo, sign_in):
    finance = Section.objects.get(slug="finance")
    MenuItem.objects.all_sections().filter(section=finance).delete()
    groups = list(Group.objects.filter(name__in=["finance-staff", "finance-editors"]))
    build_big_menu(finance, groups)
    fiona = sign_in("fiona")
    first = fiona.get("/finance/")
    assert first.status_code == 200 and "Page 5.2.1" in first.content.decode()
    fiona.get("/finance/")  # everything cacheable is now cached
    with CaptureQueriesContext(connection) as queries:
        response = fiona.get("/finance/")
    assert response.status_code == 200 and "Page 5.2.1" in response.content.decode()
    assert len(queries) <= 3, "\n".join(q["sql"] for q in queries)
    assert len(queries) == 1, "today: only the user with their group ids (docs/performance.md)"
