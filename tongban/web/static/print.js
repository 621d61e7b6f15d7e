// The receipt's print button (a file, not inline script, so the page's CSP can forbid inline code).
document.querySelectorAll("[data-print]").forEach(function (button) {
  button.addEventListener("click", function () { window.print(); });
});
