// Public form: disable the button once the form is sent, so a double click sends it once.
// (The server is idempotent anyway: a resubmit of the same rendered form is the same submission.)
(function () {
  "use strict";
  function setButtons(form, disabled) {
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = disabled;
    });
  }
  document.querySelectorAll("form.leads-form").forEach(function (form) {
    form.addEventListener("submit", function () {
      setButtons(form, true);
    });
    // Coming back with the browser's Back button restores the page as it was left: enable it again.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        setButtons(form, false);
      }
    });
  });
})();
