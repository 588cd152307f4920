"""Atrium's template components: `{% load components %}`, then one tag per building block of a portal page.

Every component renders a template in `core/templates/components/` with only the values it was given (never the
page's context), so a component looks the same on every page and a theme package can restyle it by overriding
that one template. Values are autoescaped like any other template variable; text that a template author writes
between a block tag and its end tag (a card's body, a modal's footer) is template content and is kept as written.

Block components (they wrap content):

    {% page_header title="…" subtitle="…" level=1 %} actions {% endpage_header %}
    {% card title="…" subtitle="…" level=2 %} body {% footer %} footer {% endcard %}
    {% alert level="warning" title="…" dismissible=True %} message {% endalert %}
    {% modal id="…" title="…" size="lg" %} body {% footer %} buttons {% endmodal %}

Inclusion components: `stat_tile`, `data_table`, `chart`, `empty_state`, `form_field`, `pagination`,
`breadcrumbs`. Attribute helpers (they print attributes inside an element you write): `tooltip`, `popover`,
`modal_toggle`. The showcase at /components/ shows each of them with the code to use it.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms, template
from django.core.paginator import Page
from django.forms.boundfield import BoundField
from django.template.base import FilterExpression, NodeList, Parser, Token, token_kwargs
from django.template.context import Context
from django.template.engine import Engine
from django.utils.html import format_html, json_script
from django.utils.safestring import SafeString

register = template.Library()

# Bootstrap's contextual levels, plus the names Django's messages framework uses for its levels, so that
# `{% alert level=message.tags %}` works too.
ALERT_LEVELS = frozenset({"primary", "secondary", "success", "danger", "warning", "info", "light", "dark"})
ALERT_ALIASES = {"error": "danger", "debug": "secondary"}
ALERT_ICONS = {
    "success": "check-circle",
    "danger": "exclamation-octagon",
    "warning": "exclamation-triangle",
    "info": "info-circle",
}
MODAL_SIZES = frozenset({"sm", "lg", "xl"})
CHART_TYPES = frozenset({"bar", "line", "doughnut", "pie"})
CHART_RATIOS = frozenset({"1x1", "4x3", "16x9", "21x9"})
TOOLTIP_PLACEMENTS = frozenset({"top", "bottom", "left", "right", "auto"})
POPOVER_TRIGGERS = frozenset({"click", "focus", "hover", "hover focus"})


def _heading_level(value: Any, default: int) -> int:
    """A heading level from 1 to 6: components take `level=` so a page keeps its headings in order."""
    if value is None or value == "":
        return default
    try:
        level = int(value)
    except (TypeError, ValueError):
        raise template.TemplateSyntaxError(f"level must be a number from 1 to 6, not {value!r}") from None
    if not 1 <= level <= 6:
        raise template.TemplateSyntaxError(f"level must be a number from 1 to 6, not {level}")
    return level


def _unique_id(prefix: str) -> str:
    # Random rather than counted: a counter kept in the render context restarts in every included template, and
    # two components on one page must never share an id (labels, aria-describedby and json_script rely on it).
    return f"{prefix}-{secrets.token_hex(4)}"


# -----------------------------------------------------------------------------------------------------------------
# Block components: keyword arguments, a body, and optional named slots such as {% footer %}
# -----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _BlockSpec:
    name: str
    template_name: str
    arguments: frozenset[str]
    required: frozenset[str] = frozenset()
    slots: tuple[str, ...] = ()


class ComponentNode(template.Node):
    """Renders a block component: resolves its arguments, renders its body and slots, then its template."""

    def __init__(self, spec: _BlockSpec, arguments: dict[str, FilterExpression], slots: dict[str, NodeList]):
        self.spec = spec
        self.arguments = arguments
        self.slots = slots

    def render(self, context: Context) -> SafeString:
        values: dict[str, Any] = {name: expression.resolve(context) for name, expression in self.arguments.items()}
        for slot in ("content", *self.spec.slots):
            nodelist = self.slots.get(slot)
            # NodeList.render returns a SafeString: the body is template source, its variables already escaped.
            # It is kept as rendered (str.strip() would return a plain, unsafe str); a blank slot counts as empty.
            rendered = nodelist.render(context) if nodelist is not None else ""
            values[slot] = rendered if rendered.strip() else ""
        values = _PREPARE[self.spec.name](values)
        engine = context.template.engine if context.template is not None else Engine.get_default()
        component = engine.get_template(self.spec.template_name)
        # context.new(): the component sees only its own values, never the page's variables, and keeps the
        # page's autoescape setting.
        return component.render(context.new(values))


def _register_block(spec: _BlockSpec) -> None:
    end_tag = f"end{spec.name}"

    def compile_component(parser: Parser, token: Token) -> ComponentNode:
        bits = token.split_contents()[1:]
        arguments = token_kwargs(bits, parser, support_legacy=False)
        if bits:
            raise template.TemplateSyntaxError(
                f"{{% {spec.name} %}} takes keyword arguments only (name=value); cannot use {bits[0]!r}"
            )
        unknown = sorted(set(arguments) - spec.arguments)
        if unknown:
            raise template.TemplateSyntaxError(
                f"{{% {spec.name} %}} does not take {', '.join(unknown)}; it takes {', '.join(sorted(spec.arguments))}"
            )
        missing = sorted(spec.required - set(arguments))
        if missing:
            raise template.TemplateSyntaxError(f"{{% {spec.name} %}} needs {', '.join(missing)}")
        slots: dict[str, NodeList] = {"content": parser.parse((*spec.slots, end_tag))}
        while True:
            tag = parser.next_token().contents
            if tag == end_tag:
                break
            if tag in slots:
                raise template.TemplateSyntaxError(f"{{% {tag} %}} appears twice in {{% {spec.name} %}}")
            slots[tag] = parser.parse((*spec.slots, end_tag))
        return ComponentNode(spec, arguments, slots)

    register.tag(spec.name, compile_component)


def _prepare_page_header(values: dict[str, Any]) -> dict[str, Any]:
    values["level"] = _heading_level(values.get("level"), 1)
    return values


def _prepare_card(values: dict[str, Any]) -> dict[str, Any]:
    values["level"] = _heading_level(values.get("level"), 2)
    return values


def _prepare_alert(values: dict[str, Any]) -> dict[str, Any]:
    level = str(values.get("level") or "info").strip().lower()
    # An unknown level is shown as "info" rather than failing the page: levels often come from data
    # (message tags), and a mislabelled notice is better than a 500.
    level = ALERT_ALIASES.get(level, level if level in ALERT_LEVELS else "info")
    values["level"] = level
    values["icon"] = ALERT_ICONS.get(level, "")
    # Danger and warning interrupt a screen reader (role=alert); the rest are announced politely (role=status).
    values["role"] = "alert" if level in ("danger", "warning") else "status"
    values["dismissible"] = bool(values.get("dismissible"))
    return values


def _prepare_modal(values: dict[str, Any]) -> dict[str, Any]:
    size = values.get("size") or ""
    if size and size not in MODAL_SIZES:
        raise template.TemplateSyntaxError(f"modal size must be one of {', '.join(sorted(MODAL_SIZES))}, not {size!r}")
    if not values.get("id"):
        raise template.TemplateSyntaxError("modal needs a non-empty id (the toggle button targets it)")
    values["level"] = _heading_level(values.get("level"), 2)
    values["scrollable"] = bool(values.get("scrollable"))
    values["centered"] = bool(values.get("centered"))
    return values


_PREPARE = {
    "page_header": _prepare_page_header,
    "card": _prepare_card,
    "alert": _prepare_alert,
    "modal": _prepare_modal,
}

_register_block(
    _BlockSpec(
        "page_header",
        "components/page_header.html",
        frozenset({"title", "subtitle", "level"}),
        required=frozenset({"title"}),
    )
)
_register_block(
    _BlockSpec(
        "card", "components/card.html", frozenset({"title", "subtitle", "level", "class_name"}), slots=("footer",)
    )
)
_register_block(_BlockSpec("alert", "components/alert.html", frozenset({"level", "title", "dismissible"})))
_register_block(
    _BlockSpec(
        "modal",
        "components/modal.html",
        frozenset({"id", "title", "size", "level", "scrollable", "centered"}),
        required=frozenset({"id", "title"}),
        slots=("footer",),
    )
)


# -----------------------------------------------------------------------------------------------------------------
# Stat tile
# -----------------------------------------------------------------------------------------------------------------
def _direction(delta: Any) -> str:
    """Whether a change went up, down or nowhere: a number's sign, or a text's leading plus or minus sign."""
    if isinstance(delta, int | float | Decimal):
        return "up" if delta > 0 else "down" if delta < 0 else "flat"
    text = str(delta).strip()
    if text.startswith("+"):
        return "up"
    if text.startswith(("-", "−")):  # a hyphen-minus or a real minus sign
        return "down"
    return "flat"


@register.inclusion_tag("components/stat_tile.html")
def stat_tile(
    label: str,
    value: Any,
    delta: Any = None,
    direction: str = "",
    positive: str = "up",
    icon: str = "",
) -> dict[str, Any]:
    """A key figure: label, value, an optional change (`delta`) with an up/down arrow, and an optional icon.

    `direction` ("up", "down", "flat") is inferred from `delta` when not given. `positive="down"` says that going
    down is good (overdue invoices, days to pay), so the colour follows the meaning, not the arrow.
    """
    has_delta = delta is not None and delta != ""
    trend = (direction or (_direction(delta) if has_delta else "flat")).lower()
    if trend not in ("up", "down", "flat"):
        raise template.TemplateSyntaxError(f"stat_tile direction must be up, down or flat, not {direction!r}")
    tone = "secondary" if trend == "flat" else "success" if trend == positive else "danger"
    return {
        "label": label,
        "value": value,
        "delta": delta if has_delta else None,
        "trend": trend,
        "trend_words": {"up": "Up", "down": "Down", "flat": "No change"}[trend],
        "tone": tone,
        "icon": icon,
    }


# -----------------------------------------------------------------------------------------------------------------
# Data table shell (DataTables, client-side or server-side)
# -----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """One column of a data table: `name` is the key in the server's row objects, `title` its header."""

    name: str
    title: str
    orderable: bool = True
    searchable: bool = True
    class_name: str = ""

    @classmethod
    def of(cls, spec: Column | Sequence[Any]) -> Column:
        """Accept a Column, a (name, title) pair, or (name, title, {"orderable": …, "searchable": …, …})."""
        if isinstance(spec, Column):
            return spec
        if isinstance(spec, str) or not 2 <= len(spec) <= 3:
            raise template.TemplateSyntaxError(
                f"a data table column is (name, title) or (name, title, options): {spec!r}"
            )
        options: Mapping[str, Any] = spec[2] if len(spec) == 3 else {}
        return cls(str(spec[0]), str(spec[1]), **options)


def _cells(row: Any, columns: Sequence[Column]) -> list[Any]:
    if isinstance(row, Mapping):
        return [row.get(column.name, "") for column in columns]
    return list(row)


@register.inclusion_tag("components/data_table.html")
def data_table(
    columns: Iterable[Column | Sequence[Any]],
    caption: str,
    ajax_url: str = "",
    rows: Iterable[Any] | None = None,
    page_length: int = 10,
    id: str = "",  # the HTML attribute's name, which template authors expect
    show_caption: bool = False,
) -> dict[str, Any]:
    """A `<table data-atrium-datatable>` that core/js/components.js turns into a DataTable.

    With `ajax_url` the table is filled by DataTables' server-side protocol (see core.views_showcase.sample_data
    for the reference endpoint); without it, `rows` (sequences, or mappings keyed by column name) are rendered
    here and DataTables sorts, searches and pages them in the browser. `caption` names the table for screen
    readers; it is visually hidden unless `show_caption` is true.
    """
    column_list = [Column.of(spec) for spec in columns]
    if not column_list:
        raise template.TemplateSyntaxError("data_table needs at least one column")
    try:
        length = int(page_length)
    except (TypeError, ValueError):
        raise template.TemplateSyntaxError(f"data_table page_length must be a number, not {page_length!r}") from None
    if not 1 <= length <= 100:
        # The server-side endpoints refuse pages of more than 100 rows; keep the two in step.
        raise template.TemplateSyntaxError("data_table page_length must be between 1 and 100")
    return {
        "id": id or _unique_id("atrium-table"),
        "caption": caption,
        "show_caption": bool(show_caption),
        "columns": column_list,
        "ajax_url": ajax_url or "",
        "rows": [] if ajax_url or rows is None else [_cells(row, column_list) for row in rows],
        "page_length": length,
    }


# -----------------------------------------------------------------------------------------------------------------
# Chart container (Chart.js)
# -----------------------------------------------------------------------------------------------------------------
@register.inclusion_tag("components/chart.html")
def chart(
    type: str,  # Chart.js calls it "type"
    label: str,
    data: Mapping[str, Any] | None = None,
    url: str = "",
    id: str = "",
    ratio: str = "16x9",
) -> dict[str, Any]:
    """A `<canvas data-atrium-chart>` drawn by core/js/components.js in the active theme's colours.

    Give either `data` (Chart.js's `{"labels": [...], "datasets": [{"label": ..., "data": [...]}]}`, written into
    the page with json_script, which the CSP allows because it is data, not code) or `url` (a JSON endpoint
    answering the same shape). `label` is what screen readers hear instead of the picture.
    """
    if type not in CHART_TYPES:
        raise template.TemplateSyntaxError(f"chart type must be one of {', '.join(sorted(CHART_TYPES))}, not {type!r}")
    if (data is None) == (not url):
        raise template.TemplateSyntaxError("chart needs exactly one of data= and url=")
    if ratio not in CHART_RATIOS:
        raise template.TemplateSyntaxError(f"chart ratio must be one of {', '.join(sorted(CHART_RATIOS))}")
    chart_id = id or _unique_id("atrium-chart")
    data_id = f"{chart_id}-data"
    return {
        "id": chart_id,
        "type": type,
        "label": label,
        "url": url,
        "data_id": data_id if data is not None else "",
        "data_script": json_script(data, data_id) if data is not None else "",
        "ratio": ratio,
    }


# -----------------------------------------------------------------------------------------------------------------
# Empty state
# -----------------------------------------------------------------------------------------------------------------
@register.inclusion_tag("components/empty_state.html")
def empty_state(
    title: str,
    text: str = "",
    icon: str = "inbox",
    action_url: str = "",
    action_label: str = "",
    level: int = 2,
) -> dict[str, Any]:
    """What a list or a page shows when there is nothing in it yet, with an optional next step."""
    if action_url and not action_label:
        raise template.TemplateSyntaxError("empty_state needs action_label when it has an action_url")
    return {
        "title": title,
        "text": text,
        "icon": icon,
        "action_url": action_url,
        "action_label": action_label,
        "level": _heading_level(level, 2),
    }


# -----------------------------------------------------------------------------------------------------------------
# Form field
# -----------------------------------------------------------------------------------------------------------------
def _widget_kind(widget: forms.Widget) -> str:
    # Order matters: CheckboxSelectMultiple is a RadioSelect, SelectMultiple and NullBooleanSelect are Selects.
    if widget.is_hidden:
        return "hidden"
    if isinstance(widget, forms.RadioSelect):
        return "choices"
    if isinstance(widget, forms.CheckboxInput):
        return "checkbox"
    if isinstance(widget, forms.Select):
        return "select"
    if getattr(widget, "input_type", "") == "range":
        return "range"
    return "control"


_WIDGET_CLASSES = {
    "checkbox": "form-check-input",
    "choices": "form-check-input",
    "select": "form-select",
    "range": "form-range",
    "control": "form-control",
}


@register.inclusion_tag("components/form_field.html")
def form_field(field: BoundField, label: str = "", hide_label: bool = False) -> dict[str, Any]:
    """One form field the Bootstrap way: label, widget, help text and errors, wired for screen readers.

    Text inputs, textareas, selects, checkboxes, radio buttons and multiple checkboxes are supported. Django
    itself adds `aria-invalid` and `aria-describedby` (pointing at `<id>_helptext` and `<id>_error`), so the help
    and error elements here use exactly those ids.
    """
    if not isinstance(field, BoundField):
        raise template.TemplateSyntaxError(f"form_field expects a form's field (form.name), not {field!r}")
    widget = field.field.widget
    kind = _widget_kind(widget)
    classes = " ".join(
        c
        for c in (widget.attrs.get("class", ""), _WIDGET_CLASSES.get(kind, ""), "is-invalid" if field.errors else "")
        if c
    )
    context: dict[str, Any] = {
        "field": field,
        "kind": kind,
        "label": label or field.label,
        "hide_label": bool(hide_label),
        "required": field.field.required,
        "help_id": f"{field.auto_id}_helptext" if field.auto_id else "",
        "error_id": f"{field.auto_id}_error" if field.auto_id else "",
    }
    if kind == "choices":
        # One Bootstrap .form-check per option; BoundField.subwidgets builds each option's attrs afresh, so
        # setting the class here does not stack up when a field is rendered twice.
        options = []
        for option in field.subwidgets:
            option.data["attrs"]["class"] = classes
            options.append({"tag": option.tag(), "id": option.id_for_label, "label": option.choice_label})
        context["options"] = options
        describedby = [
            i for i, shown in ((context["help_id"], field.help_text), (context["error_id"], field.errors)) if shown
        ]
        context["describedby"] = " ".join(describedby)
    else:
        context["widget"] = field.as_widget(attrs={"class": classes}) if classes else field.as_widget()
    return context


# -----------------------------------------------------------------------------------------------------------------
# Pagination and breadcrumbs
# -----------------------------------------------------------------------------------------------------------------
@register.inclusion_tag("components/pagination.html", takes_context=True)
def pagination(
    context: Context, page: Page, param: str = "page", fragment: str = "", label: str = "Pagination"
) -> dict[str, Any]:
    """Links to the pages of a Django `Page`, keeping the request's other query parameters (filters, sorting).

    Long ranges are elided around the current page ("1 … 4 5 6 … 40"). `fragment` is added to every link
    (`fragment="results"` → `#results`) so the browser returns to the list, not the top of the page.
    """
    if not isinstance(page, Page):
        raise template.TemplateSyntaxError(f"pagination expects a Django Page (paginator.get_page()), not {page!r}")
    request = context.get("request")
    query = request.GET.copy() if request is not None else None
    anchor = f"#{fragment}" if fragment else ""

    def href(number: int) -> str:
        if query is None:
            return f"?{param}={number}{anchor}"
        query[param] = str(number)
        return f"?{query.urlencode()}{anchor}"

    paginator = page.paginator
    items = [
        {"number": number, "href": href(number), "current": number == page.number}
        if isinstance(number, int)
        else {"ellipsis": True}
        for number in paginator.get_elided_page_range(page.number, on_each_side=2, on_ends=1)
    ]
    return {
        "label": label,
        "show": paginator.num_pages > 1,
        "items": items,
        "previous": href(page.previous_page_number()) if page.has_previous() else "",
        "next": href(page.next_page_number()) if page.has_next() else "",
    }


@register.inclusion_tag("components/breadcrumbs.html")
def breadcrumbs(trail: Iterable[Sequence[Any]], label: str = "Breadcrumb") -> dict[str, Any]:
    """A breadcrumb trail from (label, url) pairs; the last one is the current page (a url of "" or None: no link)."""
    entries = []
    for entry in trail:
        if isinstance(entry, str) or len(entry) != 2:
            raise template.TemplateSyntaxError(f"a breadcrumb is a (label, url) pair, not {entry!r}")
        entries.append({"label": entry[0], "url": entry[1] or ""})
    return {"entries": entries, "label": label}


# -----------------------------------------------------------------------------------------------------------------
# Attribute helpers: printed inside an element the template writes itself
# -----------------------------------------------------------------------------------------------------------------
@register.simple_tag
def tooltip(text: str, placement: str = "top") -> SafeString:
    """`data-bs-*` attributes for a Bootstrap tooltip; core/js/atrium.js creates it when the page loads.

    Use on an element that can take focus (a button or a link), so keyboard users see the tooltip too.
    """
    if placement not in TOOLTIP_PLACEMENTS:
        raise template.TemplateSyntaxError(f"tooltip placement must be one of {', '.join(sorted(TOOLTIP_PLACEMENTS))}")
    return format_html('data-bs-toggle="tooltip" data-bs-placement="{}" data-bs-title="{}"', placement, text)


@register.simple_tag
def popover(content: str, title: str = "", placement: str = "right", trigger: str = "click") -> SafeString:
    """`data-bs-*` attributes for a Bootstrap popover (click to open by default; `trigger="focus"` closes it on
    the next click anywhere). Content is shown as text, never as HTML."""
    if placement not in TOOLTIP_PLACEMENTS:
        raise template.TemplateSyntaxError(f"popover placement must be one of {', '.join(sorted(TOOLTIP_PLACEMENTS))}")
    if trigger not in POPOVER_TRIGGERS:
        raise template.TemplateSyntaxError(f"popover trigger must be one of {', '.join(sorted(POPOVER_TRIGGERS))}")
    attributes = format_html(
        'data-bs-toggle="popover" data-bs-placement="{}" data-bs-trigger="{}" data-bs-content="{}"',
        placement,
        trigger,
        content,
    )
    if title:
        return format_html('{} data-bs-title="{}"', attributes, title)
    return attributes


@register.simple_tag
def modal_toggle(modal_id: str) -> SafeString:
    """`data-bs-*` attributes that make a button open the `{% modal id=… %}` with that id."""
    return format_html('data-bs-toggle="modal" data-bs-target="#{}"', modal_id)
