// The status page: draws what /page/events sends. Every judgement is made on the
// server (wallbox/api/page_view.py); this only puts text and charts in place,
// updating them where they are so a chart is never rebuilt on every message.
"use strict";

const page = (window.teslahome = { charts: {}, data: {}, meta: {}, summaries: 0 });
const COLORS = ["#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed"];

function el(tag, cls, parent) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (parent) parent.appendChild(node);
  return node;
}

function place(parent, id, tag, cls) {
  let node = document.getElementById(id);
  if (!node) {
    node = el(tag, cls, parent);
    node.id = id;
  }
  return node;
}

function renderCard(parent, card, index) {
  const node = place(parent, card.id, "article", "card");
  if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index]);
  node.className = "card " + card.state;
  if (!node.firstChild) {
    el("h3", "", node);
    el("p", "headline", node);
    el("dl", "", node);
  }
  node.children[0].textContent = card.title;
  node.children[1].textContent = card.headline;
  const dl = node.children[2];
  dl.replaceChildren();
  for (const [label, value] of card.rows) {
    el("dt", "", dl).textContent = label;
    el("dd", "", dl).textContent = value;
  }
  if (card.chart) {
    const box = place(node, "chart-" + card.chart, "div", "chart");
    drawChart(card.chart, box);
  }
}

function renderSummary(summary) {
  const verdict = document.getElementById("verdict");
  verdict.textContent = summary.verdict.text;
  verdict.className = "verdict " + summary.verdict.state;
  const main = document.getElementById("sections");
  const wanted = new Set();
  for (const section of summary.sections) {
    const node = place(main, "section-" + section.id, "section", "");
    if (!node.firstChild) {
      el("h2", "", node).textContent = section.title;
      el("div", "cards", node);
    }
    section.cards.forEach((card, index) => {
      wanted.add(card.id);
      renderCard(node.children[1], card, index);
    });
  }
  for (const card of document.querySelectorAll(".card")) {
    if (!wanted.has(card.id)) card.remove(); // a car or token that is gone
  }
  Object.assign(page.meta, summary.charts);
  page.summaries += 1;
}

function options(name, width) {
  const meta = page.meta[name] || { series: [], units: [] };
  const units = [...new Set(meta.units)];
  const series = [{}].concat(
    meta.series.map((label, i) => {
      const line = { label: label + " [" + meta.units[i] + "]", scale: meta.units[i],
                     stroke: COLORS[i % COLORS.length], width: 2, spanGaps: true };
      // Amps are set, not measured: a step holds until the next change.
      if (meta.units[i] === "A") line.paths = uPlot.paths.stepped({ align: 1 });
      return line;
    }),
  );
  // An axis for each unit, up to three (the first on the left); the legend tells
  // the values under the cursor, for a series whose unit has no axis.
  const axes = [{ space: 80 }].concat(
    units.slice(0, 3).map((unit, i) => ({ scale: unit, side: i ? 1 : 3, label: unit, size: 44,
                                          grid: { show: i === 0 } })),
  );
  // The chart's window, or less while there is less: a single point gets a minute.
  const range = (u, min, max) => {
    let lo = Math.max(min, max - (meta.window_s || 86400));
    if (max - lo < 60) lo = max - 60;
    return [lo, max];
  };
  const scales = { x: { time: true, range } };
  return { width, height: 180, series, axes, scales };
}

function drawChart(name, box) {
  const data = page.data[name];
  if (!data || !window.uPlot) return;
  const width = Math.max(200, box.clientWidth);
  const chart = page.charts[name];
  if (chart && chart.root.parentNode === box && chart.series.length === data.length) {
    chart.setData(data);
    return;
  }
  if (chart) chart.destroy();
  box.replaceChildren();
  page.charts[name] = new uPlot(options(name, width), data, box);
  resized.observe(box);
}

function mergeCharts(news) {
  // Each chart's new points start at the last one sent before, which the server may
  // have replaced since (a newer reading in the same bucket): drop from there, append.
  for (const [name, columns] of Object.entries(news)) {
    const old = page.data[name];
    const from = columns[0].length ? columns[0][0] : Infinity;
    if (!old || old.length !== columns.length) {
      page.data[name] = columns;
    } else {
      let keep = old[0].findIndex((t) => t >= from);
      if (keep < 0) keep = old[0].length;
      page.data[name] = old.map((column, i) => column.slice(0, keep).concat(columns[i]));
    }
    const box = document.getElementById("chart-" + name);
    if (box) drawChart(name, box);
  }
}

function connect() {
  const live = document.getElementById("live");
  const events = new EventSource("/page/events");
  events.onopen = () => (live.textContent = "live");
  events.onerror = () => (live.textContent = "reconnecting…");
  events.addEventListener("summary", (e) => renderSummary(JSON.parse(e.data)));
  events.addEventListener("charts", (e) => mergeCharts(JSON.parse(e.data)));
}

// A chart follows its box's width: a window resized, a scrollbar come or gone.
const resized = new ResizeObserver((entries) => {
  for (const entry of entries) {
    const chart = page.charts[entry.target.id.slice("chart-".length)];
    const width = Math.max(200, entry.target.clientWidth);
    if (chart && chart.width !== width) chart.setSize({ width, height: 180 });
  }
});

connect();
