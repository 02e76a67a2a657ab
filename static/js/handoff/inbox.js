// The rep's inbox: keyboard shortcuts and the optional browser notification of a new assignment. The live
// updates themselves (polling, swapping in fresh rows, the count in the title) are live.js, shared with the
// team queue.
(function () {
  "use strict";

  var results = document.getElementById("inbox-results");
  if (!results) { return; }
  var status = document.querySelector("[data-live-status]");
  var current = -1;

  // --- Rows, focus and selection ------------------------------------------------------------------

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("tr[data-row]")); }

  function focusRow(index) {
    var all = rows();
    if (!all.length) { return; }
    current = Math.max(0, Math.min(index, all.length - 1));
    all.forEach(function (row, i) { row.classList.toggle("row-focused", i === current); });
    var link = all[current].querySelector(".cell-lead a");
    if (link) { link.focus(); }
  }

  function focusedRow() {
    var all = rows();
    var active = document.activeElement && document.activeElement.closest ? document.activeElement.closest("tr[data-row]") : null;
    if (active) { current = all.indexOf(active); return active; }
    return current >= 0 ? all[current] : null;
  }

  function updateSelection() { document.dispatchEvent(new CustomEvent("selection:refresh")); }

  // --- Keyboard shortcuts -------------------------------------------------------------------------

  function typing(event) {
    var el = event.target;
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) && el.type !== "checkbox";
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event)) { return; }
    if (document.querySelector(".modal.show")) { return; }
    var row;
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current < 0 ? 0 : current - 1); break;
      case "o":
        row = focusedRow();
        if (row) { window.location.assign(row.getAttribute("data-url")); }
        break;
      case "a":
        row = focusedRow();
        if (row && row.getAttribute("data-state") === "assigned") {
          var form = document.getElementById("accept-form");
          form.action = row.getAttribute("data-accept-url");
          form.submit();
        } else if (row) {
          say("This lead is already accepted.");
        }
        break;
      case "x":
        row = focusedRow();
        if (row) {
          var box = row.querySelector("input[name=ids]");
          box.checked = !box.checked;
          updateSelection();
        }
        break;
      case "/":
        var search = document.getElementById("id_q");
        if (search) { search.focus(); search.select(); }
        break;
      case "?":
        if (window.bootstrap) { window.bootstrap.Modal.getOrCreateInstance(document.getElementById("shortcuts-help")).show(); }
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  // --- Live updates -------------------------------------------------------------------------------

  function say(text) { if (status) { status.textContent = text; } }

  var notifyButton = document.querySelector("[data-notify-toggle]");
  function notifying() {
    return "Notification" in window && Notification.permission === "granted" && localStorage.getItem("inbox-notify") === "1";
  }
  function showNotifyButton() {
    if (!notifyButton || !("Notification" in window)) { return; }
    notifyButton.classList.remove("d-none");
    notifyButton.textContent = notifying() ? "Notifications on" : "Notify me";
    notifyButton.setAttribute("aria-pressed", notifying() ? "true" : "false");
  }
  if (notifyButton) {
    notifyButton.addEventListener("click", function () {
      if (notifying()) { localStorage.removeItem("inbox-notify"); showNotifyButton(); return; }
      Notification.requestPermission().then(function (permission) {
        if (permission === "granted") { localStorage.setItem("inbox-notify", "1"); }
        showNotifyButton();
      });
    });
    showNotifyButton();
  }

  // live.js saw the inbox change (a new assignment: tell the rep if they asked), then swapped in fresh rows.
  document.addEventListener("live:refreshed", function () { current = -1; });
  document.addEventListener("live:changed", function (event) {
    if (event.detail.arrived && notifying()) {
      new Notification("New lead in your inbox", { body: event.detail.pulse.count + " awaiting first contact", tag: "leadsite-inbox" });
    }
  });

  updateSelection();
}());
