/* Atrium's component behaviour (vanilla JS, loaded with defer by the pages that use the components, after
 * DataTables and Chart.js):
 *  - every table[data-atrium-datatable] becomes a DataTable: server-side when it has data-ajax-url, otherwise
 *    over the rows already in the page;
 *  - every canvas[data-atrium-chart] becomes a Chart.js chart whose colours come from the Bootstrap theme's CSS
 *    custom properties, read again (and the chart redrawn) on the "atrium:themechange" event that atrium.js
 *    dispatches when the colour mode changes.
 * A page without these elements costs nothing and logs nothing. */
(function () {
  "use strict";

  // Bootstrap's theme colours, in the order datasets (bar, line) or slices (doughnut, pie) take them.
  var PALETTE = ["primary", "success", "info", "warning", "danger", "secondary"];
  var CIRCULAR = { doughnut: true, pie: true };
  var charts = [];

  function reportProblem(anchor, text) {
    // Shown next to the component, as text (never HTML: the detail may echo request values).
    var box = anchor.previousElementSibling;
    if (!box || !box.hasAttribute("data-atrium-component-problem")) {
      box = document.createElement("div");
      box.className = "alert alert-danger";
      box.setAttribute("role", "alert");
      box.setAttribute("data-atrium-component-problem", "");
      anchor.parentNode.insertBefore(box, anchor);
    }
    box.textContent = text;
  }

  // ---------------------------------------------------------------------------------------------------------
  // Data tables
  // ---------------------------------------------------------------------------------------------------------
  function problemDetail(xhr) {
    // Atrium's JSON endpoints answer errors with RFC 9457 problem details; show their "detail" when there is one.
    if (!xhr || !xhr.responseText) { return ""; }
    try {
      var body = JSON.parse(xhr.responseText);
      return typeof body.detail === "string" ? body.detail : "";
    } catch (e) {
      return "";
    }
  }

  function tableErrors(settings, techNote, message) {
    // Replaces DataTables' default window.alert(): the message goes above the table instead.
    var table = settings && settings.table;
    var detail = problemDetail(settings && settings.jqXHR);
    console.error(message);
    if (table) {
      var container = table.closest(".dt-container") || table;
      reportProblem(container, "The table could not be loaded" + (detail ? ": " + detail : ". Try reloading the page."));
    }
  }

  function initTable(table) {
    if (window.DataTable.isDataTable(table)) { return; }
    var url = table.getAttribute("data-ajax-url");
    // The server-side endpoints refuse more than 100 rows per page, so never offer or ask for more.
    var pageLength = Math.min(parseInt(table.getAttribute("data-page-length"), 10) || 10, 100);
    var lengths = [10, 25, 50, 100];
    if (lengths.indexOf(pageLength) === -1) {
      lengths.push(pageLength);
      lengths.sort(function (a, b) { return a - b; });
    }
    var options = { pageLength: pageLength, lengthMenu: lengths, autoWidth: false };
    var headers = table.querySelectorAll("thead th[data-column]");
    if (headers.length) {
      options.columns = Array.prototype.map.call(headers, function (th) {
        var column = {
          orderable: th.getAttribute("data-orderable") !== "false",
          searchable: th.getAttribute("data-searchable") !== "false",
          className: th.getAttribute("data-class-name") || ""
        };
        if (url) {
          // Server rows are objects keyed by column name, rendered as text: a value containing markup is shown,
          // never interpreted (DataTables would otherwise insert it as HTML).
          column.data = th.getAttribute("data-column");
          column.name = th.getAttribute("data-column");
          column.render = window.DataTable.render.text();
        }
        return column;
      });
    }
    if (url) {
      options.serverSide = true;
      options.processing = true;
      options.ajax = url;
      options.searchDelay = 400;  // one request when the user stops typing, not one per key
    }
    new window.DataTable(table, options);
    // Wide tables scroll sideways inside their own box instead of widening the page. Wrapped after DataTables
    // has built its layout, so the search box, length menu and paging stay put while only the table scrolls.
    var scroller = document.createElement("div");
    scroller.className = "table-responsive";
    table.parentNode.insertBefore(scroller, table);
    scroller.appendChild(table);
  }

  function initTables(root) {
    var tables = root.querySelectorAll("table[data-atrium-datatable]");
    if (!tables.length) { return; }
    if (typeof window.DataTable !== "function") {
      console.error("Atrium components: this page has data tables but does not load vendor/datatables/dataTables.min.js.");
      return;
    }
    window.DataTable.ext.errMode = tableErrors;
    tables.forEach(initTable);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Charts
  // ---------------------------------------------------------------------------------------------------------
  function themeColours(element) {
    // Read from the canvas itself, not only from <html>: custom properties inherit, so a chart inside a
    // [data-bs-theme] container (the showcase's light/dark previews) gets that container's colours.
    var style = window.getComputedStyle(element);
    function read(name) { return style.getPropertyValue(name).trim(); }
    return {
      text: read("--bs-body-color"),
      grid: read("--bs-border-color"),
      background: read("--bs-body-bg"),
      solid: PALETTE.map(function (name) { return read("--bs-" + name); }),
      // The "-border-subtle" shades are lighter in light mode and darker in dark mode: fills that sit well on
      // either background, with the solid colour as their outline.
      soft: PALETTE.map(function (name) { return read("--bs-" + name + "-border-subtle"); })
    };
  }

  function paint(type, data, own, colours) {
    var count = PALETTE.length;
    (data.datasets || []).forEach(function (dataset, i) {
      var mine = own[i] || {};
      if (CIRCULAR[type]) {
        if (!mine.backgroundColor) {
          dataset.backgroundColor = (dataset.data || []).map(function (_, j) { return colours.solid[j % count]; });
        }
        if (!mine.borderColor) { dataset.borderColor = colours.background; }  // gaps between slices
      } else {
        if (!mine.backgroundColor) { dataset.backgroundColor = colours.soft[i % count]; }
        if (!mine.borderColor) { dataset.borderColor = colours.solid[i % count]; }
        if (dataset.borderWidth === undefined) { dataset.borderWidth = 2; }
      }
    });
  }

  function chartOptions(type, data, colours) {
    var axis = {
      ticks: { color: colours.text },
      grid: { color: colours.grid },
      border: { color: colours.grid }
    };
    var options = {
      responsive: true,
      maintainAspectRatio: false,  // the .ratio wrapper decides the size
      color: colours.text,
      plugins: {
        // One dataset needs no legend (the chart's heading says what it is); slices always do.
        legend: {
          display: Boolean(CIRCULAR[type] || (data.datasets || []).length > 1),
          position: CIRCULAR[type] ? "right" : "top",
          labels: { color: colours.text }
        }
      }
    };
    if (!CIRCULAR[type]) {
      options.scales = {
        x: axis,
        y: { beginAtZero: true, ticks: axis.ticks, grid: axis.grid, border: axis.border }
      };
    }
    if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
      options.animation = false;  // people who asked their system for less motion get still charts
    }
    return options;
  }

  function drawChart(canvas, data) {
    var type = canvas.getAttribute("data-chart-type");
    // Remember which colours came with the data: those are the author's and are never replaced.
    var own = (data.datasets || []).map(function (dataset) {
      return { backgroundColor: dataset.backgroundColor !== undefined, borderColor: dataset.borderColor !== undefined };
    });
    var colours = themeColours(canvas);
    paint(type, data, own, colours);
    var chart = new window.Chart(canvas, { type: type, data: data, options: chartOptions(type, data, colours) });
    charts.push({ chart: chart, canvas: canvas, type: type, own: own });
  }

  function loadChartData(canvas) {
    var dataId = canvas.getAttribute("data-chart-data-id");
    if (dataId) {
      var script = document.getElementById(dataId);
      if (!script) { return Promise.reject(new Error("no element #" + dataId + " with the chart's data")); }
      return Promise.resolve(JSON.parse(script.textContent));
    }
    var url = canvas.getAttribute("data-chart-url");
    if (!url) { return Promise.reject(new Error("the chart has neither data-chart-data-id nor data-chart-url")); }
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error("HTTP " + response.status + " from " + url); }
      return response.json();
    });
  }

  function initCharts(root) {
    var canvases = root.querySelectorAll("canvas[data-atrium-chart]");
    if (!canvases.length) { return; }
    if (typeof window.Chart !== "function") {
      console.error("Atrium components: this page has charts but does not load vendor/chart.js/chart.umd.min.js.");
      return;
    }
    // Charts use the page's font rather than Chart.js's own default.
    var font = window.getComputedStyle(document.body).getPropertyValue("--bs-body-font-family").trim();
    if (font) { window.Chart.defaults.font.family = font; }
    canvases.forEach(function (canvas) {
      if (window.Chart.getChart(canvas)) { return; }  // already drawn
      loadChartData(canvas).then(function (data) {
        drawChart(canvas, data);
      }).catch(function (error) {
        console.error("Atrium components: chart #" + canvas.id + " could not be drawn: " + error.message);
        reportProblem(canvas.closest(".ratio") || canvas, "The chart could not be loaded. Try reloading the page.");
      });
    });
  }

  function repaintCharts() {
    charts.forEach(function (entry) {
      var colours = themeColours(entry.canvas);
      paint(entry.type, entry.chart.data, entry.own, colours);
      entry.chart.options = chartOptions(entry.type, entry.chart.data, colours);
      entry.chart.update();
    });
  }

  // Also callable by a page that adds components after loading (AtriumComponents.init(container)); elements
  // already set up are skipped.
  function init(root) {
    var scope = root && root.querySelectorAll ? root : document;
    initTables(scope);
    initCharts(scope);
  }

  window.AtriumComponents = { init: init, repaintCharts: repaintCharts };

  // atrium.js dispatches this after it has set data-bs-theme on <html>, so the new colours are already computed.
  document.addEventListener("atrium:themechange", repaintCharts);
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
})();
