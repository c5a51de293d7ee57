// The item form: the metric, scoring function and its parameters mean
// something only for a leaf scored from the dossier figures; hide them
// otherwise (the server ignores them then too).
(function () {
  "use strict";
  var method = document.getElementById("id_method");
  if (!method) return;
  var names = ["metric", "scoring", "scoring_params"];
  function sync() {
    var show = method.value === "metric";
    names.forEach(function (name) {
      var row = document.querySelector('[data-field="' + name + '"]');
      if (row) row.hidden = !show;
    });
  }
  method.addEventListener("change", sync);
  sync();
})();
