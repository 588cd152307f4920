/* Runs as soon as it is parsed (not deferred), so what happens on the page afterwards is recorded for a bug report:
 * the last 10 JavaScript errors (window "error" and "unhandledrejection") and the X-Request-ID of the last 5
 * fetch/XHR calls (static files left out). feedback.js reads them from window.atriumFeedbackCapture. */
(function () {
  "use strict";
  if (window.atriumFeedbackCapture) { return; }
  var MAX_ERRORS = 10;
  var MAX_REQUESTS = 5;
  var capture = { errors: [], requests: [] };
  window.atriumFeedbackCapture = capture;

  function keep(list, item, max) {
    list.push(item);
    while (list.length > max) { list.shift(); }
  }

  function text(value) {
    try { return String(value).slice(0, 500); } catch (e) { return "?"; }
  }

  window.addEventListener("error", function (event) {
    // Errors loading a resource (img, script) reach capturing listeners only, and carry no message.
    keep(capture.errors, {
      time: new Date().toISOString(),
      message: text(event.message || "Resource failed to load"),
      source: text(event.filename || (event.target && (event.target.src || event.target.href)) || ""),
      line: event.lineno || 0,
      column: event.colno || 0
    }, MAX_ERRORS);
  }, true);

  window.addEventListener("unhandledrejection", function (event) {
    var reason = event.reason;
    keep(capture.errors, {
      time: new Date().toISOString(),
      message: "Unhandled promise rejection: " + text(reason && reason.message ? reason.message : reason),
      source: "",
      line: 0,
      column: 0
    }, MAX_ERRORS);
  });

  function record(url, status, requestId) {
    if (!requestId || /\/static\//.test(url)) { return; }
    keep(capture.requests, { url: text(url), status: status, request_id: text(requestId) }, MAX_REQUESTS);
  }

  if (window.fetch) {
    var originalFetch = window.fetch;
    window.fetch = function (input, init) {
      var url = typeof input === "string" ? input : (input && input.url) || "";
      return originalFetch.call(this, input, init).then(function (response) {
        try { record(url, response.status, response.headers.get("X-Request-ID")); } catch (e) { /* opaque */ }
        return response;
      });
    };
  }

  var open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    this.atriumUrl = url;
    this.addEventListener("loadend", function () {
      try { record(String(this.atriumUrl), this.status, this.getResponseHeader("X-Request-ID")); } catch (e) { /* */ }
    });
    return open.apply(this, arguments);
  };
})();
