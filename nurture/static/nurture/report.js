// Draws the nurture report's chart from the JSON the page embeds with json_script (the CSP forbids inline script).
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }
  var source = document.getElementById("data-nurture");
  var canvas = document.getElementById("chart-nurture");
  if (!source || !canvas) { return; }
  var data = JSON.parse(source.textContent);
  var PALETTE = ["#2563eb", "#10b981", "#f97316", "#ef4444", "#a855f7"];
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.datasets.map(function (set, i) {
        return Object.assign({ backgroundColor: PALETTE[i % PALETTE.length], borderRadius: 3 }, set);
      })
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } }, x: { grid: { display: false } } },
               plugins: { legend: { position: "top" } } }
  });
  canvas.dataset.rendered = "true";  // the browser test waits for this
})();
