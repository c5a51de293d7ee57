/* The menu's counts of what waits for the user (the to-do home's items, per
   menu item): read once the page is drawn from the URL in data-counts, so no
   page waits for them and none pays their queries. Without JavaScript the
   to-do home still lists everything. */
(function () {
  "use strict";
  var script = document.currentScript;
  var url = script && script.getAttribute("data-counts");
  if (!url || !window.fetch) return;
  var title = script.getAttribute("data-title") || "";

  function show(counts) {
    var nav = document.querySelector("[data-testid=main-nav]");
    if (!nav) return;
    Object.keys(counts).forEach(function (key) {
      var count = counts[key];
      var link = nav.querySelector('a[data-nav="' + key + '"]');
      if (!link || !count || link.querySelector(".nav-count")) return;
      var badge = document.createElement("span");
      badge.className = "role-badge nav-count";
      badge.setAttribute("data-testid", "nav-count-" + key);
      badge.title = title;
      badge.textContent = String(count);
      link.appendChild(document.createTextNode(" "));
      link.appendChild(badge);
    });
  }

  function load() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : {}; })
      .then(show)
      .catch(function () { /* the menu simply shows no counts */ });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", load);
  } else {
    load();
  }
})();
