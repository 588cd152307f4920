"""The component showcase (/components/) and its sample-data endpoint, which is also the reference implementation of
DataTables' server-side protocol for report tables.

The showcase renders each component from a small example template in `core/templates/core/showcase/`, and shows
that same template's source as the code to copy, so the code on the page can never drift from what it renders.
The sample data is a generated in-memory list: the showcase never touches the database.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template import Context, loader
from django.urls import reverse
from django.utils.safestring import SafeString
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.datatables import InvalidParams, TableQuery, parse_table_query
from core.problems import problem
from core.templatetags.components import Column


def answer_table_query(
    table: TableQuery, rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]
) -> dict[str, Any]:
    """Search, sort and slice in-memory rows into DataTables' response shape. A report over the database does the
    same with a queryset: filter, order_by, then [start:start + length] and two counts."""
    searchable = [c.name for c in columns if c.searchable]
    needle = table.search.strip().casefold()
    found = [row for row in rows if _matches(row, searchable, needle)] if needle else list(rows)
    # Python's sort is stable, so sorting by the least significant key first gives the multi-column order.
    for column, descending in reversed(table.order):
        found.sort(key=_sort_key(column.name), reverse=descending)
    page = found[table.start : table.start + table.length]
    return {
        "draw": table.draw,
        "recordsTotal": len(rows),
        "recordsFiltered": len(found),
        "data": [{c.name: _json_value(row[c.name]) for c in columns} for row in page],
    }


def _matches(row: Mapping[str, Any], names: Sequence[str], needle: str) -> bool:
    # Search what the reader sees (the JSON form: "1234.50", "2025-03-01"), case-insensitively.
    return any(needle in str(_json_value(row[name])).casefold() for name in names)


def _sort_key(name: str) -> Callable[[Mapping[str, Any]], Any]:
    def key(row: Mapping[str, Any]) -> Any:
        value = row[name]
        return value.casefold() if isinstance(value, str) else value

    return key


def _json_value(value: Any) -> Any:
    # Money as a decimal string ("1234.50"), dates as ISO 8601: exact, and what a JSON client expects.
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


# ---------------------------------------------------------------------------------------------------------------
# Sample data: 200 generated orders, the same on every call (no randomness, no database)
# ---------------------------------------------------------------------------------------------------------------
SAMPLE_COLUMNS: tuple[Column, ...] = (
    Column("id", "#"),
    Column("customer", "Customer"),
    Column("team", "Team"),
    Column("region", "Region"),
    Column("status", "Status"),
    Column("amount", "Amount (EUR)", class_name="text-end"),
    Column("updated", "Updated", searchable=False),
)
_COMPANIES = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Litware", "Proseware", "Adatum", "Woodgrove")
_KINDS = ("Traders", "Toys", "Bank", "Publishing", "Systems", "Foods", "Logistics")
_TEAMS = ("Finance", "Operations", "Sales", "Marketing", "Engineering", "Legal", "People", "Procurement")
_REGIONS = ("EMEA", "Americas", "APAC")
_STATUSES = ("Open", "Approved", "Paid", "On hold", "Cancelled")
SAMPLE_ROW_COUNT = 200


@cache
def sample_rows() -> tuple[dict[str, Any], ...]:
    """The sample orders. Multipliers coprime with each list's length spread the values without a random source."""
    first_day = date(2025, 1, 1)
    return tuple(
        {
            "id": i,
            "customer": f"{_COMPANIES[(i * 4) % len(_COMPANIES)]} {_KINDS[(i * 3) % len(_KINDS)]}",
            "team": _TEAMS[(i * 5) % len(_TEAMS)],
            "region": _REGIONS[(i * 7) % len(_REGIONS)],
            "status": _STATUSES[(i * 3 + i // 7) % len(_STATUSES)],
            "amount": Decimal((i * 7919) % 250_000 + 1_000) / 100,
            "updated": first_day + timedelta(days=(i * 37) % 181),
        }
        for i in range(1, SAMPLE_ROW_COUNT + 1)
    )


@require_GET
@never_cache  # table data is per user in real reports: never stored by a shared cache
def sample_data(request: HttpRequest) -> HttpResponse:
    """GET /components/sample-data/: DataTables' server-side protocol over the sample orders."""
    if not request.user.is_authenticated:
        # A JSON client cannot follow a redirect to the sign-in page; it gets a status it can act on.
        return problem(401, "Sign in to read this data.")
    parsed = parse_table_query(request.GET, SAMPLE_COLUMNS)
    if isinstance(parsed, InvalidParams):
        return parsed.response()
    return JsonResponse(answer_table_query(parsed, sample_rows(), SAMPLE_COLUMNS))


# ---------------------------------------------------------------------------------------------------------------
# The showcase
# ---------------------------------------------------------------------------------------------------------------
class SampleForm(forms.Form):
    """The form the form-field example renders; it is validated on submit and never saved."""

    name = forms.CharField(label="Report name", max_length=80, help_text="As it appears in the menu.")
    team = forms.ChoiceField(label="Team", choices=[("", "Choose a team…"), *((t.lower(), t) for t in _TEAMS)])
    frequency = forms.ChoiceField(
        label="Refresh",
        choices=[("daily", "Every day"), ("weekly", "Every week"), ("monthly", "Every month")],
        widget=forms.RadioSelect,
        initial="daily",
    )
    description = forms.CharField(label="Description", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    notify = forms.BooleanField(label="E-mail me when it is refreshed", required=False)


# What the form example shows on a plain visit: one field in error, so the error styling is on the page.
SAMPLE_FORM_DATA = {"name": "", "team": "finance", "frequency": "weekly", "description": "", "notify": "on"}


@dataclass(frozen=True)
class Example:
    """One showcase section: the example template `core/showcase/<slug>.html`, rendered and shown as code.

    `own_preview` means the light/dark previews render `<slug>_preview.html` instead: examples with ids (a modal,
    a chart) or landmarks (a breadcrumb) would otherwise repeat them three times on one page.
    """

    slug: str
    title: str
    summary: str
    notes: tuple[str, ...] = ()
    own_preview: bool = False


EXAMPLES: tuple[Example, ...] = (
    Example(
        "page-header",
        "Page header",
        "A page's title, an optional subtitle, and its actions (the tag's body).",
        (
            "`level` sets the heading level: 1 by default, for the page's title; this example is nested in the "
            "showcase, so it uses 3.",
            "The actions wrap under the title on narrow screens.",
        ),
    ),
    Example(
        "stat-tiles",
        "Stat tiles",
        "Key figures with an optional change and icon.",
        (
            'The arrow follows the sign of `delta` ("+4.2%", "-12%", or a number); `direction` overrides it.',
            '`positive="down"` says that going down is good, so a falling figure is green.',
            'Screen readers hear "Up" or "Down" before the change; the arrow itself is decorative.',
        ),
    ),
    Example(
        "charts",
        "Charts",
        "Chart.js charts whose colours come from the active theme.",
        (
            "Give `data=` (labels and datasets, written into the page with json_script) or `url=` (a JSON endpoint "
            "answering the same shape).",
            "Types: bar, line, doughnut, pie. `label` is what screen readers hear instead of the picture.",
            "Colours are read from the theme's CSS custom properties and read again when the colour mode changes; "
            "colours given in the data are kept.",
            "Pages with charts load `vendor/chart.js/chart.umd.min.js` and `core/js/components.js`.",
        ),
        own_preview=True,
    ),
    Example(
        "data-table",
        "Data table",
        "A DataTables table: server-side with ajax_url, in the browser with rows.",
        (
            "Columns are (name, title) pairs, optionally with a third item of options: `orderable`, `searchable`, "
            "`class_name`.",
            "With `ajax_url` the endpoint speaks DataTables' server-side protocol; /components/sample-data/ is the "
            "reference implementation, including 400 problem details for bad parameters.",
            "Without `ajax_url`, pass `rows=` (sequences, or mappings keyed by column name); the previews below do.",
            "Server data is rendered as text, never as HTML. Pages with tables load DataTables, its Bootstrap 5 "
            "integration and its stylesheet.",
        ),
        own_preview=True,
    ),
    Example(
        "cards",
        "Cards",
        "A titled box with a body and an optional footer slot.",
        (
            "Write `{% footer %}` inside the card for the footer.",
            "Values such as `title` are escaped: the second card's title contains markup, shown as text.",
        ),
    ),
    Example(
        "alerts",
        "Alerts",
        "Messages in Bootstrap's contextual levels, optionally dismissible.",
        (
            "Levels: primary, secondary, success, danger, warning, info, light, dark; Django's message tags "
            '"error" and "debug" work too.',
            'Danger and warning use `role="alert"` (read out at once); the others use `role="status"`.',
        ),
    ),
    Example(
        "modal",
        "Modal",
        "A dialog opened by a button carrying `modal_toggle`.",
        (
            "The modal's `id` must be unique on the page; `modal_toggle` prints the `data-bs-toggle` and "
            "`data-bs-target` attributes for it.",
            "Without a footer slot the modal offers a Close button. Sizes: sm, lg, xl.",
        ),
        own_preview=True,
    ),
    Example(
        "empty-state",
        "Empty state",
        "What a list shows when there is nothing in it yet.",
        ("`action_url` and `action_label` add a button to the next step.",),
    ),
    Example(
        "form-fields",
        "Form fields",
        "Label, widget, help text and errors for one field of a Django form.",
        (
            "Works for text inputs, textareas, selects, checkboxes, radio buttons and multiple checkboxes.",
            "Errors and help text are linked to the widget with `aria-describedby`; fields in error get "
            "`aria-invalid`.",
            "Submitting this form validates it and saves nothing.",
        ),
    ),
    Example(
        "pagination",
        "Pagination",
        "Page links for a Django Page object.",
        (
            "Other query parameters (filters, sorting) are kept in every link.",
            "`fragment` brings the reader back to the list; `label` names the navigation when a page has several.",
        ),
        own_preview=True,
    ),
    Example(
        "breadcrumbs",
        "Breadcrumbs",
        "Where the page sits, from a list of (label, url) pairs.",
        ("The last entry is the current page and is not a link.",),
        own_preview=True,
    ),
    Example(
        "tooltips-popovers",
        "Tooltips and popovers",
        "Attributes for Bootstrap tooltips and popovers on elements you write.",
        (
            "core/js/atrium.js creates them when the page loads, on every page.",
            "Put them on buttons or links, so keyboard users can open them too; give icon-only buttons an "
            "`aria-label`.",
            "Text is shown as text, never as HTML.",
        ),
    ),
)


def _segments(note: str) -> list[dict[str, Any]]:
    """Split a note at backticks so the template can set `code` in <code> without marking anything safe."""
    return [{"text": part, "code": i % 2 == 1} for i, part in enumerate(note.split("`")) if part]


def _chart_samples(rows: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    months = sorted({row["updated"].replace(day=1) for row in rows})
    by_month_region = Counter((row["updated"].replace(day=1), row["region"]) for row in rows)
    orders_by_month = {
        "labels": [month.strftime("%b %Y") for month in months],
        "datasets": [
            {"label": region, "data": [by_month_region[(month, region)] for month in months]} for region in _REGIONS
        ],
    }
    by_status = Counter(row["status"] for row in rows)
    orders_by_status = {
        "labels": list(_STATUSES),
        "datasets": [{"label": "Orders", "data": [by_status[status] for status in _STATUSES]}],
    }
    return orders_by_month, orders_by_status


def _render_example(name: str, values: dict[str, Any]) -> SafeString:
    # A plain Context, not a RequestContext: the example needs only the values given here, and running the
    # context processors three times per example would repeat their queries for nothing.
    return loader.get_template(name).template.render(Context(values))  # type: ignore[attr-defined]


@login_required
@require_http_methods(["GET", "POST"])
def showcase(request: HttpRequest) -> HttpResponse:
    """GET /components/: every component, live, with the template code that renders it, in light and dark."""
    if request.method == "POST":
        form = SampleForm(request.POST)
        if form.is_valid():
            messages.success(request, "The sample form is valid. Nothing was saved: it is only an example.")
            return HttpResponseRedirect(f"{reverse('core:components')}#form-fields")
    else:
        form = SampleForm(SAMPLE_FORM_DATA)
    rows = sample_rows()
    orders_by_month, orders_by_status = _chart_samples(rows)
    common = {
        "request": request,
        "csrf_token": get_token(request),
        # Plain (name, title) pairs, as a page would write them; the amounts get right-aligned cells.
        "sample_columns": [
            (c.name, c.title, {"class_name": c.class_name}) if c.class_name else (c.name, c.title)
            for c in SAMPLE_COLUMNS
        ],
        # The values as the endpoint sends them (ISO dates, two-decimal amounts), so both tables look alike.
        "sample_rows": [{name: _json_value(value) for name, value in row.items()} for row in rows[:8]],
        "orders_by_month": orders_by_month,
        "orders_by_status": orders_by_status,
        "orders_page": Paginator(rows, 5).get_page(request.GET.get("page")),
        "report_title": "Revenue <b>by</b> region",
        "trail": [("Home", reverse("home")), ("Component showcase", reverse("core:components")), ("Breadcrumbs", "")],
    }
    examples = []
    for example in EXAMPLES:
        name = f"core/showcase/{example.slug}.html"
        preview_name = f"core/showcase/{example.slug}_preview.html" if example.own_preview else name
        previews = {}
        for theme in ("light", "dark"):
            # Each preview gets its own form, so the ids its labels and aria-describedby point at stay unique.
            theme_form = SampleForm(form.data if form.is_bound else None, auto_id=f"{theme}-%s")
            previews[theme] = _render_example(preview_name, {**common, "form": theme_form, "theme": theme})
        examples.append(
            {
                "slug": example.slug,
                "title": example.title,
                "summary": _segments(example.summary),
                "notes": [_segments(note) for note in example.notes],
                "code": loader.get_template(name).template.source.strip(),  # type: ignore[attr-defined]
                "html": _render_example(name, {**common, "form": form, "theme": ""}),
                "light": previews["light"],
                "dark": previews["dark"],
            }
        )
    return render(request, "core/showcase.html", {"examples": examples})
