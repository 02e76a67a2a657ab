// Inside the iframe embed.js inserts: tell the embedding page how tall the form is, so it can size the
// iframe without scroll bars. Only a height is sent, so any parent may read it.
(function () {
  "use strict";
  if (window.parent === window) {
    return;
  }
  function sendHeight() {
    // The html element's own height is its content's, even when the iframe is taller.
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    window.parent.postMessage({ type: "leadsite:resize", height: height }, "*");
  }
  if (window.ResizeObserver) {
    new ResizeObserver(sendHeight).observe(document.body);
  }
  window.addEventListener("load", sendHeight);
  sendHeight();
})();
