// Live updates for the inbox and the team queue, without reload.
//
// The list's container (data-live-url) names a pulse endpoint: a small JSON of the work behind the page
// ({count, breached, newest, version}). Every POLL_MS the page asks for it; when the version changes, the page
// fetches itself and swaps in the container's fresh content and the SLA opening windows (unless something is
// ticked: then it says so and waits), and puts the count in the title. Each change is announced as a
// "live:changed" event on the document (detail: pulse, arrived, breached), and each swap as "live:refreshed",
// for a page to add its own touches (the inbox's browser notification and keyboard focus).
(function () {
  "use strict";

  var list = document.querySelector("[data-live-url]");
  if (!list) { return; }
  var POLL_MS = Number(window.localStorage.getItem("inbox-poll-ms")) || 15000;  // tests poll faster
  var baseTitle = document.title.replace(/^\([^)]*\)\s*/, "");
  var status = document.querySelector("[data-live-status]");
  var words = {
    arrived: list.getAttribute("data-live-arrived") || "Something new arrived.",
    breached: list.getAttribute("data-live-breached") || "An SLA was breached.",
    changed: list.getAttribute("data-live-changed") || "This list was updated.",
    waiting: list.getAttribute("data-live-waiting") || "This list changed: reload to see it (your ticks are kept until then).",
  };
  var known = null;  // the last pulse seen

  function say(text) { if (status) { status.textContent = text; } }

  function refresh() {
    return fetch(window.location.href, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var freshList = fresh.getElementById(list.id);
        var freshWindows = fresh.getElementById("sla-windows");
        if (!freshList) { return; }
        list.innerHTML = freshList.innerHTML;
        var windows = document.getElementById("sla-windows");
        if (windows && freshWindows) { windows.textContent = freshWindows.textContent; }
        document.dispatchEvent(new CustomEvent("selection:refresh"));
        document.dispatchEvent(new CustomEvent("sla:refresh"));
      });
  }

  function onPulse(pulse) {
    document.title = "(" + pulse.count + ") " + baseTitle;
    if (known === null) { known = pulse; return; }
    if (pulse.version === known.version) { return; }
    var arrived = pulse.newest !== null && (known.newest === null || pulse.newest > known.newest);
    var breached = pulse.breached > known.breached;
    known = pulse;
    document.dispatchEvent(new CustomEvent("live:changed", { detail: { pulse: pulse, arrived: arrived, breached: breached } }));
    if (list.querySelector("input[type=checkbox][name$=ids]:checked")) {
      say(words.waiting);
      return;
    }
    refresh().then(function () {
      say(arrived ? words.arrived : (breached ? words.breached : words.changed));
      document.dispatchEvent(new CustomEvent("live:refreshed"));
    });
  }

  function poll() {
    fetch(list.getAttribute("data-live-url"), { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (pulse) { if (pulse) { onPulse(pulse); } })
      .catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  poll();
  window.setInterval(poll, POLL_MS);
}());
