"""The template components ({% load components %}), the showcase at /components/ and its sample-data endpoint."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, RequestFactory

from core.views_showcase import EXAMPLES, SAMPLE_COLUMNS, sample_rows

XSS = "<script>alert('x')</script>"
ESCAPED_XSS = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"


def render(source: str, **context: Any) -> str:
    return Template("{% load components %}" + source).render(Context(context))


def squash(html: str) -> str:
    """Whitespace-insensitive markup, so the assertions do not depend on the templates' indentation."""
    return re.sub(r"\s+", " ", html)


# ---------------------------------------------------------------------------------------------------------------
# Block components
# ---------------------------------------------------------------------------------------------------------------
def test_page_header_renders_title_subtitle_and_actions_and_escapes_the_title():
    html = squash(
        render(
            '{% page_header title=title subtitle="Finance" %}<a class="btn" href="/new/">New</a>{% endpage_header %}',
            title=XSS,
        )
    )
    assert f'<h1 class="h2 mb-1">{ESCAPED_XSS}</h1>' in html
    assert "Finance" in html
    assert '<a class="btn" href="/new/">New</a>' in html  # the body is template content, kept as written
    assert "<script>" not in html


def test_page_header_takes_a_heading_level_and_refuses_bad_arguments():
    assert "<h3 " in render('{% page_header title="T" level=3 %}{% endpage_header %}')
    with pytest.raises(TemplateSyntaxError, match="needs title"):
        render("{% page_header %}{% endpage_header %}")
    with pytest.raises(TemplateSyntaxError, match="does not take colour"):
        render('{% page_header title="T" colour="red" %}{% endpage_header %}')
    with pytest.raises(TemplateSyntaxError, match="keyword arguments only"):
        render('{% page_header "T" %}{% endpage_header %}')
    with pytest.raises(TemplateSyntaxError, match="level"):
        render('{% page_header title="T" level=9 %}{% endpage_header %}')


def test_card_renders_title_body_and_footer_slot():
    html = squash(
        render(
            '{% card title="Month-end" subtitle="Due soon" %}<p>Body {{ who }}</p>'
            '{% footer %}<a href="/x/">Open</a>{% endcard %}',
            who=XSS,
        )
    )
    assert '<h2 class="card-title h5">Month-end</h2>' in html
    assert '<p class="card-subtitle mb-2 text-body-secondary">Due soon</p>' in html
    assert f"<p>Body {ESCAPED_XSS}</p>" in html  # variables inside the body are escaped by the page's template
    assert '<div class="card-footer d-flex flex-wrap align-items-center gap-2"><a href="/x/">Open</a></div>' in html


def test_card_without_footer_or_title_has_neither_and_escapes_title():
    html = render("{% card %}Body{% endcard %}")
    assert "card-footer" not in html
    assert "card-title" not in html
    assert ESCAPED_XSS in render("{% card title=t %}x{% endcard %}", t=XSS)
    with pytest.raises(TemplateSyntaxError, match="twice"):
        render("{% card %}x{% footer %}y{% footer %}z{% endcard %}")


def test_alert_levels_roles_icons_and_dismiss_button():
    html = squash(render('{% alert level="danger" dismissible=True title=t %}Failed.{% endalert %}', t=XSS))
    assert 'class="alert alert-danger d-flex gap-2 alert-dismissible fade show"' in html
    assert 'role="alert"' in html
    assert "bi-exclamation-octagon" in html
    assert 'data-bs-dismiss="alert" aria-label="Close"' in html
    assert ESCAPED_XSS in html
    info = render("{% alert %}Note{% endalert %}")
    assert "alert-info" in info
    assert 'role="status"' in info
    assert "btn-close" not in info
    assert "alert-danger" in render('{% alert level="error" %}x{% endalert %}')  # Django's message tag
    assert "alert-info" in render('{% alert level="bogus" %}x{% endalert %}')


def test_modal_and_its_toggle():
    html = squash(
        render(
            '<button type="button" {% modal_toggle "confirm" %}>Open</button>'
            '{% modal id="confirm" title=t size="lg" %}<p>Sure?</p>{% footer %}<button>Yes</button>{% endmodal %}',
            t=XSS,
        )
    )
    assert '<button type="button" data-bs-toggle="modal" data-bs-target="#confirm">Open</button>' in html
    assert '<div class="modal fade" id="confirm" tabindex="-1" aria-labelledby="confirm-title">' in html
    assert "modal-dialog modal-lg" in html
    assert f'<h2 class="modal-title fs-5" id="confirm-title">{ESCAPED_XSS}</h2>' in html
    assert '<div class="modal-body"><p>Sure?</p></div>' in html
    assert "<button>Yes</button>" in html
    default = render('{% modal id="m" title="T" %}Body{% endmodal %}')
    assert 'data-bs-dismiss="modal">Close</button>' in default  # no footer slot: a Close button
    with pytest.raises(TemplateSyntaxError, match="size"):
        render('{% modal id="m" title="T" size="huge" %}x{% endmodal %}')
    assert 'data-bs-target="#&quot;&gt;x"' in render("{% modal_toggle i %}", i='">x')


# ---------------------------------------------------------------------------------------------------------------
# Inclusion components
# ---------------------------------------------------------------------------------------------------------------
def test_stat_tile_shows_value_delta_direction_and_icon():
    up = squash(render('{% stat_tile label="Open orders" value="1,284" delta="+4.2%" icon="cart" %}'))
    assert "Open orders" in up
    assert "1,284" in up
    assert "bi-arrow-up-right" in up
    assert "text-success-emphasis" in up
    assert '<span class="visually-hidden">Up:</span> +4.2%' in up
    assert "bi-cart" in up
    down_good = render('{% stat_tile label="Overdue" value=3 delta=-5 positive="down" %}')
    assert "bi-arrow-down-right" in down_good
    assert "text-success-emphasis" in down_good
    down_bad = render('{% stat_tile label="Sales" value=3 delta="-5%" %}')
    assert "text-danger-emphasis" in down_bad
    plain = render('{% stat_tile label="Refreshed" value="06:00" %}')
    assert "bi-arrow" not in plain
    assert ESCAPED_XSS in render("{% stat_tile label=l value=v %}", l=XSS, v=XSS)
    with pytest.raises(TemplateSyntaxError, match="direction"):
        render('{% stat_tile label="x" value=1 delta=1 direction="sideways" %}')


def test_data_table_server_side_shell():
    html = squash(
        render(
            '{% data_table columns caption="Orders" ajax_url="/components/sample-data/" page_length=25 id="t1" %}',
            columns=[("id", "#"), ("customer", "Customer"), ("amount", "Amount", {"class_name": "text-end"})],
        )
    )
    assert 'id="t1" data-atrium-datatable data-ajax-url="/components/sample-data/" data-page-length="25"' in html
    assert '<caption class="visually-hidden">Orders</caption>' in html
    assert re.search(r'<th scope="col" data-column="id"\s*>\s*#\s*</th>', html)
    assert 'data-column="amount" data-class-name="text-end" class="text-end"' in html
    assert "<td>" not in html  # the server fills the rows


def test_data_table_client_side_rows_are_rendered_and_escaped():
    html = render(
        "{% data_table columns caption=c rows=rows show_caption=True %}",
        columns=[("name", "Name"), ("team", "Team", {"orderable": False})],
        rows=[{"name": XSS, "team": "Finance"}, ("Bob", "Sales")],
        c=XSS,
    )
    assert "data-ajax-url" not in html
    assert f"<td>{ESCAPED_XSS}</td>" in html
    assert "<td>Sales</td>" in html
    assert 'data-orderable="false"' in html
    assert f'<caption class="caption-top">{ESCAPED_XSS}</caption>' in html
    assert re.search(r'id="atrium-table-[0-9a-f]{8}"', html)  # an id even when none is given
    with pytest.raises(TemplateSyntaxError, match="between 1 and 100"):
        render('{% data_table columns caption="x" page_length=500 %}', columns=[("a", "A")])
    with pytest.raises(TemplateSyntaxError, match="column"):
        render('{% data_table columns caption="x" %}', columns=["a"])


def test_chart_with_data_writes_json_script_that_cannot_close_the_script_element():
    data = {"labels": ["</script><script>alert(1)</script>"], "datasets": [{"label": "n", "data": [1]}]}
    html = squash(render('{% chart "bar" data=data label=l id="c1" %}', data=data, l=XSS))
    assert (
        f'<canvas id="c1" data-atrium-chart data-chart-type="bar" data-chart-data-id="c1-data" role="img" '
        f'aria-label="{ESCAPED_XSS}">{ESCAPED_XSS}</canvas>'
    ) in html
    assert '<script id="c1-data" type="application/json">' in html
    assert "\\u003C/script\\u003E" in html  # json_script escapes <, > and &
    assert html.count("<script") == 1
    assert '<div class="ratio ratio-16x9">' in html


def test_chart_with_url_and_bad_arguments():
    html = render('{% chart "doughnut" url="/x/data/" label="Share" ratio="4x3" %}')
    assert 'data-chart-url="/x/data/"' in html
    assert "<script" not in html
    assert "ratio-4x3" in html
    with pytest.raises(TemplateSyntaxError, match="chart type"):
        render('{% chart "radar3d" url="/x/" label="x" %}')
    with pytest.raises(TemplateSyntaxError, match="exactly one"):
        render('{% chart "bar" label="x" %}')
    with pytest.raises(TemplateSyntaxError, match="exactly one"):
        render('{% chart "bar" url="/x/" data=d label="x" %}', d={})


def test_empty_state_with_and_without_action():
    html = squash(
        render(
            '{% empty_state title=t text="Nothing yet." icon="bar-chart" action_url="/new/" action_label="Create" %}',
            t=XSS,
        )
    )
    assert '<i class="bi bi-bar-chart display-5 text-body-secondary" aria-hidden="true"></i>' in html
    assert f'<h2 class="h5 mt-3">{ESCAPED_XSS}</h2>' in html
    assert "Nothing yet." in html
    assert '<a class="btn btn-primary" href="/new/">Create</a>' in html
    assert "btn" not in render('{% empty_state title="None" %}')
    with pytest.raises(TemplateSyntaxError, match="action_label"):
        render('{% empty_state title="x" action_url="/y/" %}')


class DemoForm(forms.Form):
    name = forms.CharField(label="Name", help_text="As on invoices.")
    team = forms.ChoiceField(choices=[("a", "Alpha"), ("b", "Beta")])
    frequency = forms.ChoiceField(choices=[("d", "Daily"), ("w", "Weekly")], widget=forms.RadioSelect)
    notes = forms.CharField(widget=forms.Textarea, required=False)
    notify = forms.BooleanField(label="Notify me", required=False)


def test_form_field_text_input_with_help_and_error_is_wired_for_screen_readers():
    form = DemoForm({"name": ""})
    html = squash(render("{% form_field form.name %}", form=form))
    assert '<label class="form-label" for="id_name">' in html
    assert 'class="form-control is-invalid"' in html
    assert 'aria-invalid="true"' in html
    assert 'aria-describedby="id_name_helptext id_name_error"' in html
    assert (
        '<div class="invalid-feedback" id="id_name_error"> <p class="mb-0">This field is required.</p> </div>' in html
    )
    assert '<div class="form-text" id="id_name_helptext">As on invoices.</div>' in html
    assert 'aria-hidden="true">*</span>' in html  # required marker; the input itself says `required`


def test_form_field_select_textarea_checkbox_and_radio():
    form = DemoForm({"name": "x", "team": XSS, "frequency": "d", "notify": "on"})
    select = squash(render("{% form_field form.team %}", form=form))
    assert 'class="form-select is-invalid"' in select
    assert "&lt;script&gt;" in select  # the error message repeats the submitted value: escaped
    assert "<script>" not in select
    textarea = render("{% form_field form.notes %}", form=form)
    assert re.search(r'<textarea[^>]*class="form-control"', textarea)
    checkbox = squash(render("{% form_field form.notify %}", form=form))
    assert '<div class="form-check">' in checkbox
    assert 'class="form-check-input"' in checkbox
    assert '<label class="form-check-label" for="id_notify">' in checkbox
    radio = squash(render("{% form_field form.frequency %}", form=form))
    assert "<fieldset" in radio
    assert "<legend" in radio
    assert radio.count('class="form-check-input"') == 2
    assert '<label class="form-check-label" for="id_frequency_1">Weekly</label>' in radio


def test_form_field_label_override_and_type_check():
    html = render("{% form_field form.name label=l hide_label=True %}", form=DemoForm(), l=XSS)
    assert ESCAPED_XSS in html
    assert "form-label visually-hidden" in html
    with pytest.raises(TemplateSyntaxError, match="form's field"):
        render("{% form_field form.missing %}", form=DemoForm())


def test_pagination_keeps_other_query_parameters_and_marks_the_current_page():
    request = RequestFactory().get("/list/", {"q": "<b>", "sort": "name", "page": "4"})
    page = Paginator(range(200), 5).get_page(4)
    html = squash(render('{% pagination page fragment="results" %}', page=page, request=request))
    assert '<nav aria-label="Pagination">' in html
    assert '<li class="page-item active" aria-current="page"> <span class="page-link">4</span>' in html
    assert 'href="?q=%3Cb%3E&amp;sort=name&amp;page=3#results" rel="prev"' in html
    assert 'href="?q=%3Cb%3E&amp;sort=name&amp;page=5#results" rel="next"' in html
    assert 'page=40#results">40</a>' in html
    assert "…" in html  # elided range
    first = squash(render("{% pagination page %}", page=Paginator(range(20), 5).get_page(1)))
    assert '<li class="page-item disabled"> <span class="page-link">Previous</span>' in first
    assert render("{% pagination page %}", page=Paginator(range(3), 5).get_page(1)).strip() == ""
    with pytest.raises(TemplateSyntaxError, match="Page"):
        render("{% pagination items %}", items=[1, 2])


def test_breadcrumbs_link_all_but_the_current_page():
    html = squash(render("{% breadcrumbs trail %}", trail=[("Home", "/"), ("Reports", None), (XSS, "/r/1/")]))
    assert '<nav aria-label="Breadcrumb">' in html
    assert '<li class="breadcrumb-item"> <a href="/">Home</a> </li>' in html
    assert '<li class="breadcrumb-item">Reports</li>' in html
    assert f'<li class="breadcrumb-item active" aria-current="page">{ESCAPED_XSS}</li>' in html
    assert 'href="/r/1/"' not in html
    with pytest.raises(TemplateSyntaxError, match="pair"):
        render("{% breadcrumbs trail %}", trail=["Home"])


def test_tooltip_and_popover_attributes_are_escaped():
    tip = render('<button {% tooltip t placement="bottom" %}>i</button>', t='"><script>x</script>')
    assert tip == (
        '<button data-bs-toggle="tooltip" data-bs-placement="bottom" '
        'data-bs-title="&quot;&gt;&lt;script&gt;x&lt;/script&gt;">i</button>'
    )
    pop = render('<button {% popover c title=t trigger="focus" %}>i</button>', c=XSS, t="<i>T</i>")
    assert 'data-bs-toggle="popover" data-bs-placement="right" data-bs-trigger="focus"' in pop
    assert f'data-bs-content="{ESCAPED_XSS}"' in pop
    assert 'data-bs-title="&lt;i&gt;T&lt;/i&gt;"' in pop
    with pytest.raises(TemplateSyntaxError, match="placement"):
        render('{% tooltip "x" placement="middle" %}')


# ---------------------------------------------------------------------------------------------------------------
# The showcase page
# ---------------------------------------------------------------------------------------------------------------
@pytest.fixture
def fiona(demo: None, sign_in: Any) -> Client:
    return sign_in("fiona")


def test_showcase_needs_a_signed_in_user(client: Client, db: Any) -> None:
    response = client.get("/components/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/components/")
    assert client.get("/components/sample-data/?draw=1").status_code == 401


def test_showcase_renders_every_component_with_its_code_and_light_and_dark_previews(fiona: Client) -> None:
    response = fiona.get("/components/")
    assert response.status_code == 200
    html = squash(response.content.decode())
    for example in EXAMPLES:
        assert f'<section id="{example.slug}"' in html
        assert f'data-showcase-live="{example.slug}"' in html
    assert html.count('data-bs-theme="light"') >= len(EXAMPLES)
    assert html.count('data-bs-theme="dark"') >= len(EXAMPLES)
    # The code is shown escaped, exactly as the example template that rendered it.
    assert "{% chart &quot;bar&quot; data=orders_by_month" in html
    assert "&lt;div class=&quot;row g-4&quot;&gt;" in html
    for marker in (
        'data-atrium-datatable data-ajax-url="/components/sample-data/"',
        'id="orders-chart"',
        'data-chart-type="doughnut"',
        'data-bs-toggle="tooltip"',
        'data-bs-toggle="popover"',
        'id="archive-report"',
        'aria-label="Pagination"',
        'aria-label="Breadcrumb"',
    ):
        assert marker in html, marker
    assert "follows the colour-mode switch in the header" in html
    assert "Revenue &lt;b&gt;by&lt;/b&gt; region" in html  # the escaping demonstration card


def test_showcase_has_no_inline_script_except_json_data(fiona: Client) -> None:
    html = fiona.get("/components/").content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the page loads its scripts"
    inline = [tag for tag in scripts if "src=" not in tag and 'type="application/json"' not in tag]
    assert inline == []
    assert 'type="application/json"' in html  # the chart data
    for vendor in (
        "vendor/datatables/dataTables.min.js",
        "vendor/datatables-bs5/js/dataTables.bootstrap5.min.js",
        "vendor/chart.js/chart.umd.min.js",
        "core/js/components.js",
        "vendor/datatables-bs5/css/dataTables.bootstrap5.min.css",
    ):
        assert vendor in html
    assert not re.search(r"\sstyle=", html)  # no inline style attributes either (style-src 'self')


def test_showcase_ids_are_unique(fiona: Client) -> None:
    html = fiona.get("/components/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    duplicates = {i for i in ids if ids.count(i) > 1}
    assert duplicates == set()


def test_showcase_pagination_keeps_other_query_parameters(fiona: Client) -> None:
    html = fiona.get("/components/", {"page": "3", "view": "compact"}).content.decode()
    assert 'href="?page=2&amp;view=compact#pagination"' in html
    assert "#11 ·" in html  # page 3 of 5 per page starts at order 11


def test_showcase_form_validates_on_post_and_saves_nothing(fiona: Client) -> None:
    invalid = fiona.post("/components/", {"name": "", "team": "finance", "frequency": "daily"})
    assert invalid.status_code == 200
    assert "This field is required." in invalid.content.decode()
    valid = fiona.post("/components/", {"name": "Sales", "team": "finance", "frequency": "daily"})
    assert valid.status_code == 302
    assert valid["Location"] == "/components/#form-fields"


def test_docs_show_the_same_snippets_as_the_showcase() -> None:
    howto = (Path(settings.BASE_DIR) / "docs" / "howto" / "components.md").read_text(encoding="utf-8")
    templates = Path(settings.BASE_DIR) / "platform" / "core" / "templates" / "core" / "showcase"
    for example in EXAMPLES:
        snippet = (templates / f"{example.slug}.html").read_text(encoding="utf-8").strip()
        assert snippet in howto, f"docs/howto/components.md lacks the {example.slug} example"
    assert "/components/" in howto


# ---------------------------------------------------------------------------------------------------------------
# The sample-data endpoint (DataTables' server-side protocol)
# ---------------------------------------------------------------------------------------------------------------
def table_request(client: Client, params: dict[str, Any]) -> Any:
    query = {"draw": "1", "start": "0", "length": "10", "search[value]": "", "search[regex]": "false"}
    query.update({key: str(value) for key, value in params.items()})
    return client.get("/components/sample-data/", query)


def test_sample_data_answers_a_realistic_datatables_request(fiona: Client) -> None:
    query = {"draw": "3", "start": "10", "length": "10", "search[value]": "", "search[regex]": "false", "_": "17"}
    for i, column in enumerate(SAMPLE_COLUMNS):
        query |= {
            f"columns[{i}][data]": column.name,
            f"columns[{i}][name]": column.name,
            f"columns[{i}][searchable]": "true",
            f"columns[{i}][orderable]": "true",
            f"columns[{i}][search][value]": "",
            f"columns[{i}][search][regex]": "false",
        }
    query |= {"order[0][column]": "0", "order[0][dir]": "asc", "order[0][name]": "id"}
    response = fiona.get("/components/sample-data/", query)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["draw"] == 3
    assert body["recordsTotal"] == body["recordsFiltered"] == 200
    assert [row["id"] for row in body["data"]] == list(range(11, 21))
    assert set(body["data"][0]) == {c.name for c in SAMPLE_COLUMNS}
    assert re.fullmatch(r"\d+\.\d\d", body["data"][0]["amount"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", body["data"][0]["updated"])


def test_sample_data_pages(fiona: Client) -> None:
    last = table_request(fiona, {"start": 195, "length": 10}).json()
    assert [row["id"] for row in last["data"]] == [196, 197, 198, 199, 200]
    beyond = table_request(fiona, {"start": 500}).json()
    assert beyond["data"] == []
    assert beyond["recordsFiltered"] == 200


def test_sample_data_sorts_by_one_or_more_columns(fiona: Client) -> None:
    newest_id = table_request(fiona, {"order[0][column]": 0, "order[0][dir]": "desc"}).json()
    assert newest_id["data"][0]["id"] == 200
    by_amount = table_request(fiona, {"length": 100, "order[0][column]": 5, "order[0][dir]": "asc"}).json()
    amounts = [float(row["amount"]) for row in by_amount["data"]]
    assert amounts == sorted(amounts)
    two_keys = table_request(
        fiona,
        {"length": 100, "order[0][column]": 3, "order[0][dir]": "asc", "order[1][column]": 0, "order[1][dir]": "desc"},
    ).json()
    keys = [(row["region"].casefold(), -row["id"]) for row in two_keys["data"]]
    assert keys == sorted(keys)


def test_sample_data_searches_case_insensitively(fiona: Client) -> None:
    body = table_request(fiona, {"length": 100, "search[value]": "ON hold"}).json()
    expected = sum(1 for row in sample_rows() if row["status"] == "On hold")
    assert 0 < body["recordsFiltered"] == expected < 200
    assert body["recordsTotal"] == 200
    assert all(row["status"] == "On hold" for row in body["data"])
    nothing = table_request(fiona, {"search[value]": XSS}).json()
    assert nothing["recordsFiltered"] == 0
    assert nothing["data"] == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"start": "-1"}, "start"),
        ({"length": "1000"}, "length"),
        ({"length": "101"}, "length"),
        ({"length": "-1"}, "length"),
        ({"length": "0"}, "length"),
        ({"draw": "abc"}, "draw"),
        ({"draw": ""}, "draw"),
        ({"order[0][column]": "7"}, "order[0][column]"),
        ({"order[0][column]": "x"}, "order[0][column]"),
        ({"order[0][column]": "0", "order[0][dir]": "sideways"}, "order[0][dir]"),
        ({"order[0][column]": "0", "order[0][name]": "customer"}, "order[0][name]"),
        ({"order[1][column]": "0"}, "order"),
        ({"search[value]": "x" * 201}, "search[value]"),
        ({"search[regex]": "true"}, "search[regex]"),
        ({"columns[0][data]": "secret"}, "columns[0][data]"),
        ({"columns[9][data]": "id"}, "columns[9][data]"),
        ({"columns[1][search][value]": "x"}, "columns[1][search][value]"),
    ],
)
def test_sample_data_answers_400_problem_details_for_bad_parameters(
    fiona: Client, params: dict[str, str], parameter: str
) -> None:
    query = {"draw": "1", "start": "0", "length": "10"} | params
    response = fiona.get("/components/sample-data/", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    body = json.loads(response.content)
    assert body["type"] == "about:blank"
    assert body["title"] == "Bad Request"
    assert body["status"] == 400
    assert parameter in body["detail"]
    assert parameter in [p["name"] for p in body["invalid_params"]]


def test_sample_data_reports_every_bad_parameter_at_once(fiona: Client) -> None:
    body = fiona.get("/components/sample-data/", {"draw": "x", "start": "-5", "length": "1000"}).json()
    assert {p["name"] for p in body["invalid_params"]} == {"draw", "start", "length"}


def test_sample_data_is_read_only(fiona: Client) -> None:
    assert fiona.post("/components/sample-data/", {"draw": "1"}).status_code == 405
