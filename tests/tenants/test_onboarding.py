"""Onboarding a team in one step: the service, the command and the admin page, with their bad inputs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from navigation.models import MenuItem
from tenants import services
from tenants.models import Page, Section, SectionRole, SectionStatus

pytestmark = pytest.mark.django_db


def test_service_creates_section_roles_home_page_and_menu_and_records_who():
    admin = get_user_model().objects.create_user("platform-admin", is_superuser=True, is_staff=True)
    result = services.onboard_section(
        slug="legal",
        name="Legal",
        editors_group="legal-editors",
        viewers_group="legal-staff",
        actor=admin,
        reason="Ticket ONB-42",
    )
    section = result.section
    assert result.created
    assert section.status == SectionStatus.ACTIVE
    assert section.onboarded_by == admin and section.onboarded_at is not None
    roles = {(r.group.name, r.role) for r in SectionRole.objects.all_sections().filter(section=section)}
    assert roles == {("legal-editors", "editor"), ("legal-staff", "viewer")}
    assert Page.objects.all_sections().filter(section=section, slug="home").exists()
    assert MenuItem.objects.all_sections().filter(section=section, label="Home").exists()
    created = section.history.earliest()
    assert created.history_user == admin and created.history_change_reason == "Ticket ONB-42"


def test_onboarding_twice_is_a_no_op():
    first = services.onboard_section(slug="legal", name="Legal", editors_group="legal-editors")
    version = Section.objects.get(pk=first.section.pk).config_version
    history_rows = first.section.history.count()
    second = services.onboard_section(slug="legal", name="Legal", editors_group="legal-editors")
    assert not second.created and second.section.pk == first.section.pk
    assert "Already onboarded" in second.summary
    assert Section.objects.count() == 1
    assert SectionRole.objects.all_sections().filter(section=first.section).count() == 1
    assert MenuItem.objects.all_sections().filter(section=first.section).count() == 1
    assert first.section.history.count() == history_rows
    assert Section.objects.get(pk=first.section.pk).config_version >= version


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("admin", "reserved"),
        ("api", "reserved"),
        ("-", "reserved"),
        ("metrics", "reserved"),
        ("Finance", "lowercase"),
        ("a", "lowercase"),
        ("bad slug", "lowercase"),
        ("x" * 60, "lowercase"),
        ("ends-", "lowercase"),
    ],
)
def test_bad_slugs_are_refused_with_a_clear_message(slug, message):
    with pytest.raises(services.OnboardingError, match=message):
        services.onboard_section(slug=slug, name="Whatever", editors_group="g")
    assert not Section.objects.exists()


def test_a_slug_taken_by_another_section_is_refused():
    services.onboard_section(slug="legal", name="Legal", editors_group="legal-editors")
    with pytest.raises(services.OnboardingError, match="already taken by the section “Legal”"):
        services.onboard_section(slug="legal", name="Legal Ops", editors_group="ops")
    assert Section.objects.get(slug="legal").name == "Legal"


def test_command_onboards_and_reports(capsys):
    call_command("onboard_section", "legal", "--name", "Legal", "--editors-group", "legal-editors")
    assert "Onboarded section “Legal” at /legal/." in capsys.readouterr().out
    call_command("onboard_section", "legal", "--name", "Legal", "--editors-group", "legal-editors")
    assert "Already onboarded" in capsys.readouterr().out
    entry = Section.objects.get(slug="legal").history.earliest()
    assert entry.history_change_reason == "Onboarded with manage.py onboard_section"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["legal", "--editors-group", "g"], "--name"),
        (["legal", "--name", "Legal"], "--editors-group"),
        ([], "slug"),
    ],
)
def test_command_with_missing_arguments_says_which(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("onboard_section", *args)


def test_command_with_reserved_slug_is_a_command_error():
    with pytest.raises(CommandError, match="reserved"):
        call_command("onboard_section", "static", "--name", "Static", "--editors-group", "g")


def test_command_with_unknown_actor_is_a_command_error():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("onboard_section", "legal", "--name", "Legal", "--editors-group", "g", "--actor", "nobody")


def test_platform_admin_onboards_from_the_admin(sign_in, db):
    admin = sign_in("admin")
    form = admin.get("/admin/tenants/section/onboard/")
    assert form.status_code == 200
    response = admin.post(
        "/admin/tenants/section/onboard/",
        {"slug": "legal", "name": "Legal", "editors_group": "legal-editors", "reason": "New team"},
    )
    assert response.status_code == 302
    section = Section.objects.get(slug="legal")
    assert section.onboarded_by.username == "admin"
    assert section.history.earliest().history_change_reason == "New team"


@pytest.mark.parametrize(("slug", "error"), [("admin", "reserved"), ("finance", "already taken")])
def test_admin_onboarding_form_shows_slug_errors(sign_in, demo, slug, error):
    admin = sign_in("admin")
    response = admin.post(
        "/admin/tenants/section/onboard/", {"slug": slug, "name": "Other", "editors_group": "x-editors"}
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    assert Section.objects.count() == 3


def test_section_editors_cannot_onboard(sign_in, demo):
    assert sign_in("fiona").get("/admin/tenants/section/onboard/").status_code == 403
