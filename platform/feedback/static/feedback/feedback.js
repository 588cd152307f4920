/* The "Report a problem" modal: takes a screenshot of the page (html-to-image, without the modal), lets the user
 * black out parts of it by dragging boxes on a canvas, and posts the report with the page's context to
 * /api/v1/bug-reports/ (multipart, session + CSRF token). Loaded with defer, after Bootstrap. */
(function () {
  "use strict";
  var modal = document.getElementById("atrium-feedback-modal");
  if (!modal) { return; }
  // Bootstrap wants modals at the top level (the include sits in the footer, whose styles would leak in).
  document.body.appendChild(modal);

  var root = document.documentElement;
  var form = document.getElementById("atrium-feedback-form");
  var canvas = document.getElementById("atrium-feedback-canvas");
  var status = document.getElementById("atrium-feedback-shot-status");
  var errorBox = document.getElementById("atrium-feedback-error");
  var doneBox = document.getElementById("atrium-feedback-done");
  var send = document.getElementById("atrium-feedback-send");
  var description = document.getElementById("atrium-feedback-description");
  var shot = null;        // the captured page as an Image, or null (none, or removed)
  var boxes = [];         // redaction boxes in image pixels: {x, y, w, h}
  var drawing = null;     // the box being dragged
  var capturing = false;
  canvas.style.cursor = "crosshair";
  canvas.style.touchAction = "none";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function colourMode() {
    return root.getAttribute("data-bs-theme") === "dark" ? "dark" : "light";
  }

  function showStatus(message) {
    status.textContent = message;
    status.classList.toggle("d-none", !message);
  }

  function redraw() {
    if (!shot) { canvas.classList.add("d-none"); return; }
    var context = canvas.getContext("2d");
    context.drawImage(shot, 0, 0);
    context.fillStyle = "#000";
    boxes.concat(drawing ? [drawing] : []).forEach(function (b) { context.fillRect(b.x, b.y, b.w, b.h); });
    canvas.classList.remove("d-none");
  }

  function kept(node) {
    if (!node || !node.classList) { return true; }
    return !(node === modal || node.classList.contains("modal-backdrop") || node.classList.contains("tooltip"));
  }

  // html-to-image embeds only the web fonts it sees on elements, not on ::before (where icon fonts are used):
  // an invisible element naming every loaded font makes it embed those too, so icons are not drawn as boxes.
  function fontProbe() {
    var families = [];
    if (document.fonts && document.fonts.forEach) {
      document.fonts.forEach(function (face) {
        if (face.status === "loaded" && families.indexOf(face.family) < 0) { families.push(face.family); }
      });
    }
    var probe = document.createElement("span");
    probe.setAttribute("aria-hidden", "true");
    probe.style.position = "absolute";
    probe.style.width = "0";
    probe.style.height = "0";
    probe.style.overflow = "hidden";
    probe.style.fontFamily = families.join(", ");
    document.body.appendChild(probe);
    return probe;
  }

  function capture() {
    if (capturing) { return; }
    if (!window.htmlToImage) { showStatus("Screenshots are not available in this browser."); return; }
    capturing = true;
    shot = null;
    boxes = [];
    redraw();
    showStatus("Taking a screenshot…");
    var width = window.innerWidth;
    var height = window.innerHeight;
    var style = window.scrollY ? { transform: "translateY(-" + window.scrollY + "px)" } : {};
    var fonts = fontProbe();
    window.htmlToImage.toPng(document.body, {
      width: width,
      height: height,
      canvasWidth: width,
      canvasHeight: height,
      pixelRatio: 1,
      filter: kept,
      style: style,
      backgroundColor: getComputedStyle(document.body).backgroundColor
    }).then(function (dataUrl) {
      fonts.remove();
      var image = new Image();
      image.onload = function () {
        shot = image;
        canvas.width = image.naturalWidth;
        canvas.height = image.naturalHeight;
        showStatus("");
        redraw();
        capturing = false;
      };
      image.src = dataUrl;
    }).catch(function (error) {
      fonts.remove();
      capturing = false;
      showStatus("The screenshot could not be taken (" + (error && error.message ? error.message : error) + ").");
    });
  }

  function point(event) {
    var rect = canvas.getBoundingClientRect();
    return {
      x: Math.round((event.clientX - rect.left) * canvas.width / rect.width),
      y: Math.round((event.clientY - rect.top) * canvas.height / rect.height)
    };
  }

  canvas.addEventListener("pointerdown", function (event) {
    if (!shot) { return; }
    var start = point(event);
    drawing = { x: start.x, y: start.y, w: 0, h: 0, startX: start.x, startY: start.y };
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", function (event) {
    if (!drawing) { return; }
    var now = point(event);
    drawing.x = Math.min(now.x, drawing.startX);
    drawing.y = Math.min(now.y, drawing.startY);
    drawing.w = Math.abs(now.x - drawing.startX);
    drawing.h = Math.abs(now.y - drawing.startY);
    redraw();
  });
  canvas.addEventListener("pointerup", function () {
    if (drawing && drawing.w > 2 && drawing.h > 2) { boxes.push(drawing); }
    drawing = null;
    redraw();
  });

  document.getElementById("atrium-feedback-retake").addEventListener("click", capture);
  document.getElementById("atrium-feedback-undo").addEventListener("click", function () { boxes.pop(); redraw(); });
  document.getElementById("atrium-feedback-remove").addEventListener("click", function () {
    shot = null;
    boxes = [];
    redraw();
    showStatus("No screenshot will be sent. Retake to add one.");
  });

  modal.addEventListener("shown.bs.modal", function () {
    errorBox.classList.add("d-none");
    doneBox.classList.add("d-none");
    send.disabled = false;
    description.focus();
    capture();
  });

  function context() {
    var recorded = window.atriumFeedbackCapture || { errors: [], requests: [] };
    return {
      url: window.location.href,
      title: document.title,
      section: modal.getAttribute("data-section") || "",
      viewport: { width: window.innerWidth, height: window.innerHeight },
      device_pixel_ratio: window.devicePixelRatio || 1,
      colour_mode: colourMode(),
      page_request_id: modal.getAttribute("data-request-id") || "",
      recent_request_ids: recorded.requests.slice(),
      js_errors: recorded.errors.slice(),
      user_agent: navigator.userAgent
    };
  }

  function showErrors(body) {
    var params = (body && body.invalid_params) || [];
    var messages = params.map(function (p) { return p.name + ": " + p.reason; });
    errorBox.textContent = messages.length ? messages.join(" ") : ((body && body.detail) || "The report could not be sent.");
    errorBox.classList.remove("d-none");
    params.forEach(function (p) {
      if (p.name === "description") { description.classList.add("is-invalid"); }
    });
  }

  function blob() {
    return new Promise(function (resolve) {
      if (!shot) { resolve(null); return; }
      drawing = null;
      redraw();  // the boxes are painted into the pixels that are sent, not laid over them
      canvas.toBlob(function (result) { resolve(result); }, "image/png");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    description.classList.remove("is-invalid");
    errorBox.classList.add("d-none");
    if (!description.value.trim()) {
      description.classList.add("is-invalid");
      description.nextElementSibling.textContent = "Please say what went wrong.";
      description.focus();
      return;
    }
    send.disabled = true;
    var ctx = context();
    blob().then(function (png) {
      var data = new FormData();
      data.append("description", description.value);
      data.append("expected", form.elements.expected.value);
      data.append("severity", form.elements.severity.value);
      data.append("section", ctx.section);
      data.append("url", ctx.url);
      data.append("request_id", ctx.page_request_id);
      data.append("context", JSON.stringify(ctx));
      if (png) { data.append("screenshot", png, "screenshot.png"); }
      return fetch(modal.getAttribute("data-api-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        body: data
      });
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) { showErrors(body); send.disabled = false; return; }
        form.reset();
        shot = null;
        boxes = [];
        redraw();
        showStatus("");
        doneBox.textContent = "";
        doneBox.append("Thank you: report #" + body.id + " was sent to the support team. ");
        var link = document.createElement("a");
        link.href = modal.getAttribute("data-mine-url");
        link.textContent = "Follow it in your reports.";
        doneBox.append(link);
        doneBox.classList.remove("d-none");
        doneBox.setAttribute("data-report-id", body.id);
      });
    }).catch(function (error) {
      showErrors({ detail: "The report could not be sent: " + error.message });
      send.disabled = false;
    });
  });
})();
