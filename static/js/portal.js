/* What every page's markup asks of JavaScript, without inline handlers (the
   Content-Security-Policy runs no inline script): loaded in <head> without
   defer, so the "js" class is on <html> before the page is drawn; the
   handlers listen on the document, so they hold for any element.

   data-confirm="…"   on a button or link: ask first, do nothing if refused;
                      with data-confirm-count="name", "{n}" in the question
                      is the number of ticked checkboxes of that name
   data-print         on a button: open the browser's print dialog
   data-back          on a link: back to the previous page
   data-menu-toggle   on the header's button: fold or unfold the menu (phones)
   data-select-all="name"  on a checkbox: tick or untick every checkbox of
                      that name on the page

   A table that scrolls inside its box is made focusable, so that the
   keyboard can scroll it too. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function confirmation(element) {
    var text = element.getAttribute("data-confirm");
    var name = element.getAttribute("data-confirm-count");
    if (!name) return text;
    var ticked = document.querySelectorAll('input[type="checkbox"][name="' + name + '"]:checked');
    return text.replace("{n}", String(ticked.length));
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var asking = target.closest("[data-confirm]");
    if (asking && !window.confirm(confirmation(asking))) {
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

  document.addEventListener("change", function (event) {
    var box = event.target instanceof Element ? event.target.closest("[data-select-all]") : null;
    if (!box) return;
    var name = box.getAttribute("data-select-all");
    var ticks = document.querySelectorAll('input[type="checkbox"][name="' + name + '"]');
    for (var i = 0; i < ticks.length; i++) ticks[i].checked = box.checked;
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
