// authmon console behaviour. Loaded as a file (no inline scripts) so the CSP can forbid inline code.
(function () {
  "use strict";

  async function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return;
    }
    const area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "position-absolute top-0 start-0 opacity-0";
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest(".copy-btn");
    if (!button) return;
    event.preventDefault();
    copyText(button.dataset.copy || "").then(function () {
      button.classList.add("copied");
      setTimeout(function () { button.classList.remove("copied"); }, 1500);
    });
  });

  document.addEventListener("change", function (event) {
    const select = event.target.closest("select.auto-submit");
    if (select && select.form) select.form.submit();
  });

  // Confirmation for destructive forms: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    const form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
  });

  // Progress bars whose width comes from data-progress (no inline style attributes).
  function paintProgress(root) {
    (root || document).querySelectorAll("[data-progress]").forEach(function (bar) {
      bar.style.width = Math.max(0, Math.min(100, Number(bar.dataset.progress) || 0)) + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { paintProgress(document); });
  document.addEventListener("htmx:afterSwap", function (event) { paintProgress(event.target); });
})();
