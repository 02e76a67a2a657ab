// Live SLA countdowns. The server renders each clock's business seconds left ("balance", negative once
// breached) at the instant in data-sla-now, and every team's opening windows for the next 48 hours
// (json_script "sla-windows"). From those this script counts business time on, so a clock only ticks
// while its team is open. The wording mirrors handoff/countdown.py.
(function () {
  "use strict";

  var root, clocks, calendars, renderedAt, loadedAt, reloadWhenStale;

  // Reads the clocks and their windows from the page; again after the inbox swaps in fresh rows
  // (static/js/handoff/inbox.js dispatches "sla:refresh").
  function read() {
    root = document.querySelector("[data-sla-now]");
    clocks = document.querySelectorAll("[data-sla-balance]");
    var windowsTag = document.getElementById("sla-windows");
    calendars = windowsTag ? JSON.parse(windowsTag.textContent) : {};
    renderedAt = root ? Number(root.getAttribute("data-sla-now")) : 0;
    loadedAt = performance.now();
    reloadWhenStale = root ? root.getAttribute("data-sla-reload") === "1" : false;
  }
  read();
  document.addEventListener("sla:refresh", function () { read(); tick(); });
  var HORIZON_MS = 48 * 3600 * 1000;
  var WARN_BELOW = 0.5;
  var URGENT_BELOW = 0.25;

  // Server time now, from the page's render instant plus the monotonic time since load (no clock skew).
  function now() { return renderedAt + (performance.now() - loadedAt); }

  function businessMs(windows, from, to) {
    var total = 0;
    for (var i = 0; i < windows.length; i++) {
      var start = Math.max(windows[i][0], from);
      var end = Math.min(windows[i][1], to);
      if (end > start) { total += end - start; }
    }
    return total;
  }

  function isOpen(windows, at) {
    for (var i = 0; i < windows.length; i++) {
      if (windows[i][0] <= at && at < windows[i][1]) { return true; }
    }
    return false;
  }

  function pad(n) { return n < 10 ? "0" + n : String(n); }

  function formatDuration(seconds) {
    seconds = Math.max(seconds, 0);
    var hours = Math.floor(seconds / 3600);
    var minutes = Math.floor((seconds % 3600) / 60);
    var secs = seconds % 60;
    if (hours) { return hours + "h " + pad(minutes) + "m " + pad(secs) + "s"; }
    if (minutes) { return minutes + "m " + pad(secs) + "s"; }
    return secs + "s";
  }

  function breachedLabel(overdueSeconds) {
    var minutes = Math.floor(Math.max(overdueSeconds, 0) / 60);
    var hours = Math.floor(minutes / 60);
    minutes = minutes % 60;
    if (hours) { return "breached " + hours + "h " + pad(minutes) + "m ago in business hours"; }
    if (minutes) { return "breached " + minutes + "m ago in business hours"; }
    return "breached";
  }

  function show(clock, urgency, state, label) {
    clock.className = "sla-clock sla-" + urgency;
    clock.setAttribute("data-sla-state", state);
    if (clock.textContent !== label) { clock.textContent = label; }
  }

  function tick() {
    if (!root || !clocks.length) { return; }
    var at = now();
    if (reloadWhenStale && at - renderedAt > HORIZON_MS - 60000) {
      window.location.reload();  // the opening windows run out: fetch fresh ones
      return;
    }
    for (var i = 0; i < clocks.length; i++) {
      var clock = clocks[i];
      var state = clock.getAttribute("data-sla-state");
      if (state === "met" || state === "stopped" || state === "overdue") { continue; }  // labels that never tick
      var windows = calendars[clock.getAttribute("data-sla-team")] || [];
      var balance = Number(clock.getAttribute("data-sla-balance"));
      var target = Number(clock.getAttribute("data-sla-target"));
      var left = balance - Math.floor(businessMs(windows, renderedAt, at) / 1000);
      var open = isOpen(windows, at);
      if (left <= 0) {
        show(clock, "breached", "breached", breachedLabel(-left));
      } else if (!open) {
        show(clock, "paused", "paused", "paused — outside business hours · " + formatDuration(left) + " left");
      } else {
        var share = target ? left / target : 0;
        var urgency = share < URGENT_BELOW ? "urgent" : (share < WARN_BELOW ? "warn" : "ok");
        show(clock, urgency, "running", "due in " + formatDuration(left));
      }
    }
  }

  tick();
  window.setInterval(tick, 1000);
}());
