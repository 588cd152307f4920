/* Analytics dashboards: the long tables open sorted by their figures (most viewed page, most common step first),
 * not by their first column.
 *
 * Load this BEFORE core/js/components.js: it copies each box's data-analytics-order (a DataTables order such as
 * [[1,"desc"]]) onto the table inside as data-order, which DataTables reads as an option when components.js
 * builds the table. No inline script (CSP). */
(function () {
  "use strict";

  document.querySelectorAll("[data-analytics-order]").forEach(function (box) {
    var table = box.querySelector("table[data-atrium-datatable]");
    if (table && !table.hasAttribute("data-order")) {
      table.setAttribute("data-order", box.getAttribute("data-analytics-order"));
    }
  });
}());
