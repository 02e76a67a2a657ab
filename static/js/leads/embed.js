// Leadsite form embed. Paste into any page:
//   <script src="https://leads.example.com/f/<slug>/embed.js"></script>
// It inserts the form in an iframe right after this script tag and passes the page's address (as the
// landing page), its referrer and its UTM parameters (and gclid) through to the form.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) {
    return;
  }
  var scriptUrl = new URL(script.src, window.location.href);
  var frameUrl = new URL(scriptUrl.pathname.replace(/embed\.js$/, "embed/"), scriptUrl.origin);
  var page = new URL(window.location.href);
  ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "gclid"].forEach(function (name) {
    var value = page.searchParams.get(name);
    if (value) {
      frameUrl.searchParams.set(name, value);
    }
  });
  frameUrl.searchParams.set("landing_page", window.location.href);
  if (document.referrer) {
    frameUrl.searchParams.set("referrer", document.referrer);
  }

  var iframe = document.createElement("iframe");
  iframe.src = frameUrl.toString();
  iframe.title = script.getAttribute("data-title") || "Form";
  iframe.setAttribute("data-leadsite-form", "");
  iframe.style.width = "100%";
  iframe.style.maxWidth = script.getAttribute("data-max-width") || "40rem";
  iframe.style.height = "640px";
  iframe.style.border = "0";
  script.parentNode.insertBefore(iframe, script.nextSibling);

  window.addEventListener("message", function (event) {
    if (event.origin !== scriptUrl.origin || event.source !== iframe.contentWindow) {
      return;
    }
    var data = event.data;
    if (data && data.type === "leadsite:resize" && typeof data.height === "number" && data.height > 0) {
      iframe.style.height = Math.ceil(data.height) + "px";
    }
  });
})();
