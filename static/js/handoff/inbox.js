// The rep's inbox: keyboard shortcuts, select-all for bulk actions, and live updates without reload.
//
// Live updates: every POLL_MS the page asks /inbox/pulse/ for a version of the rep's open work (count awaiting
// contact, breaches, newest assignment). When it changes, the page fetches itself and swaps in the fresh rows
// (unless the rep has ticked leads: then it says so and waits), puts the count in the title, and, if the rep
// turned it on, shows a browser notification for a new assignment.
(function () {
  "use strict";

  var POLL_MS = Number(window.localStorage.getItem("inbox-poll-ms")) || 15000;  // tests poll faster
  var results = document.getElementById("inbox-results");
  if (!results) { return; }
  var baseTitle = document.title.replace(/^\(\d+\)\s*/, "");
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

  var known = null;  // the last pulse seen

  function refreshRows() {
    return fetch(window.location.href, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshResults = fresh.getElementById("inbox-results");
        var freshWindows = fresh.getElementById("sla-windows");
        if (!freshResults) { return; }
        results.innerHTML = freshResults.innerHTML;
        var windows = document.getElementById("sla-windows");
        if (windows && freshWindows) { windows.textContent = freshWindows.textContent; }
        current = -1;
        updateSelection();
        document.dispatchEvent(new CustomEvent("sla:refresh"));
      });
  }

  function onPulse(pulse) {
    document.title = "(" + pulse.todo + ") " + baseTitle;
    if (known === null) { known = pulse; return; }
    if (pulse.version === known.version) { return; }
    var arrived = pulse.newest_id !== null && (known.newest_id === null || pulse.newest_id > known.newest_id);
    var breached = pulse.breached > known.breached;
    known = pulse;
    if (document.querySelector("input[name=ids]:checked")) {
      say("Your inbox changed: reload to see it (your ticks are kept until then).");
      return;
    }
    refreshRows().then(function () {
      say(arrived ? "A new lead was assigned to you." : (breached ? "A lead breached its SLA." : "Your inbox was updated."));
    });
    if (arrived && notifying()) {
      new Notification("New lead in your inbox", { body: pulse.todo + " awaiting first contact", tag: "leadsite-inbox" });
    }
  }

  function poll() {
    fetch(results.getAttribute("data-pulse-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (pulse) { if (pulse) { onPulse(pulse); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  poll();
  window.setInterval(poll, POLL_MS);
  updateSelection();
}());
