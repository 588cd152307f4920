/*
 * Report builder (/reports/new/, /reports/<id>/edit/): small additions to a form that works without JavaScript.
 *  - the columns list gets up/down buttons (checked boxes are posted in document order, which is the table's);
 *  - choosing another dataset refills the column list and the sort/chart column menus from the page's catalog
 *    (a json_script element: data, not code, so the CSP allows it);
 *  - filters become rows (column, operator offered for the column's type, value) written into the JSON field;
 *  - every change posts the form (with its CSRF token) to the preview endpoint and shows the first rows and the
 *    chart, or the 400 problem's messages next to the fields they name.
 * Everything the server sends is shown as text, never as HTML. No inline script or style (CSP).
 */
(function () {
  "use strict";

  var form = document.querySelector("form[data-report-builder]");
  if (!form) { return; }
  var catalog = JSON.parse(document.getElementById(form.getAttribute("data-catalog-id")).textContent);
  var datasetSelect = form.querySelector("[data-builder-field=dataset]");
  var columnList = form.querySelector("[data-builder-columns]");
  var filtersBox = form.querySelector("[data-builder-filters]");
  var filtersField = form.querySelector("[data-builder-field=filters]");
  var addFilter = form.querySelector("[data-add-filter]");
  var problemBox = document.querySelector("[data-preview-problem]");
  var statusLine = document.querySelector("[data-preview-status]");
  var chartBox = document.querySelector("[data-preview-chart]");
  var previewTable = document.querySelector("[data-preview-table]");
  var OPERATOR_NAMES = {
    eq: "equals", ne: "is not", lt: "less than", lte: "at most", gt: "greater than", gte: "at least",
    contains: "contains", startswith: "starts with", "in": "is one of (a,b,c)", between: "between (low,high)",
    isnull: "is empty (true/false)"
  };
  var timer = null;
  var sequence = 0;

  function columns() { return catalog[datasetSelect.value] || []; }
  function columnByName(name) {
    return columns().filter(function (c) { return c.name === name; })[0] || null;
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function option(value, label, selected) {
    var node = element("option", "", label);
    node.value = value;
    if (selected) { node.selected = true; }
    return node;
  }

  // Columns ---------------------------------------------------------------------------------------------------
  function addMoveButtons(item) {
    if (item.querySelector("[data-move]")) { return; }
    var label = item.querySelector("label").textContent;
    ["up", "down"].forEach(function (direction) {
      var button = element("button", "btn btn-sm btn-outline-secondary");
      button.type = "button";
      button.setAttribute("data-move", direction);
      button.setAttribute("aria-label", "Move " + label + " " + direction);
      button.appendChild(element("i", "bi bi-arrow-" + direction));
      item.appendChild(button);
    });
  }

  columnList.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) { return; }
    var item = button.closest("[data-column-item]");
    if (button.getAttribute("data-move") === "up" && item.previousElementSibling) {
      columnList.insertBefore(item, item.previousElementSibling);
    } else if (button.getAttribute("data-move") === "down" && item.nextElementSibling) {
      columnList.insertBefore(item.nextElementSibling, item);
    }
    schedule();
  });

  function rebuildColumns() {
    columnList.textContent = "";
    columns().forEach(function (column) {
      var item = element("li", "list-group-item d-flex align-items-center gap-2");
      item.setAttribute("data-column-item", column.name);
      var box = element("input", "form-check-input");
      box.type = "checkbox";
      box.name = "columns";
      box.value = column.name;
      box.id = "id_columns_" + column.name;
      var label = element("label", "form-check-label flex-grow-1", column.title);
      label.setAttribute("for", box.id);
      item.appendChild(box);
      item.appendChild(label);
      addMoveButtons(item);
      columnList.appendChild(item);
    });
    ["sort_column", "chart_x", "chart_y", "chart_group_by"].forEach(function (name) {
      var select = form.querySelector("[data-builder-field=" + name + "]");
      select.textContent = "";
      select.appendChild(option("", "—", true));
      columns().forEach(function (column) { select.appendChild(option(column.name, column.title, false)); });
    });
  }

  // Filters ---------------------------------------------------------------------------------------------------
  function filterRow(filter) {
    var row = element("div", "row g-2 align-items-start mb-2");
    row.setAttribute("data-filter-row", "");
    var columnCol = element("div", "col-12 col-sm-4");
    var columnSelect = element("select", "form-select form-select-sm");
    columnSelect.setAttribute("aria-label", "Filter column");
    columnSelect.setAttribute("data-filter-column", "");
    columns().forEach(function (column) {
      columnSelect.appendChild(option(column.name, column.title, column.name === filter.column));
    });
    columnCol.appendChild(columnSelect);
    var opCol = element("div", "col-12 col-sm-3");
    var opSelect = element("select", "form-select form-select-sm");
    opSelect.setAttribute("aria-label", "Filter operator");
    opSelect.setAttribute("data-filter-op", "");
    opCol.appendChild(opSelect);
    var valueCol = element("div", "col-10 col-sm-4");
    var value = element("input", "form-control form-control-sm");
    value.type = "text";
    value.maxLength = 200;
    value.setAttribute("aria-label", "Filter value");
    value.setAttribute("data-filter-value", "");
    var shown = filter.value;
    if (Array.isArray(shown)) { shown = shown.join(","); }
    value.value = shown === undefined || shown === null ? "" : String(shown);
    var error = element("div", "invalid-feedback d-block");
    error.setAttribute("data-filter-error", "");
    valueCol.appendChild(value);
    valueCol.appendChild(error);
    var removeCol = element("div", "col-2 col-sm-1");
    var remove = element("button", "btn btn-sm btn-outline-danger");
    remove.type = "button";
    remove.setAttribute("aria-label", "Remove this filter");
    remove.setAttribute("data-remove-filter", "");
    remove.appendChild(element("i", "bi bi-x"));
    removeCol.appendChild(remove);
    row.appendChild(columnCol);
    row.appendChild(opCol);
    row.appendChild(valueCol);
    row.appendChild(removeCol);
    fillOperators(row, filter.op);
    return row;
  }

  function fillOperators(row, wanted) {
    var column = columnByName(row.querySelector("[data-filter-column]").value);
    var select = row.querySelector("[data-filter-op]");
    select.textContent = "";
    ((column && column.operators) || []).forEach(function (op) {
      select.appendChild(option(op, OPERATOR_NAMES[op] || op, op === wanted));
    });
  }

  function writeFilters() {
    var filters = [];
    filtersBox.querySelectorAll("[data-filter-row]").forEach(function (row) {
      filters.push({
        column: row.querySelector("[data-filter-column]").value,
        op: row.querySelector("[data-filter-op]").value,
        value: row.querySelector("[data-filter-value]").value
      });
    });
    filtersField.value = filters.length ? JSON.stringify(filters) : "";
  }

  function readFilters() {
    var filters = [];
    try { filters = filtersField.value.trim() ? JSON.parse(filtersField.value) : []; } catch (e) { return false; }
    if (!Array.isArray(filters)) { return false; }
    filtersBox.textContent = "";
    filters.forEach(function (filter) { filtersBox.appendChild(filterRow(filter || {})); });
    return true;
  }

  filtersBox.addEventListener("change", function (event) {
    var row = event.target.closest("[data-filter-row]");
    if (row && event.target.hasAttribute("data-filter-column")) { fillOperators(row, ""); }
    writeFilters();
    schedule();
  });
  filtersBox.addEventListener("input", function () { writeFilters(); schedule(); });
  filtersBox.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-filter]");
    if (!button) { return; }
    button.closest("[data-filter-row]").remove();
    writeFilters();
    schedule();
  });
  addFilter.addEventListener("click", function () {
    var first = columns()[0];
    filtersBox.appendChild(filterRow({ column: first ? first.name : "", op: "", value: "" }));
    writeFilters();
    var values = filtersBox.querySelectorAll("[data-filter-column]");
    if (values.length) { values[values.length - 1].focus(); }
  });

  // Preview ---------------------------------------------------------------------------------------------------
  function clearErrors() {
    problemBox.classList.add("d-none");
    problemBox.textContent = "";
    form.querySelectorAll("[data-field-error], [data-filter-error]").forEach(function (box) { box.textContent = ""; });
  }

  function showProblem(body) {
    problemBox.textContent = (body && body.detail) || "The preview could not be loaded.";
    problemBox.classList.remove("d-none");
    ((body && body.invalid_params) || []).forEach(function (param) {
      var name = String(param.name || "");
      var match = /^filters\[(\d+)\]/.exec(name);
      var box = null;
      if (match) {
        var rows = filtersBox.querySelectorAll("[data-filter-row]");
        var row = rows[parseInt(match[1], 10)];
        box = row ? row.querySelector("[data-filter-error]") : null;
      }
      if (!box) { box = form.querySelector('[data-field-error="' + name.split(/[.[]/)[0] + '"]'); }
      if (box) { box.textContent = param.reason; }
    });
  }

  function showTable(body) {
    var head = previewTable.querySelector("thead");
    var rows = previewTable.querySelector("tbody");
    head.textContent = "";
    rows.textContent = "";
    var tr = element("tr");
    body.columns.forEach(function (column) {
      var th = element("th", "", column.title);
      th.scope = "col";
      th.setAttribute("data-column", column.name);
      tr.appendChild(th);
    });
    head.appendChild(tr);
    body.rows.forEach(function (values) {
      var row = element("tr");
      values.forEach(function (value) { row.appendChild(element("td", "", value === null ? "" : String(value))); });
      rows.appendChild(row);
    });
    statusLine.textContent = "Showing the first " + body.rows.length + " of " + body.total + " rows.";
    statusLine.setAttribute("data-preview-total", String(body.total));
  }

  function showChart(body) {
    chartBox.querySelectorAll("canvas").forEach(function (canvas) {
      var chart = window.Chart && window.Chart.getChart(canvas);
      if (chart) { chart.destroy(); }
    });
    chartBox.textContent = "";
    if (!body.chart || !body.chart_type || !window.AtriumComponents) { return; }
    sequence += 1;
    var id = "builder-chart-" + sequence;
    var data = element("script");
    data.type = "application/json";
    data.id = id + "-data";
    data.textContent = JSON.stringify(body.chart);
    var ratio = element("div", "ratio ratio-21x9");
    var canvas = element("canvas");
    canvas.id = id;
    canvas.setAttribute("data-atrium-chart", "");
    canvas.setAttribute("data-chart-type", body.chart_type);
    canvas.setAttribute("data-chart-data-id", data.id);
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", "Preview chart");
    ratio.appendChild(canvas);
    chartBox.appendChild(data);
    chartBox.appendChild(ratio);
    window.AtriumComponents.init(chartBox);
  }

  function preview() {
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    var mine = ++sequence;
    statusLine.textContent = "Loading the preview…";
    fetch(form.getAttribute("data-preview-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "X-CSRFToken": token, Accept: "application/json" },
      body: new FormData(form)
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (mine !== sequence) { return; }  // a newer preview is on its way
      clearErrors();
      if (!result.ok) {
        statusLine.textContent = "Fix the fields marked below to see the preview.";
        showProblem(result.body);
        return;
      }
      showTable(result.body);
      showChart(result.body);
      form.setAttribute("data-preview-ready", "");
    }).catch(function () {
      statusLine.textContent = "The preview could not be loaded. Try again.";
    });
  }

  function schedule() {
    form.removeAttribute("data-preview-ready");
    window.clearTimeout(timer);
    timer = window.setTimeout(preview, 350);
  }

  // Start -----------------------------------------------------------------------------------------------------
  columnList.querySelectorAll("[data-column-item]").forEach(addMoveButtons);
  if (readFilters()) {
    form.querySelector("[data-filters-json]").classList.add("d-none");
    addFilter.classList.remove("d-none");
  }
  datasetSelect.addEventListener("change", function () {
    rebuildColumns();
    filtersBox.textContent = "";
    writeFilters();
    schedule();
  });
  form.addEventListener("change", function (event) {
    if (event.target === datasetSelect || filtersBox.contains(event.target)) { return; }
    schedule();
  });
  form.addEventListener("submit", function () { writeFilters(); });
  preview();
}());
