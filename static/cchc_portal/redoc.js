/* Starts Redoc on the API's schema (templates/api/redoc.html) instead of
   drf-spectacular's inline script, which the Content-Security-Policy does not
   run. */
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  var options = JSON.parse(container.getAttribute("data-settings") || "{}");
  Redoc.init(container.getAttribute("data-spec-url"), options, container);
})();
