// Starts Swagger UI on /api/docs/ (a file, not an inline script: the CSP forbids those). The page's data
// attributes carry the schema URL and settings; writes made with the browser's session send the CSRF token.
"use strict";

(function () {
  const element = document.getElementById("swagger-ui");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");
  const csrfHeader = element.dataset.csrfHeader;
  const settings = JSON.parse(element.dataset.settings || "{}");

  const requestInterceptor = (request) => {
    // Only same-origin calls carry the session, and only writes need the token.
    if (!["GET", "HEAD", "OPTIONS", undefined].includes(request.method) && request.credentials === "same-origin") {
      request.headers[csrfHeader] = csrfToken;
    }
    return request;
  };

  window.ui = SwaggerUIBundle({
    url: element.dataset.schemaUrl,
    dom_id: "#swagger-ui",
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    requestInterceptor,
    ...settings,
  });
})();
