// Draws the report charts from the JSON the page embeds with json_script (no inline script: CSP).
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : [];
  }
  function bar(canvasId, labels, values, label) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || typeof Chart === "undefined") { return; }
    new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: "#0d6efd" }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } } }
    });
  }
  var stage = data("data-stage");
  bar("chart-stage", stage.map(function (r) { return r.stage; }), stage.map(function (r) { return r.count; }), "Leads");
  var weekly = data("data-weekly");
  bar("chart-weekly", weekly.map(function (r) { return String(r.week).slice(0, 10); }),
      weekly.map(function (r) { return r.count; }), "New leads");
}());
