/* What every page's markup asks of JavaScript, without inline handlers (the
   Content-Security-Policy runs no inline script): loaded in <head> without
   defer, so the "js" class is on <html> before the page is drawn; the
   handlers listen on the document, so they hold for any element.

   data-confirm="…"   on a button or link: ask first, do nothing if refused
   data-print         on a button: open the browser's print dialog
   data-back          on a link: back to the previous page */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var asking = target.closest("[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    if (target.closest("[data-print]")) {
      event.preventDefault();
      window.print();
      return;
    }
    if (target.closest("[data-back]")) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
