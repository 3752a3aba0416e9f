// Insights charts. Each chart's numbers come from a <script type="application/json"> written by Django's
// json_script and are already shown in a table; the chart only enhances it, and the table stays one click away.
(function () {
  "use strict";

  function draw(box) {
    var source = document.getElementById(box.dataset.chartSource);
    var holder = box.querySelector(".chart-canvas");
    if (!source || !holder || typeof window.Chart !== "function") return;
    var spec = JSON.parse(source.textContent);
    if (!spec.labels || !spec.labels.length) return;
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", (box.dataset.chartTitle || "Chart") + "; the same numbers are in the table.");
    holder.appendChild(canvas);
    holder.classList.remove("d-none");
    var horizontal = Boolean(spec.horizontal);
    new window.Chart(canvas, {
      type: spec.type,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set) {
          var line = spec.type === "line";
          return {
            label: set.label,
            data: set.data,
            borderColor: set.color,
            backgroundColor: line ? set.color : set.color + "b3",
            borderWidth: line ? 2 : 0,
            tension: 0,  // straight from one bucket's count to the next: a curve would show counts nobody measured
            pointRadius: spec.labels.length > 60 ? 0 : 2
          };
        })
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: spec.datasets.length > 1, position: "bottom" } },
        scales: {
          x: { stacked: Boolean(spec.stacked), beginAtZero: horizontal, ticks: { autoSkip: true, maxRotation: 0 } },
          y: { stacked: Boolean(spec.stacked), beginAtZero: !horizontal, ticks: { autoSkip: !horizontal } }
        }
      }
    });
    var table = box.querySelector(".chart-table");
    var toggle = box.querySelector(".chart-table-toggle");
    if (table && toggle) {
      table.classList.add("d-none");
      toggle.classList.remove("d-none");
    }
  }

  document.addEventListener("click", function (event) {
    var toggle = event.target.closest(".chart-table-toggle");
    if (!toggle) return;
    var table = toggle.closest("[data-chart-source]").querySelector(".chart-table");
    var hidden = table.classList.toggle("d-none");
    toggle.setAttribute("aria-expanded", hidden ? "false" : "true");
    toggle.textContent = hidden ? "Show table" : "Hide table";
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-chart-source]").forEach(draw);
  });
})();
