// The import page polls its progress while the worker previews, imports or undoes, and reloads once that has finished.
(function () {
  "use strict";
  const WORKING = ["previewing", "queued", "running", "undoing"];
  const box = document.querySelector("[data-progress-url]");
  if (!box) return;
  const url = box.getAttribute("data-progress-url");
  const bar = box.querySelector("progress");
  function show(data) {
    if (bar) {
      bar.value = data.percent;
      bar.textContent = data.percent + " %";
    }
    for (const name of ["status_label", "processed", "created", "merged", "errors"]) {
      const cell = box.querySelector('[data-field="' + name + '"]');
      if (cell) cell.textContent = data[name];
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((data) => {
        show(data);
        if (WORKING.includes(data.status)) {
          window.setTimeout(poll, 1000);
        } else {
          window.location.reload();
        }
      })
      .catch(() => window.setTimeout(poll, 5000));
  }
  window.setTimeout(poll, 500);
})();
