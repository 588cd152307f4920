"""The feedback pages: the button on every page, the triage list for section editors, "my reports", one report
with its screenshot, triage and comments; another section's report is a 404 on every page; the admin."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile

from feedback import services
from feedback.models import BugReport, Comment, Status
from tenants.models import Section

from .conftest import image_bytes

pytestmark = pytest.mark.django_db


def _report(section: str | None, reporter: str, **fields) -> BugReport:
    report = BugReport(
        section=Section.objects.get(slug=section) if section else None,
        reporter=get_user_model().objects.get(username=reporter),
        description=f"A problem in {section or 'the platform'}",
        **fields,
    )
    report.screenshot.save("shot.png", ContentFile(image_bytes()), save=False)
    report.save()
    return report


@pytest.fixture
def reports(user):
    for name in ("frank", "fiona", "hana", "admin", "audrey"):
        user(name)
    return {"finance": _report("finance", "frank"), "hr": _report("hr", "hana"), "platform": _report(None, "fiona")}


def test_every_page_offers_report_a_problem_with_the_section_and_request_id(sign_in, demo):
    client = sign_in("frank")
    response = client.get("/finance/")
    html = response.content.decode()
    assert 'id="atrium-feedback-open"' in html and "Report a problem" in html
    assert 'data-section="finance"' in html
    assert f'data-request-id="{response["X-Request-ID"]}"' in html
    assert "feedback/feedback.js" in html and "vendor/html-to-image/html-to-image.js" in html
    home = client.get("/").content.decode()
    assert 'id="atrium-feedback-open"' in home and 'data-section=""' in home


def test_signed_out_visitors_get_no_button(client, demo):
    html = client.get("/accounts/login/").content.decode()
    assert "atrium-feedback-open" not in html


def test_the_reporter_sees_their_own_reports_and_their_status(sign_in, reports):
    html = sign_in("frank").get("/feedback/mine/").content.decode()
    assert f'data-report-id="{reports["finance"].pk}"' in html
    assert f'data-report-id="{reports["hr"].pk}"' not in html
    assert 'data-status="new"' in html


def test_the_triage_list_holds_the_reports_of_the_sections_one_edits(sign_in, reports):
    html = sign_in("fiona").get("/feedback/").content.decode()
    assert f'data-report-id="{reports["finance"].pk}"' in html
    assert f'data-report-id="{reports["hr"].pk}"' not in html
    admin = sign_in("admin").get("/feedback/").content.decode()
    assert all(f'data-report-id="{r.pk}"' in admin for r in reports.values())


def test_the_triage_list_filters_and_hides_resolved_reports_by_default(sign_in, reports):
    BugReport.objects.all_sections().filter(pk=reports["finance"].pk).update(status=Status.RESOLVED)
    client = sign_in("fiona")
    assert f'data-report-id="{reports["finance"].pk}"' not in client.get("/feedback/").content.decode()
    everything = client.get("/feedback/?status=all").content.decode()
    assert f'data-report-id="{reports["finance"].pk}"' in everything


def test_a_viewer_who_edits_nothing_has_no_triage_page(sign_in, reports):
    assert sign_in("frank").get("/feedback/").status_code == 404


def test_another_sections_report_is_404_on_every_page(sign_in, reports):
    client = sign_in("fiona")
    hr = reports["hr"]
    assert client.get(f"/feedback/{hr.pk}/").status_code == 404
    assert client.get(f"/feedback/{hr.pk}/screenshot/").status_code == 404
    assert client.post(f"/feedback/{hr.pk}/update/", {"status": "triaged"}).status_code == 404
    assert client.post(f"/feedback/{hr.pk}/comment/", {"body": "Hello"}).status_code == 404
    assert client.get(f"/admin/feedback/bugreport/{hr.pk}/change/").status_code == 404
    hr.refresh_from_db()
    assert hr.status == Status.NEW and not Comment.objects.filter(report=hr).exists()


def test_the_reporter_reads_their_report_and_screenshot_but_cannot_triage(sign_in, reports):
    client = sign_in("frank")
    finance = reports["finance"]
    page = client.get(f"/feedback/{finance.pk}/")
    assert page.status_code == 200 and b"Triage this report" not in page.content
    shot = client.get(f"/feedback/{finance.pk}/screenshot/")
    assert shot.status_code == 200 and shot["Content-Type"] == "image/png"
    assert b"".join(shot.streaming_content).startswith(b"\x89PNG")
    assert client.post(f"/feedback/{finance.pk}/update/", {"status": "resolved"}).status_code == 404
    finance.refresh_from_db()
    assert finance.status == Status.NEW


def test_an_editor_triages_on_the_page_with_history(sign_in, reports):
    client = sign_in("fiona")
    finance = reports["finance"]
    fiona = get_user_model().objects.get(username="fiona")
    assert b"Triage this report" in client.get(f"/feedback/{finance.pk}/").content
    response = client.post(
        f"/feedback/{finance.pk}/update/", {"status": "triaged", "assignee": fiona.pk, "reason": "Weekly triage"}
    )
    assert response.status_code == 302
    finance.refresh_from_db()
    assert finance.status == Status.TRIAGED and finance.assignee == fiona
    latest = finance.history.latest("history_date")
    assert latest.history_user == fiona and latest.history_change_reason == "Weekly triage"
    # A step the workflow does not allow changes nothing and says why.
    client.post(f"/feedback/{finance.pk}/update/", {"status": "new", "assignee": fiona.pk})
    finance.refresh_from_db()
    assert finance.status == Status.TRIAGED
    page = client.get(f"/feedback/{finance.pk}/").content.decode()
    assert "Weekly triage" in page


def test_reporter_and_editor_comment_on_a_report(sign_in, reports):
    finance = reports["finance"]
    sign_in("frank").post(f"/feedback/{finance.pk}/comment/", {"body": "It happens every morning."})
    sign_in("fiona").post(f"/feedback/{finance.pk}/comment/", {"body": "Reproduced."})
    assert list(Comment.objects.filter(report=finance).values_list("author__username", "body")) == [
        ("frank", "It happens every morning."),
        ("fiona", "Reproduced."),
    ]
    assert Comment.history.count() == 2
    assert b"Reproduced." in sign_in("frank").get(f"/feedback/{finance.pk}/").content


def test_the_admin_lists_reports_with_filters_for_section_editors(sign_in, reports):
    client = sign_in("fiona")
    response = client.get("/admin/feedback/bugreport/?status__exact=new")
    assert response.status_code == 200
    listed = {r.pk for r in response.context["cl"].result_list}
    assert listed == {reports["finance"].pk}
    assert client.get("/admin/feedback/bugreport/add/").status_code == 403


def test_the_admin_refuses_a_transition_the_workflow_does_not_allow(sign_in, reports):
    finance = reports["finance"]
    BugReport.objects.all_sections().filter(pk=finance.pk).update(status=Status.RESOLVED)
    client = sign_in("fiona")
    url = f"/admin/feedback/bugreport/{finance.pk}/change/"
    refused = client.post(url, {"status": "new", "assignee": "", "change_reason": "x", **_inline_management()})
    assert refused.status_code == 200 and "cannot go from" in refused.content.decode()
    accepted = client.post(
        url, {"status": "triaged", "assignee": "", "change_reason": "Reopened", **_inline_management()}
    )
    assert accepted.status_code == 302, accepted.content.decode()[:2000]
    finance.refresh_from_db()
    assert finance.status == Status.TRIAGED
    assert finance.history.latest("history_date").history_change_reason == "Reopened"


def _inline_management() -> dict[str, str]:
    prefix = "comments"
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


# ---------------------------------------------------------------------------------------------------------------
# Mail routing
# ---------------------------------------------------------------------------------------------------------------
def test_mail_goes_to_the_sections_support_address_and_contacts(demo, user, mailoutbox):
    finance = Section.objects.get(slug="finance")
    finance.primary_contact = user("fiona")
    finance.save()
    report = _report("finance", "fiona")
    services.notify_support(report)
    assert mailoutbox[0].to == ["finance-portal@example.com", "fiona@example.com"]


def test_a_section_without_contacts_falls_back_to_support_and_admins(demo, user, settings, mailoutbox):
    settings.ADMINS = [("Ops", "ops@example.com")]
    user("frank")
    Section.objects.filter(slug="engineering").update(support_email="")
    report = _report("engineering", "frank")
    services.notify_support(report)
    assert mailoutbox[0].to == ["atrium-support@example.com", "ops@example.com"]


def test_submitting_mails_only_after_the_commit(demo, user, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = services.submit_report(reporter=user("frank"), section=Section.objects.get(slug="hr"), description="x")
    assert mailoutbox == [] and len(callbacks) == 1
    callbacks[0]()
    assert mailoutbox[0].to == ["hr-portal@example.com"] and f"#{report.pk}" in mailoutbox[0].subject
