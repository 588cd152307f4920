// Starts Redoc on /api/redoc/ (a file, not an inline script: the CSP forbids those); the page's data attribute
// carries the schema URL.
"use strict";

(function () {
  const element = document.getElementById("redoc-container");
  Redoc.init(element.dataset.schemaUrl, {}, element);
})();
