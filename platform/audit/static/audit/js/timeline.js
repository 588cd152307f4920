/*
 * Audit timeline: DataTables renders every cell as text (components.js uses DataTable.render.text(), so data
 * never becomes HTML). The "history" column holds the object's history URL; this turns it into a link after each
 * draw. Only same-site /audit/history/ paths are linked, so a value in the data can never make a foreign link.
 */
(function () {
  "use strict";

  function linkCells(table) {
    var headers = Array.prototype.slice.call(table.querySelectorAll("thead th[data-column]"));
    var index = headers.findIndex(function (th) { return th.getAttribute("data-column") === "history"; });
    if (index < 0) { return; }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var cell = row.children[index];
      if (!cell || cell.querySelector("a")) { return; }
      var path = cell.textContent.trim();
      if (path.indexOf("/audit/history/") !== 0) { return; }
      var link = document.createElement("a");
      link.href = path;
      link.textContent = "History";
      cell.textContent = "";
      cell.appendChild(link);
    });
  }

  function watch(box) {
    var table = box.querySelector("table");
    if (!table) { return; }
    // A MutationObserver, not a DataTables event: it works whatever the DataTables version or event API.
    new MutationObserver(function () { linkCells(table); }).observe(table, { childList: true, subtree: true });
    linkCells(table);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-audit-timeline]").forEach(watch);
  });
}());
