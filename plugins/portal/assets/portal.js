// Gatehouse portal: progressive enhancement only. Every page works without this file.
"use strict";
(function () {
  // Disable a form's submit buttons once it is submitted (no double posts).
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!(form instanceof HTMLFormElement) || ev.defaultPrevented) return;
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-busy", "true");
      });
    }, 0);
  });
  // Restore buttons when the page comes back from the back/forward cache.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll("button[aria-busy=true]").forEach(function (b) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    });
  });
  // Show/hide password buttons (rendered hidden; shown only when this script runs).
  document.querySelectorAll("[data-toggle-password]").forEach(function (btn) {
    var input = document.getElementById(btn.getAttribute("data-toggle-password"));
    if (!input) return;
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var show = input.type === "password";
      input.type = show ? "text" : "password";
      btn.setAttribute("aria-pressed", show ? "true" : "false");
      btn.textContent = show ? btn.getAttribute("data-hide") : btn.getAttribute("data-show");
    });
  });
  // Move focus to the error message so screen readers announce it and keyboard users start there.
  var err = document.getElementById("error");
  if (err) {
    err.setAttribute("tabindex", "-1");
    err.focus();
  }
})();
