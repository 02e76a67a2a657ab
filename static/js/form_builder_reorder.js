// The form builder's fields in admin: reorder the rows by dragging their handle (SortableJS) or, with the handle
// focused, with the up and down arrow keys. The hidden "order" input of every row follows the rows' order.
(function () {
  "use strict";
  var group = document.querySelector(".form-builder");
  if (!group) { return; }
  var body = group.querySelector("table tbody");
  if (!body) { return; }
  var live = document.createElement("p");
  live.className = "form-builder-live";
  live.setAttribute("aria-live", "polite");
  group.appendChild(live);

  function rows() {
    return Array.prototype.filter.call(body.querySelectorAll("tr.form-row"), function (row) {
      return !row.classList.contains("empty-form");
    });
  }
  function labelOf(row) {
    var input = row.querySelector("input[name$='-label']");
    return (input && input.value) || "this field";
  }
  function renumber() {
    rows().forEach(function (row, index) {
      var order = row.querySelector("input[name$='-order']");
      if (order) { order.value = String(index + 1); }
    });
  }
  function addHandle(row) {
    if (row.classList.contains("empty-form") || row.querySelector(".form-builder-handle")) { return; }
    var cell = row.querySelector("td.original");
    if (!cell) { return; }
    var handle = document.createElement("button");
    handle.type = "button";
    handle.className = "form-builder-handle";
    handle.textContent = "⠿";
    handle.title = "Drag to move, or press the up and down arrow keys";
    handle.setAttribute("aria-label", "Move " + labelOf(row) + " (up and down arrow keys)");
    handle.addEventListener("keydown", function (event) {
      if (event.key !== "ArrowUp" && event.key !== "ArrowDown") { return; }
      event.preventDefault();
      var all = rows();
      var index = all.indexOf(row);
      var target = event.key === "ArrowUp" ? all[index - 1] : all[index + 1];
      if (!target) { return; }
      if (event.key === "ArrowUp") { body.insertBefore(row, target); } else { body.insertBefore(row, target.nextSibling); }
      renumber();
      handle.focus();
      live.textContent = labelOf(row) + " moved to position " + (rows().indexOf(row) + 1) + " of " + all.length + ".";
    });
    cell.insertBefore(handle, cell.firstChild);
  }

  rows().forEach(addHandle);
  renumber();
  document.addEventListener("formset:added", function (event) {
    if (event.target && event.target.classList) { addHandle(event.target); }
    renumber();
  });
  group.closest("form").addEventListener("submit", renumber);

  if (typeof Sortable !== "undefined") {
    Sortable.create(body, {
      handle: ".form-builder-handle",
      draggable: "tr.form-row:not(.empty-form)",
      animation: 120,
      forceFallback: true,  // pointer events rather than native drag and drop: the same on every browser
      onEnd: function (event) {
        renumber();
        live.textContent = labelOf(event.item) + " moved to position " + (event.newDraggableIndex + 1) + ".";
      }
    });
    group.dataset.sortable = "ready";
  }
})();
