/*
 * Report page: (1) starts the table in the report's default sort, (2) adds a search box per column, and
 * (3) keeps the CSV/XLSX links pointing at the result on screen (the global search, the column searches and the
 * sort travel as the same DataTables parameters the table endpoint takes, so an export is exactly what is shown).
 * (4) applies a saved view (its searches and sort, from data-view-state) and fills the "Save this view" form with
 * the table's current state when it is submitted.
 * core/js/components.js builds the table and the chart; this file only adds to them. No inline script (CSP).
 */
(function () {
  "use strict";

  var box = document.querySelector("[data-report-table]");
  if (!box) { return; }
  var table = box.querySelector("table[data-atrium-datatable]");
  if (!table) { return; }

  // Deferred scripts run after parsing and before DOMContentLoaded, when components.js creates the DataTable,
  // so the default order set here is read by DataTables' initialisation (HTML5 data-order option).
  var viewState = {};
  try { viewState = JSON.parse(box.getAttribute("data-view-state") || "{}") || {}; } catch (e) { viewState = {}; }
  var defaultOrder = box.getAttribute("data-default-order");
  if (viewState.order && viewState.order.length) { defaultOrder = JSON.stringify(viewState.order); }
  if (defaultOrder) { table.setAttribute("data-order", defaultOrder); }

  function exportQuery(params) {
    var query = new URLSearchParams();
    if (params.search && params.search.value) { query.set("search[value]", params.search.value); }
    (params.columns || []).forEach(function (column, i) {
      if (column.search && column.search.value) { query.set("columns[" + i + "][search][value]", column.search.value); }
    });
    (params.order || []).forEach(function (order, i) {
      query.set("order[" + i + "][column]", order.column);
      query.set("order[" + i + "][dir]", order.dir);
    });
    return query.toString();
  }

  function updateExports(params) {
    var suffix = exportQuery(params);
    document.querySelectorAll("[data-report-exports] a[data-export-base]").forEach(function (link) {
      var base = link.getAttribute("data-export-base");
      link.setAttribute("href", suffix ? base + "?" + suffix : base);
    });
  }

  function columnSearch(api) {
    var headers = table.querySelectorAll("thead th[data-column]");
    var details = document.createElement("details");
    details.className = "mb-3";
    var summary = document.createElement("summary");
    summary.textContent = "Search within columns";
    details.appendChild(summary);
    var row = document.createElement("div");
    row.className = "row g-2 mt-1";
    headers.forEach(function (th, index) {
      var col = document.createElement("div");
      col.className = "col-12 col-sm-6 col-lg-3";
      var id = table.id + "-search-" + index;
      var label = document.createElement("label");
      label.className = "form-label small mb-0";
      label.setAttribute("for", id);
      label.textContent = th.textContent.trim();
      var input = document.createElement("input");
      input.type = "search";
      input.id = id;
      input.className = "form-control form-control-sm";
      input.maxLength = 200;
      input.setAttribute("data-column-search", th.getAttribute("data-column"));
      if (viewState.columns && viewState.columns[String(index)]) {
        input.value = viewState.columns[String(index)];
        details.open = true;
      }
      var timer = null;
      input.addEventListener("input", function () {
        window.clearTimeout(timer);
        timer = window.setTimeout(function () { api.column(index).search(input.value).draw(); }, 400);
      });
      col.appendChild(label);
      col.appendChild(input);
      row.appendChild(col);
    });
    details.appendChild(row);
    box.parentNode.insertBefore(details, box);
  }

  function applyView(api) {
    var searches = viewState.columns || {};
    var changed = false;
    if (viewState.search) { api.search(viewState.search); changed = true; }
    Object.keys(searches).forEach(function (index) {
      api.column(parseInt(index, 10)).search(searches[index]);
      changed = true;
    });
    if (changed) { api.draw(); }
  }

  function fillSaveForm(form, api) {
    var names = Array.prototype.map.call(table.querySelectorAll("thead th[data-column]"), function (th) {
      return th.getAttribute("data-column");
    });
    var searches = {};
    api.columns().every(function (index) {
      var value = this.search();
      if (value) { searches[names[index]] = value; }
    });
    var sort = (api.order() || []).map(function (entry) {
      var column = Array.isArray(entry) ? entry[0] : entry.idx;
      var dir = Array.isArray(entry) ? entry[1] : entry.dir;
      return (dir === "desc" ? "-" : "") + names[column];
    });
    form.querySelector("input[name=search]").value = api.search() || "";
    form.querySelector("input[name=filters]").value = JSON.stringify(searches);
    form.querySelector("input[name=columns]").value = names.join(",");
    form.querySelector("input[name=sort]").value = sort.join(",");
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (typeof window.DataTable !== "function" || !window.DataTable.isDataTable(table)) { return; }
    var api = new window.DataTable.Api(table);
    columnSearch(api);
    api.on("xhr", function () { updateExports(api.ajax.params() || {}); });
    applyView(api);
    var saveForm = document.querySelector("[data-save-view-form]");
    if (saveForm) { saveForm.addEventListener("submit", function () { fillSaveForm(saveForm, api); }); }
  });
}());
