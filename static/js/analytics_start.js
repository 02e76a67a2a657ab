// Form analytics: tell the site once that the visitor started filling the form in (no cookie, no data sent).
(function () {
  "use strict";
  var form = document.querySelector("form[data-start-url]");
  if (!form) { return; }
  var sent = false;
  form.addEventListener("focusin", function () {
    if (sent) { return; }
    sent = true;
    var url = form.getAttribute("data-start-url");
    if (navigator.sendBeacon) {
      navigator.sendBeacon(url);
    } else {
      fetch(url, { method: "POST", keepalive: true, credentials: "omit" });
    }
  });
})();
