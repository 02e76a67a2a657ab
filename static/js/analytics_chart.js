// Form analytics charts in admin, drawn from the JSON the page embeds with json_script (the CSP forbids inline script).
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function draw(canvasId, config) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) { return; }
    new Chart(canvas, config);
    canvas.dataset.rendered = "true";
  }

  var forms = data("data-forms");
  if (forms) {
    draw("chart-forms", {
      type: "bar",
      data: {
        labels: forms.labels,
        datasets: [
          { label: "Conversion (submissions per view, %)", data: forms.conversion, backgroundColor: "#2563eb" },
          { label: "MQL rate (% of leads)", data: forms.mql, backgroundColor: "#f97316" }
        ]
      },
      options: { scales: { y: { beginAtZero: true, ticks: { callback: function (v) { return v + "%"; } } } } }
    });
  }

  var daily = data("data-form-daily");
  if (daily) {
    draw("chart-form-daily", {
      type: "line",
      data: {
        labels: daily.labels,
        datasets: [
          { label: "Views", data: daily.views, borderColor: "#2563eb", backgroundColor: "#2563eb", tension: 0.2 },
          { label: "Submissions", data: daily.submissions, borderColor: "#10b981", backgroundColor: "#10b981", tension: 0.2 }
        ]
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
                 interaction: { mode: "index", intersect: false } }
    });
  }
})();
