/* Atrium's page behaviour (vanilla JS, loaded with defer): the colour-mode switch, the collapsible sidebar, and
 * saving both to the user's preferences on the server (with the CSRF token from <meta name="csrf-token">). */
(function () {
  "use strict";
  var root = document.documentElement;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function remember(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: the server still has it */ }
  }

  function saveOnServer(body) {
    if (!root.hasAttribute("data-atrium-signed-in")) { return Promise.resolve(); }
    return fetch(root.getAttribute("data-atrium-preferences-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw new Error("Saving the preference failed: HTTP " + response.status); }
    }).catch(function (error) { console.warn(error.message); });
  }

  function markCurrentMode() {
    var mode = root.getAttribute("data-atrium-mode");
    document.querySelectorAll("[data-atrium-mode-choice]").forEach(function (button) {
      var active = button.getAttribute("data-atrium-mode-choice") === mode;
      button.classList.toggle("active", active);
      button.setAttribute("aria-pressed", active ? "true" : "false");
    });
  }

  document.addEventListener("click", function (event) {
    var choice = event.target.closest("[data-atrium-mode-choice]");
    if (choice) {
      event.preventDefault();
      var mode = choice.getAttribute("data-atrium-mode-choice");
      root.classList.add("atrium-theme-transition");
      window.atriumApplyColourMode(mode);
      window.setTimeout(function () { root.classList.remove("atrium-theme-transition"); }, 300);
      remember("atrium-colour-mode", mode);
      markCurrentMode();
      document.dispatchEvent(new CustomEvent("atrium:themechange"));
      saveOnServer({ colour_mode: mode });
      return;
    }
    var toggle = event.target.closest("[data-atrium-sidebar-toggle]");
    if (toggle) {
      var collapsed = root.getAttribute("data-atrium-sidebar") !== "collapsed";
      if (collapsed) { root.setAttribute("data-atrium-sidebar", "collapsed"); } else { root.removeAttribute("data-atrium-sidebar"); }
      toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
      remember("atrium-sidebar", collapsed ? "collapsed" : "expanded");
      saveOnServer({ sidebar_collapsed: collapsed });
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    markCurrentMode();
    var toggle = document.querySelector("[data-atrium-sidebar-toggle]");
    if (toggle && root.getAttribute("data-atrium-sidebar") === "collapsed") { toggle.setAttribute("aria-expanded", "false"); }
    document.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) { new bootstrap.Tooltip(el); });
    document.querySelectorAll('[data-bs-toggle="popover"]').forEach(function (el) { new bootstrap.Popover(el); });
  });
})();
