/*
 * Security-event tables (/audit/security/): newest first by default, and each user name links to that person's
 * timeline.
 *
 * Load this BEFORE core/js/components.js: it sets data-order on the table as soon as it runs, and DataTables
 * reads the table's data-* attributes as options when components.js builds it (its default, oldest first, is the
 * wrong way round for a log).
 *
 * Cells are rendered as text by components.js; the link is built here from the box's data-user-url (a same-site
 * path with the placeholder USERNAME) and the cell's text, URL-encoded, so a user name typed at a failed sign-in
 * can never become markup or a foreign link.
 */
(function () {
  "use strict";

  var PLACEHOLDER = "USERNAME";

  function columnIndex(table, name) {
    var headers = Array.prototype.slice.call(table.querySelectorAll("thead th[data-column]"));
    return headers.findIndex(function (th) { return th.getAttribute("data-column") === name; });
  }

  function linkUsers(table, template) {
    var index = columnIndex(table, "user");
    if (index < 0 || template.indexOf("/") !== 0 || template.indexOf(PLACEHOLDER) < 0) { return; }
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var cell = row.children[index];
      // A one-cell row is DataTables' "no matching records" or "loading" message, not an event.
      if (!cell || row.children.length === 1 || cell.querySelector("a")) { return; }
      var name = cell.textContent;
      if (!name.trim()) { return; }
      var link = document.createElement("a");
      link.href = template.replace(PLACEHOLDER, encodeURIComponent(name));
      link.textContent = name;
      cell.textContent = "";
      cell.appendChild(link);
    });
  }

  function prepare(box) {
    var table = box.querySelector("table[data-atrium-datatable]");
    if (!table) { return; }
    if (!table.hasAttribute("data-order")) { table.setAttribute("data-order", "[[0,\"desc\"]]"); }
    var template = box.getAttribute("data-user-url") || "";
    // A MutationObserver, not a DataTables event: it works whatever the DataTables version or event API.
    new MutationObserver(function () { linkUsers(table, template); })
      .observe(table, { childList: true, subtree: true });
  }

  // Run now, not on DOMContentLoaded: deferred scripts run in order after parsing, so the table exists and
  // components.js (loaded after this) has not built it yet.
  document.querySelectorAll("[data-audit-security]").forEach(prepare);
}());
