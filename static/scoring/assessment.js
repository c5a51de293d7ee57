/* The assessment pages.

   Self-assessment: every leaf's form saves itself a moment after the user
   stops typing (POST to the leaf's JSON endpoint with the version the page
   read). Until the server has the input, it is kept in localStorage, so that
   a closed tab or a lost connection loses nothing: on the next visit the
   input comes back (and is saved) if the leaf has not changed meanwhile, and
   is offered beside the leaf if someone else changed it (409). While a save
   is pending, leaving the page asks first.

   Appraisal: each leaf's form is saved by its button without reloading the
   page; the bulk forms (accept, return, approve) wait for pending saves.

   Without JavaScript every form still posts normally. */
(function () {
  "use strict";

  var DEBOUNCE_MS = 1000;
  var RETRY_MS = 5000;
  var texts = document.getElementById("assessment-texts");
  var tree = document.querySelector("[data-assessment]");
  var assessmentId = tree ? tree.getAttribute("data-assessment") : "";
  var leaves = [];

  function text(name, value) {
    var template = (texts && texts.getAttribute("data-" + name)) || "";
    return value === undefined ? template : template.replace("{time}", value);
  }

  function storageKey(form) {
    return "cchc-assessment:" + assessmentId + ":" + form.getAttribute("data-score");
  }

  function readBackup(form) {
    try {
      var raw = window.localStorage.getItem(storageKey(form));
      return raw ? JSON.parse(raw) : null;
    } catch (error) {
      return null;
    }
  }

  function writeBackup(leaf) {
    try {
      var values = leaf.values();
      values.version = leaf.version.value;
      values.at = new Date().toISOString();
      window.localStorage.setItem(storageKey(leaf.form), JSON.stringify(values));
    } catch (error) {
      /* storage full or disabled: the autosave still runs */
    }
  }

  function dropBackup(form) {
    try {
      window.localStorage.removeItem(storageKey(form));
    } catch (error) {
      /* nothing to drop */
    }
  }

  function setTotals(data) {
    var maps = [
      ["self_totals", "data-total-node"],
      ["appraised_totals", "data-appraised-node"],
    ];
    maps.forEach(function (pair) {
      var totals = data[pair[0]] || {};
      Object.keys(totals).forEach(function (node) {
        document.querySelectorAll("[" + pair[1] + '="' + node + '"]').forEach(function (el) {
          el.textContent = totals[node];
        });
      });
    });
    document.querySelectorAll("[data-total=self]").forEach(function (el) {
      if (data.self_total !== undefined) el.textContent = data.self_total;
    });
    document.querySelectorAll("[data-total=appraised]").forEach(function (el) {
      if (data.appraised_total !== undefined) el.textContent = data.appraised_total;
    });
    document.querySelectorAll("[data-appraised]").forEach(function (el) {
      if (data.appraised !== undefined) el.textContent = data.appraised;
    });
    if (data.completeness) setCompleteness(data.completeness);
    if (data.pending) setPending(data.pending);
  }

  // The approve button waits for the leaves still to appraise, listed beside it.
  function setPending(codes) {
    var note = document.querySelector("[data-pending]");
    var list = document.querySelector("[data-pending-codes]");
    if (note && list) {
      list.textContent = "";
      list.appendChild(codeLinks(codes));
      note.hidden = codes.length === 0;
    }
    document.querySelectorAll("[data-approve]").forEach(function (button) {
      button.disabled = codes.length > 0;
    });
  }

  function codeLinks(codes) {
    var fragment = document.createDocumentFragment();
    codes.forEach(function (code, index) {
      if (index) fragment.appendChild(document.createTextNode(", "));
      var link = document.createElement("a");
      link.href = "#leaf-" + code;
      link.textContent = code;
      fragment.appendChild(link);
    });
    return fragment;
  }

  function setCompleteness(gaps) {
    var box = document.querySelector("[data-completeness]");
    if (!box) return;
    box.textContent = "";
    if (!gaps.empty.length && !gaps.missing_evidence.length) {
      var ok = document.createElement("p");
      ok.className = "ok";
      ok.setAttribute("data-testid", "complete");
      ok.textContent = text("complete");
      box.appendChild(ok);
      return;
    }
    [
      ["empty", "empty-leaves", gaps.empty],
      ["missing", "missing-evidence", gaps.missing_evidence],
    ].forEach(function (part) {
      if (!part[2].length) return;
      var line = document.createElement("p");
      line.setAttribute("data-testid", part[1]);
      line.appendChild(document.createTextNode(text(part[0]) + " "));
      line.appendChild(codeLinks(part[2]));
      box.appendChild(line);
    });
  }

  function Leaf(form, kind) {
    this.form = form;
    this.kind = kind; // "self" (autosaved) or "appraise" (saved by its button)
    this.version = form.querySelector("[data-version]");
    this.status = form.querySelector("[data-status]");
    this.error = form.querySelector("[data-error]");
    this.fields = Array.prototype.slice.call(
      form.querySelectorAll("input[type=text], textarea")
    );
    this.timer = null;
    this.inflight = null;
    this.dirty = false;
    this.stale = false;
  }

  Leaf.prototype.values = function () {
    var values = {};
    this.fields.forEach(function (field) {
      values[field.name] = field.value;
    });
    return values;
  };

  Leaf.prototype.fill = function (values) {
    this.fields.forEach(function (field) {
      if (values[field.name] !== undefined) field.value = values[field.name];
    });
  };

  Leaf.prototype.same = function (values) {
    return this.fields.every(function (field) {
      return (values[field.name] || "") === field.value;
    });
  };

  Leaf.prototype.pending = function () {
    return this.dirty || this.inflight !== null || this.timer !== null;
  };

  Leaf.prototype.show = function (message, isError) {
    if (isError) {
      this.error.textContent = message;
      this.error.hidden = false;
    } else {
      this.error.hidden = true;
      this.error.textContent = "";
    }
  };

  Leaf.prototype.changed = function () {
    this.dirty = true;
    this.status.textContent = text("unsaved");
    if (this.kind !== "self") return;
    writeBackup(this);
    if (this.stale) return; // the user must first see the other version
    var leaf = this;
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () {
      leaf.timer = null;
      leaf.save();
    }, DEBOUNCE_MS);
  };

  /* Send the leaf; resolves once the server has answered (or the request
     failed). A second call while one is in flight waits for it, then sends
     the newer input. */
  Leaf.prototype.save = function () {
    var leaf = this;
    window.clearTimeout(this.timer);
    this.timer = null;
    if (this.inflight) {
      return this.inflight.then(function () {
        return leaf.dirty && !leaf.stale ? leaf.save() : null;
      });
    }
    if (this.stale) return Promise.resolve(null);
    var sent = this.values();
    this.status.textContent = text("saving");
    this.inflight = fetch(this.form.action, {
      method: "POST",
      body: new FormData(this.form),
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return { ok: false, error: text("failed") };
          })
          .then(function (data) {
            leaf.answered(response.status, data, sent);
          });
      })
      .catch(function () {
        leaf.status.textContent = text("offline");
        leaf.timer = window.setTimeout(function () {
          leaf.timer = null;
          leaf.save();
        }, RETRY_MS);
      })
      .then(function () {
        leaf.inflight = null;
      });
    return this.inflight;
  };

  Leaf.prototype.answered = function (status, data, sent) {
    if (status === 200 && data.ok) {
      this.version.value = data.version;
      this.show("", false);
      this.status.textContent = text("saved", data.saved_at);
      if (this.same(sent)) {
        this.dirty = false;
        if (this.kind === "self") dropBackup(this.form);
      } else if (this.kind === "self") {
        writeBackup(this); // typed on during the save: now over the new version
        this.changed();
      }
      setTotals(data);
      return;
    }
    this.status.textContent = text("not-saved");
    this.show(data.error || text("failed"), true);
    if (status === 409) {
      this.stale = true; // kept in the browser; offered again after a reload
    }
  };

  function offerBackup(leaf, backup) {
    var box = leaf.form.querySelector("[data-restore]");
    if (!box) return;
    var summary = leaf.fields
      .map(function (field) {
        return backup[field.name] || "—";
      })
      .join(" · ");
    box.querySelector("[data-restore-text]").textContent = summary;
    box.hidden = false;
    box.querySelector("[data-restore-use]").addEventListener("click", function () {
      leaf.fill(backup);
      box.hidden = true;
      writeBackup(leaf); // now typed over the version on the page
      leaf.changed();
    });
    box.querySelector("[data-restore-drop]").addEventListener("click", function () {
      dropBackup(leaf.form);
      box.hidden = true;
    });
  }

  function restore(leaf) {
    var backup = readBackup(leaf.form);
    if (!backup) return;
    if (leaf.same(backup)) {
      dropBackup(leaf.form); // the server has it already
    } else if (String(backup.version) === leaf.version.value) {
      leaf.fill(backup);
      leaf.status.textContent = text("restored");
      leaf.changed();
    } else {
      offerBackup(leaf, backup);
    }
  }

  function flush() {
    return Promise.all(
      leaves
        .filter(function (leaf) {
          return leaf.kind === "self" ? leaf.pending() : leaf.inflight !== null;
        })
        .map(function (leaf) {
          return leaf.kind === "self" ? leaf.save() : leaf.inflight;
        })
    );
  }

  document.querySelectorAll("form[data-autosave]").forEach(function (form) {
    var leaf = new Leaf(form, "self");
    leaves.push(leaf);
    leaf.fields.forEach(function (field) {
      field.addEventListener("input", function () {
        leaf.changed();
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      leaf.save();
    });
    restore(leaf);
  });

  document.querySelectorAll("form[data-appraise]").forEach(function (form) {
    var leaf = new Leaf(form, "appraise");
    leaves.push(leaf);
    leaf.fields.forEach(function (field) {
      field.addEventListener("input", function () {
        leaf.changed();
      });
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      leaf.save();
    });
  });

  /* A form that leaves the page (upload, submit, return, …) first lets the
     leaves finish saving. */
  document.querySelectorAll("form[data-flush]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var waiting = leaves.some(function (leaf) {
        return leaf.kind === "self" ? leaf.pending() : leaf.inflight !== null;
      });
      if (!waiting) return;
      event.preventDefault();
      flush().then(function () {
        form.submit();
      });
    });
  });

  document.querySelectorAll("[data-check-all]").forEach(function (button) {
    button.addEventListener("click", function () {
      var form = button.closest("form");
      document
        .querySelectorAll('input[type=checkbox][form="' + form.id + '"]')
        .forEach(function (box) {
          box.checked = true;
        });
    });
  });

  window.addEventListener("beforeunload", function (event) {
    var unsaved = leaves.some(function (leaf) {
      return leaf.pending();
    });
    if (unsaved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
