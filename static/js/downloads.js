/* Downloads that take a moment (a PDF laid out on the server): the link says
 * the file is being prepared until it arrives, instead of nothing happening.
 *
 * A link with data-download (and data-preparing, the words to show) is fetched
 * here; the file is then saved under the name the server gives. Any answer but
 * a file (an error page, the login page) is opened as the link would have
 * been, so its message shows as usual. */
(function () {
  "use strict";

  function fileName(response, fallback) {
    var header = response.headers.get("Content-Disposition") || "";
    var found = /filename="?([^";]+)"?/.exec(header);
    return found ? found[1] : fallback;
  }

  function save(blob, name) {
    var url = URL.createObjectURL(blob);
    var link = document.createElement("a");
    link.href = url;
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  function status(link) {
    var box = link.nextElementSibling;
    if (!box || !box.classList.contains("download-status")) {
      box = document.createElement("span");
      box.className = "download-status";
      box.setAttribute("role", "status");
      box.setAttribute("aria-live", "polite");
      link.insertAdjacentElement("afterend", box);
    }
    return box;
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-download]");
    if (!link || event.defaultPrevented || event.button !== 0 ||
        event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
      return;
    }
    if (link.getAttribute("aria-busy") === "true") {
      event.preventDefault();
      return;
    }
    event.preventDefault();
    var box = status(link);
    box.textContent = link.getAttribute("data-preparing") || "…";
    link.setAttribute("aria-busy", "true");
    fetch(link.href, { credentials: "same-origin" })
      .then(function (response) {
        var disposition = response.headers.get("Content-Disposition") || "";
        if (!response.ok || disposition.indexOf("attachment") !== 0) {
          window.location.assign(link.href);
          return null;
        }
        return response.blob().then(function (blob) {
          save(blob, fileName(response, "tai-ve"));
        });
      })
      .catch(function () { window.location.assign(link.href); })
      .then(function () {
        box.textContent = "";
        link.removeAttribute("aria-busy");
      });
  });
})();
