/* The import run's page while the import runs: ask the server every second how
   far it has got, move the progress bar, and reload the page (for the summary
   and the row errors) once the run has finished. Without JavaScript the page
   refreshes itself instead (<noscript> in its head). */
(function () {
  "use strict";

  var POLL_MS = 1000;
  // After a failed request (server restarting, network gone), ask less often.
  var RETRY_MS = 5000;

  var bar = document.querySelector("progress[data-progress-url]");
  if (!bar) {
    return;
  }
  var url = bar.getAttribute("data-progress-url");
  var text = document.querySelector("[data-progress-text]");
  var status = document.querySelector("[data-testid=import-status]");

  function setField(name, value) {
    var field = text && text.querySelector("[data-field=" + name + "]");
    if (field) {
      // Grouped as the page's language writes numbers ("16.788" in Vietnamese).
      field.textContent = Number(value).toLocaleString(document.documentElement.lang || undefined);
    }
  }

  function show(data) {
    if (data.rows_expected > 0) {
      bar.max = data.rows_expected;
      bar.value = Math.min(data.rows_done, data.rows_expected);
      if (text) {
        text.hidden = false;
      }
    } else {
      bar.removeAttribute("value"); // indeterminate: rows not counted yet
    }
    setField("rows_done", data.rows_done);
    setField("rows_expected", data.rows_expected);
    if (status && data.status_label) {
      status.textContent = data.status_label;
      status.setAttribute("data-status", data.status);
    }
  }

  function poll() {
    fetch(url, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
      cache: "no-store",
    })
      .then(function (response) {
        if (response.status === 404 || response.status === 403) {
          throw new Error("gone");
        }
        if (!response.ok) {
          throw new Error("retry");
        }
        return response.json();
      })
      .then(function (data) {
        show(data);
        if (data.finished) {
          window.location.reload();
        } else {
          window.setTimeout(poll, POLL_MS);
        }
      })
      .catch(function (error) {
        if (error.message !== "gone") {
          window.setTimeout(poll, RETRY_MS);
        }
      });
  }

  window.setTimeout(poll, POLL_MS);
})();
