/* Runs in <head> before first paint: applies the colour mode and the sidebar state, so nothing flashes.
 * The server renders the signed-in user's saved choice into <html data-atrium-mode>; visitors who are not signed
 * in keep theirs in localStorage. "auto" follows the system's prefers-color-scheme, live. */
(function () {
  "use strict";
  var root = document.documentElement;
  var store = null;
  try { store = window.localStorage; } catch (e) { store = null; }
  var locked = root.hasAttribute("data-atrium-mode-locked");
  var signedIn = root.hasAttribute("data-atrium-signed-in");
  var mode = root.getAttribute("data-atrium-mode") || "auto";
  if (!locked && !signedIn && store && store.getItem("atrium-colour-mode")) {
    mode = store.getItem("atrium-colour-mode");
  }
  var query = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function apply(choice) {
    var dark = choice === "dark" || (choice === "auto" && query && query.matches);
    root.setAttribute("data-bs-theme", dark ? "dark" : "light");
    root.setAttribute("data-atrium-mode", choice);
  }
  apply(mode);
  if (query && query.addEventListener) {
    query.addEventListener("change", function () {
      if (root.getAttribute("data-atrium-mode") === "auto") {
        apply("auto");
        document.dispatchEvent(new CustomEvent("atrium:themechange"));
      }
    });
  }
  window.atriumApplyColourMode = apply;
  var sidebar = root.getAttribute("data-atrium-sidebar");
  if (!signedIn && store && store.getItem("atrium-sidebar")) { sidebar = store.getItem("atrium-sidebar"); }
  if (sidebar === "collapsed") { root.setAttribute("data-atrium-sidebar", "collapsed"); }
})();
