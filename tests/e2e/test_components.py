"""In the browser: the component showcase at /components/ draws its tables and charts without console errors or CSP
violations, pages its server-side table, follows the colour-mode switch (charts redrawn in the new colours), and
has no serious accessibility problems. Also writes the screenshots used by docs/howto/components.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tests.e2e.conftest import assert_no_page_problems

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCREENSHOTS = Path(settings.BASE_DIR) / "docs" / "img"

CHART_DRAWN = """(id) => {
    const canvas = document.getElementById(id);
    const chart = canvas && window.Chart && Chart.getChart(canvas);
    if (!chart || !chart.chartArea || chart.chartArea.width <= 0 || canvas.width === 0) { return false; }
    // Painted: some pixel of the canvas is not transparent.
    const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { return true; } }
    return false;
}"""

BAR_COLOURS = """(id) => {
    const chart = Chart.getChart(document.getElementById(id));
    return chart.data.datasets.map((dataset) => String(dataset.backgroundColor));
}"""


@pytest.fixture
def showcase(page: Any, live_server: Any) -> Any:
    """The showcase, signed in as fiona, in light mode, with its table filled and its charts drawn."""
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", "fiona")
    page.fill("#id_password", "atrium-demo")
    page.click("main button[type=submit]")  # the header has a submit button too (sign out, search)
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/components/")
    choose_mode(page, "light")
    wait_until_drawn(page)
    return page


def choose_mode(page: Any, mode: str) -> None:
    page.click("#atrium-mode-menu")
    page.click(f'ul[aria-labelledby="atrium-mode-menu"] [data-atrium-mode-choice="{mode}"]')
    page.wait_for_function(
        "(mode) => document.documentElement.getAttribute('data-bs-theme') === mode",
        arg=mode,
    )
    # atrium.js fades colours for 300 ms (a class on <html>); measure (axe) and photograph the settled page only.
    page.wait_for_function("() => !document.documentElement.classList.contains('atrium-theme-transition')")
    page.wait_for_timeout(300)


def wait_until_drawn(page: Any) -> None:
    page.wait_for_selector("#orders-table tbody tr td:not(.dt-empty)")
    for chart_id in ("orders-chart", "status-chart", "orders-chart-light", "orders-chart-dark"):
        page.wait_for_function(CHART_DRAWN, arg=chart_id)


def scroll_to_charts(page: Any) -> None:
    """Both screenshots show the same place: the charts, their code, and their light and dark previews."""
    page.evaluate("() => window.scrollTo(0, document.getElementById('charts').offsetTop - 8)")
    page.wait_for_timeout(1200)  # let the charts' animation settle before the picture


def first_cell(page: Any) -> str:
    return page.locator("#orders-table tbody tr").first.locator("td").first.inner_text().strip()


def test_showcase_table_pages_and_charts_are_drawn_without_console_errors(showcase: Any) -> None:
    page = showcase
    assert page.locator("#orders-table tbody tr").count() == 10
    assert first_cell(page) == "1"
    page.locator("#orders-table_wrapper button.next").click()
    page.wait_for_function("() => document.querySelector('#orders-table tbody td').textContent.trim() === '11'")
    assert first_cell(page) == "11"
    assert "Showing 11 to 20 of 200" in page.locator("#orders-table_wrapper .dt-info").inner_text()

    # The search box asks the server, which searches every searchable column.
    page.locator("#orders-table_wrapper input[type=search]").fill("on hold")
    page.wait_for_function(
        "() => [...document.querySelectorAll('#orders-table tbody tr')]"
        ".every((row) => row.textContent.includes('On hold'))"
    )

    # The client-side previews are DataTables too, paged in the browser.
    assert page.locator("#orders-table-dark tbody tr").count() == 5
    assert page.locator("#orders-table-dark_wrapper .dt-paging").count() == 1

    # Tooltips (created by atrium.js) and the modal (Bootstrap's data API) work on the live examples.
    page.locator("[data-showcase-live=tooltips-popovers] [data-bs-toggle=tooltip]").first.focus()
    page.wait_for_selector(".tooltip.show")
    page.locator("[data-showcase-live=modal] [data-bs-toggle=modal]").click()
    page.wait_for_selector("#archive-report.show")
    page.locator("#archive-report [data-bs-dismiss=modal]").first.click()
    page.wait_for_selector("#archive-report", state="hidden")
    assert_no_page_problems(page)


def test_a_refused_table_request_or_missing_chart_data_is_shown_on_the_page(showcase: Any) -> None:
    page = showcase
    # A table whose columns disagree with the endpoint's (400 problem details), and a chart whose URL is wrong,
    # added after loading and set up with AtriumComponents.init().
    page.evaluate(
        """() => {
            const box = document.createElement("div");
            box.id = "broken-box";
            box.innerHTML = '<table data-atrium-datatable data-ajax-url="/components/sample-data/" id="broken-table">'
                + '<thead><tr><th data-column="secret">Secret</th></tr></thead><tbody></tbody></table>'
                + '<div class="ratio ratio-16x9"><canvas id="broken-chart" data-atrium-chart data-chart-type="bar"'
                + ' data-chart-url="/components/no-such-data/" role="img" aria-label="Broken"></canvas></div>';
            document.querySelector("main").appendChild(box);
            AtriumComponents.init(box);
        }"""
    )
    problems = page.locator("#broken-box [data-atrium-component-problem]")
    problems.nth(1).wait_for()
    texts = problems.all_inner_texts()
    assert any("The table could not be loaded" in t and "columns[0][data]: column 0 is 'id'" in t for t in texts)
    assert any("The chart could not be loaded" in t for t in texts)
    assert page.locator("#broken-box [role=alert]").count() == 2
    assert_no_page_problems(
        page, allowed=("status of 400", "status of 404", "DataTables warning", "chart #broken-chart")
    )


def test_colour_mode_switch_redraws_the_charts_in_the_new_colours(showcase: Any) -> None:
    page = showcase
    page.set_viewport_size({"width": 1280, "height": 900})
    light_bars = page.evaluate(BAR_COLOURS, "orders-chart")
    light_preview = page.evaluate(BAR_COLOURS, "orders-chart-light")
    dark_preview = page.evaluate(BAR_COLOURS, "orders-chart-dark")
    assert light_preview == light_bars
    assert dark_preview != light_bars  # the preview in its data-bs-theme="dark" container has dark colours
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    scroll_to_charts(page)
    page.screenshot(path=str(SCREENSHOTS / "components-light.png"))

    choose_mode(page, "dark")
    assert page.get_attribute("html", "data-bs-theme") == "dark"
    page.wait_for_function(
        "(before) => String(Chart.getChart(document.getElementById('orders-chart')).data.datasets[0]"
        ".backgroundColor) !== before",
        arg=light_bars[0],
    )
    dark_bars = page.evaluate(BAR_COLOURS, "orders-chart")
    assert dark_bars != light_bars
    assert dark_bars == dark_preview  # the page in dark mode matches the dark preview
    # Pinned previews keep their own colours whatever the page's mode.
    assert page.evaluate(BAR_COLOURS, "orders-chart-light") == light_preview
    ticks_colour = page.evaluate(
        "() => Chart.getChart(document.getElementById('orders-chart')).options.scales.x.ticks.color"
    )
    body_colour = page.evaluate(
        "() => getComputedStyle(document.documentElement).getPropertyValue('--bs-body-color').trim()"
    )
    assert ticks_colour == body_colour
    scroll_to_charts(page)
    page.screenshot(path=str(SCREENSHOTS / "components-dark.png"))

    # The choice is saved on the server: the next visit starts in dark mode.
    page.reload()
    assert page.get_attribute("html", "data-bs-theme") == "dark"
    wait_until_drawn(page)
    assert page.evaluate(BAR_COLOURS, "orders-chart") == dark_bars
    assert_no_page_problems(page)


@pytest.mark.parametrize("mode", ["light", "dark"])
def test_showcase_has_no_serious_accessibility_violations(showcase: Any, live_server: Any, mode: str) -> None:
    page = showcase
    if mode == "dark":
        choose_mode(page, "dark")
        wait_until_drawn(page)
    # axe-core is served from node_modules like the other vendor files, so the CSP ('self') allows it.
    page.add_script_tag(url=f"{live_server.url}/static/vendor/axe-core/axe.min.js")
    # The whole page, header included (the theme stylesheet gives its buttons AA contrast in both modes).
    results = page.evaluate("async () => await axe.run(document, { resultTypes: ['violations'] })")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[(n['target'], n['failureSummary']) for n in v['nodes']][:5]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], "\n".join(serious)
    assert_no_page_problems(page)
