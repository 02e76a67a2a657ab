// Draws the report charts from the JSON the page embeds with json_script (no inline script: the CSP forbids it).
(function () {
  "use strict";
  if (typeof Chart === "undefined") { return; }

  var PALETTE = ["#2563eb", "#f97316", "#10b981", "#a855f7", "#ef4444", "#0ea5e9", "#eab308", "#14b8a6",
                 "#6366f1", "#94a3b8"];
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 12;
  Chart.defaults.color = "#495057";
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.plugins.legend.labels.boxWidth = 12;

  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function colour(i) { return PALETTE[i % PALETTE.length]; }
  function coloured(datasets) {
    return datasets.map(function (set, i) {
      return Object.assign({ backgroundColor: colour(i), borderColor: colour(i), borderRadius: 3 }, set);
    });
  }
  function draw(canvasId, config) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) { return null; }
    var chart = new Chart(canvas, config);
    canvas.dataset.rendered = "true";  // the browser test waits for this
    return chart;
  }
  function percent(value) { return value + "%"; }

  var volume = data("data-volume");
  if (volume) {
    draw("chart-volume", {
      type: "bar",
      data: { labels: volume.labels, datasets: coloured(volume.datasets) },
      options: {
        scales: { x: { stacked: true, grid: { display: false } }, y: { stacked: true, beginAtZero: true } },
        plugins: { legend: { position: "right" }, tooltip: { mode: "index" } }
      }
    });
  }

  var funnel = data("data-funnel");
  if (funnel) {
    draw("chart-funnel", {
      type: "bar",
      data: { labels: funnel.labels, datasets: [{ label: "Leads", data: funnel.data,
              backgroundColor: [colour(0), colour(1), colour(2)], borderRadius: 3 }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true } } }
    });
  }

  var quality = data("data-quality");
  if (quality) {
    draw("chart-quality", {
      type: "bar",
      data: { labels: quality.labels, datasets: coloured(quality.datasets) },
      options: { scales: { y: { beginAtZero: true, ticks: { callback: percent } }, x: { grid: { display: false } } },
                 plugins: { legend: { position: "top" } } }
    });
  }

  // Small multiples: a cost per SQL is often ten times a cost per lead, so each gets its own scale.
  var cost = data("data-cost");
  if (cost) {
    ["lead", "mql", "sql"].forEach(function (suffix, i) {
      var set = cost.datasets[i];
      draw("chart-cost-" + suffix, {
        type: "bar",
        data: { labels: cost.labels, datasets: [{ label: set.label, data: set.data, backgroundColor: colour(i),
                borderRadius: 3 }] },
        options: { indexAxis: "y", scales: { x: { beginAtZero: true } },
                   plugins: { legend: { display: false }, title: { display: true, text: set.label } } }
      });
    });
  }

  var attribution = data("data-attribution");
  if (attribution) {
    var chart = draw("chart-attribution", {
      type: "bar",
      data: { labels: attribution.labels, datasets: coloured(attribution.measures.leads) },
      options: { scales: { y: { beginAtZero: true }, x: { grid: { display: false } } },
                 plugins: { legend: { position: "top" }, tooltip: { mode: "index" } } }
    });
    var buttons = document.querySelectorAll("[data-measure-switch='chart-attribution'] [data-measure]");
    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        buttons.forEach(function (other) {
          other.classList.toggle("active", other === button);
          other.setAttribute("aria-pressed", String(other === button));
        });
        chart.data.datasets = coloured(attribution.measures[button.dataset.measure]);
        chart.update();
      });
    });
  }

  var sla = data("data-sla");
  if (sla) {
    draw("chart-sla", {
      type: "bar",
      data: { labels: sla.labels, datasets: [
        { label: "Met in time", data: sla.met, backgroundColor: "#10b981", borderRadius: 3 },
        { label: "Breached", data: sla.breached, backgroundColor: "#ef4444", borderRadius: 3 }
      ] },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } },
                 plugins: { legend: { position: "top" } } }
    });
  }
}());
