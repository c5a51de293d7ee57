/* What every page's markup asks of JavaScript, without inline handlers (the
   Content-Security-Policy runs no inline script): loaded in <head> without
   defer, so the "js" class is on <html> before the page is drawn; the
   handlers listen on the document, so they hold for any element.

   data-confirm="…"   on a button or link: ask first, do nothing if refused
   data-print         on a button: open the browser's print dialog
   data-back          on a link: back to the previous page
   data-menu-toggle   on the header's button: fold or unfold the menu (phones)

   A table that scrolls inside its box is made focusable, so that the
   keyboard can scroll it too. */
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
      return;
    }
    var toggle = target.closest("[data-menu-toggle]");
    if (toggle) {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      toggle.closest("header").classList.toggle("menu-open", open);
    }
  });

  function focusableScrolling() {
    var boxes = document.querySelectorAll("main table, .table-scroll, .phone-scroll, .res-scroll");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0" && !box.hasAttribute("data-keep-tabindex")) {
        box.removeAttribute("tabindex");
      }
    }
  }
  document.addEventListener("DOMContentLoaded", focusableScrolling);
  window.addEventListener("resize", focusableScrolling);
})();
