// Select-all for the bulk actions of the inbox and the team queue: the header checkbox ticks every row of the
// page, and a counter says how many are ticked.
(function () {
  "use strict";

  function boxes() { return document.querySelectorAll("input[type=checkbox][name$=ids]"); }

  function update() {
    var all = boxes();
    var ticked = 0;
    all.forEach(function (box) { if (box.checked) { ticked += 1; } });
    document.querySelectorAll("[data-select-all]").forEach(function (head) {
      head.checked = all.length > 0 && ticked === all.length;
      head.indeterminate = ticked > 0 && ticked < all.length;
    });
    document.querySelectorAll("[data-selected-count]").forEach(function (counter) {
      counter.textContent = ticked ? ticked + " ticked" : "";
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) { return; }
    if (target.matches("[data-select-all]")) {
      boxes().forEach(function (box) { box.checked = target.checked; });
      update();
    } else if (target.matches("input[type=checkbox][name$=ids]")) {
      update();
    }
  });
  document.addEventListener("selection:refresh", update);
  update();
}());
