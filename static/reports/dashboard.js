// Dashboard charts (Apache ECharts, vendored; Chinese locale). An enhancement only: every chart
// draws figures the page already shows in a table, so without JavaScript nothing is lost.
(function () {
  "use strict";
  if (!window.echarts) return;
  var RED = "#c62828", GREY = "#9e9e9e", GREEN = "#2e7d32", AMBER = "#f9a825";

  function data(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : null;
  }

  function coverage(d) {
    var colour = function (v) { return v >= 90 ? GREEN : v >= 60 ? AMBER : RED; };
    return {
      animation: false,
      grid: { left: 8, right: 40, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, valueFormatter: function (v) { return v + "%"; } },
      xAxis: { type: "value", max: 100, axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", data: d.labels.slice().reverse(), axisTick: { show: false } },
      series: [{
        name: "覆盖率", type: "bar", barMaxWidth: 18,
        data: d.values.slice().reverse().map(function (v) { return { value: v, itemStyle: { color: colour(v) } }; }),
        label: { show: true, position: "right", formatter: "{c}%" },
      }],
    };
  }

  function trend(d) {
    return {
      animation: false,
      grid: { left: 8, right: 8, top: 36, bottom: 8, containLabel: true },
      legend: { top: 0 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: d.labels },
      yAxis: [{ type: "value", name: "走访次数" }, { type: "value", name: "累计人数", splitLine: { show: false } }],
      series: [
        { name: "走访次数", type: "bar", data: d.visits, itemStyle: { color: RED }, barMaxWidth: 28 },
        { name: "累计已走访（人）", type: "line", yAxisIndex: 1, data: d.covered, itemStyle: { color: GREY }, smooth: true },
      ],
    };
  }

  var builders = { coverage: coverage, trend: trend };
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (node) {
    var d = data(node.getAttribute("data-chart"));
    if (!d || !builders[d.kind] || !d.labels.length) return;
    node.hidden = false;
    if (d.kind === "coverage") node.style.height = Math.max(160, 28 * d.labels.length + 40) + "px";
    var chart = echarts.init(node, null, { locale: "ZH", renderer: "canvas" });
    chart.setOption(builders[d.kind](d));
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", d.kind === "coverage" ? "覆盖率图（数据见下表）" : "每周走访趋势图（数据见下表）");
    charts.push(chart);
  });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
