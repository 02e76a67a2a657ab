"use strict";
// Scoring rule admin form: show only the parameter fieldset of the chosen rule kind, and pick the
// dimension for kinds that count towards one only. Without JavaScript every kind's fieldset stays
// visible, only the chosen kind's inputs are used, and a wrong dimension is reported on save.
(function () {
  function allowedDimensions(kind) {
    const data = document.getElementById("scoring-kind-dimensions");
    return data ? JSON.parse(data.textContent)[kind] || [] : [];
  }

  function showParamsOfChosenKind(event) {
    const kind = document.getElementById("id_kind");
    if (!kind) {
      return;
    }
    document.querySelectorAll("fieldset.scoring-params").forEach(function (fieldset) {
      fieldset.hidden = !fieldset.classList.contains("scoring-kind-" + kind.value);
    });
    const dimension = document.getElementById("id_dimension");
    const allowed = allowedDimensions(kind.value);
    if (event && dimension && allowed.length === 1) {
      dimension.value = allowed[0];
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    const kind = document.getElementById("id_kind");
    if (kind) {
      kind.addEventListener("change", showParamsOfChosenKind);
      showParamsOfChosenKind(null);
    }
  });
})();
