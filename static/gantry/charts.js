// Charts on the deployment page: data comes from a json_script element, never inline script (CSP).
(function () {
  "use strict";
  const COLORS = { ready: "#1f7a4d", total: "#3451d1", cost: "#b86e00" };

  // Request metrics (templates/deployments/metrics.html): one line per series, gaps where no data.
  const METRIC_LINES = {
    requests: [["Requests/s", "rps", COLORS.total]],
    latency: [["p50", "p50", COLORS.ready], ["p95", "p95", COLORS.cost], ["p99", "p99", "#b3261e"]],
    load: [["Errors %", "errors", "#b3261e"], ["Concurrency / replica", "concurrency", COLORS.total]],
    gpu: [["GPU utilisation %", "gpu_util", COLORS.ready], ["GPU memory GiB", "gpu_mem", COLORS.cost]],
  };

  function datasets(kind, data) {
    if (METRIC_LINES[kind]) {
      return { type: "line", sets: METRIC_LINES[kind].map(([label, key, color]) => (
        { label: label, data: data[key], borderColor: color, pointRadius: 0, spanGaps: false })) };
    }
    if (kind === "cost") {
      return { type: "bar", sets: [{ label: data.cost_label || "USD", data: data.cost, backgroundColor: COLORS.cost }] };
    }
    if (data.range === "30d") {
      return { type: "bar", sets: [{ label: data.pods_label || "Average pods", data: data.total, backgroundColor: COLORS.total }] };
    }
    return {
      type: "line",
      sets: [
        { label: "Total pods", data: data.total, borderColor: COLORS.total, backgroundColor: "rgba(52,81,209,.08)", fill: true, stepped: true, pointRadius: 0 },
        { label: "Ready pods", data: data.ready, borderColor: COLORS.ready, stepped: true, pointRadius: 0 },
      ],
    };
  }

  // Whole pods; money as dollars with the cents that matter (the pages' format: $1.25, $0.0125).
  function yTicks(kind) {
    if (kind === "pods") return { precision: 0 };
    if (kind !== "cost") return {};
    return { callback: (value) => "$" + Number(value).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 4 }) };
  }

  function draw(canvas) {
    if (typeof Chart === "undefined") return;
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const data = JSON.parse(source.textContent);
    const spec = datasets(canvas.dataset.kind, data);
    const existing = Chart.getChart(canvas);
    if (existing) existing.destroy();
    new Chart(canvas, {
      type: spec.type,
      data: { labels: data.labels, datasets: spec.sets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: { legend: { display: spec.sets.length > 1, position: "bottom" } },
        scales: {
          x: { ticks: { maxTicksLimit: 8, autoSkip: true }, grid: { display: false } },
          y: { beginAtZero: true, ticks: yTicks(canvas.dataset.kind) },
        },
      },
    });
  }

  function drawAll(root) {
    (root || document).querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll(document));
  // htmx swaps in a new chart section when the range changes.
  document.addEventListener("htmx:load", (event) => drawAll(event.detail.elt));
})();
