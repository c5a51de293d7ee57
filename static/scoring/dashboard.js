/* The dashboard's charts (Chart.js, served from static/vendor/chartjs).
   Each chart reads the figures its page wrote with json_script; the tables
   next to them hold the same figures for readers without JavaScript. */
(function () {
  "use strict";
  var TIER_COLOURS = { A: "#1e7d32", B: "#0b5cad", C: "#b26a00", D: "#b3261e" };
  var VI = document.documentElement.lang === "vi";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function number(value) {
    return value === null || value === undefined
      ? "—"
      : value.toLocaleString(VI ? "vi-VN" : "en-GB", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  function rankChart() {
    var figures = data("rank-data");
    var canvas = document.getElementById("rank-chart");
    if (!figures || !canvas) return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: figures.labels,
        datasets: [{
          label: VI ? "Chỉ số" : "Index",
          data: figures.index,
          backgroundColor: figures.tier.map(function (t) { return TIER_COLOURS[t] || "#8a96a3"; })
        }]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: 100 }, x: { ticks: { autoSkip: true, maxRotation: 60 } } },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (c) { return number(c.parsed.y); } } }
        }
      }
    });
  }

  function kpiChart() {
    var figures = data("kpi-data");
    var canvas = document.getElementById("kpi-chart");
    if (!figures || !canvas) return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: figures.labels,
        datasets: [
          { label: VI ? "Tỷ lệ của nhóm" : "Group rate", data: figures.rate, backgroundColor: "#0b5cad" },
          { label: VI ? "Chỉ tiêu (trung vị)" : "Median target", data: figures.target, backgroundColor: "#ffb74d" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: { y: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } } },
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + number(c.parsed.y) + "%"; } } } }
      }
    });
  }

  function trendChart() {
    var figures = data("trend-data");
    var canvas = document.getElementById("trend-chart");
    if (!figures || !canvas) return;
    new Chart(canvas, {
      type: "line",
      data: {
        labels: figures.labels,
        datasets: [
          { label: VI ? "Chỉ số" : "Index", data: figures.index, borderColor: "#0b5cad", backgroundColor: "#0b5cad", yAxisID: "index" },
          { label: VI ? "Thứ hạng" : "Rank", data: figures.rank, borderColor: "#b3261e", backgroundColor: "#b3261e", borderDash: [5, 4], yAxisID: "rank" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        scales: {
          index: { position: "left", min: 0, max: 100 },
          // Rank 1 at the top: a climb goes up.
          rank: { position: "right", reverse: true, min: 1, ticks: { precision: 0 }, grid: { drawOnChartArea: false } }
        }
      }
    });
  }

  function autosubmit() {
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () {
        // A new year or group starts from its first page and unit.
        select.form.submit();
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    autosubmit();
    if (typeof Chart === "undefined") return;
    rankChart();
    kpiChart();
    trendChart();
  });
})();
