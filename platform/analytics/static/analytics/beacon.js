/* Time on page (analytics app): how long this page was visible, sent to /analytics/beacon/ with
 * navigator.sendBeacon when the page is hidden (tab switched, window minimised) and when it is left (pagehide).
 *
 * The time counts from navigation start (performance.now() is 0 there) while the page is visible, summed over
 * visible periods; a page restored from the back-forward cache counts on. Every beacon carries the total so far,
 * and the server keeps the largest, so a second beacon for the same view never counts twice. sendBeacon cannot
 * set headers, so the CSRF token travels in the form body, as any form's does. No inline script (CSP). */
(function () {
  "use strict";

  var mark = document.querySelector("[data-analytics-beacon]");
  if (!mark || !navigator.sendBeacon || !window.FormData || !window.performance) { return; }
  var url = mark.getAttribute("data-url");
  var token = mark.getAttribute("data-token");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";

  var visibleMs = 0;
  // A page opened in a background tab starts counting when it is first shown.
  var visibleSince = document.visibilityState === "visible" ? 0 : null;
  var lastSent = -1;

  function pause() {
    if (visibleSince !== null) {
      visibleMs += performance.now() - visibleSince;
      visibleSince = null;
    }
  }

  function send() {
    var ms = Math.max(0, Math.round(visibleMs));
    if (ms === lastSent) { return; }  // hidden, then left: the same total needs saying once
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    body.append("token", token);
    body.append("ms", String(ms));
    if (navigator.sendBeacon(url, body)) { lastSent = ms; }
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      pause();
      send();
    } else if (visibleSince === null) {
      visibleSince = performance.now();
    }
  });
  window.addEventListener("pagehide", function () {
    pause();
    send();
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.visibilityState === "visible") { visibleSince = performance.now(); }
  });
})();
