// Small DOM helpers shared by the pages: elements, tables, a pager, badges, charts, jobs.

import { waitForJob } from "./api.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "onclick" || name === "onchange" || name === "onsubmit" || name === "oninput") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "text") {
      node.textContent = value;
    } else {
      node.setAttribute(name, value === true ? "" : value);
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function badge(text) {
  return el("span", { class: `badge ${String(text).replace(/\W/g, "")}`, text });
}

export function errorBox(error) {
  return el("p", { class: "error", role: "alert", text: error.message || String(error) });
}

// A table of `items` with `columns`: [{title, value(item) -> Node|string}].
export function table(columns, items, empty = "Nothing to show") {
  if (!items.length) return el("p", { class: "muted empty", text: empty });
  return el(
    "table",
    {},
    el("thead", {}, el("tr", {}, columns.map((c) => el("th", { text: c.title })))),
    el(
      "tbody",
      {},
      items.map((item) => el("tr", {}, columns.map((c) => el("td", {}, c.value(item) ?? "")))),
    ),
  );
}

// A table filled page by page by the server: `load(page, pagesize)` -> {items, count}.
export function pagedTable(columns, load, { pagesize = 20, empty, name = "items" } = {}) {
  const box = el("div", { class: "paged" });
  let page = 1;
  async function show() {
    box.replaceChildren(el("p", { class: "muted", text: "Loading…" }));
    try {
      const { items, count } = await load(page, pagesize);
      const pages = Math.max(1, Math.ceil(count / pagesize));
      box.replaceChildren(
        table(columns, items, empty),
        el(
          "div",
          { class: "pager" },
          el("button", { class: "ghost", type: "button", disabled: page <= 1, onclick: () => { page -= 1; show(); } }, "‹ Previous"),
          el("span", { class: "page-info", text: `Page ${page} of ${pages} · ${count} ${name}` }),
          el("button", { class: "ghost", type: "button", disabled: page >= pages, onclick: () => { page += 1; show(); } }, "Next ›"),
        ),
      );
      performance.mark("table-drawn");
    } catch (error) {
      box.replaceChildren(errorBox(error));
    }
  }
  box.reload = (first = false) => {
    if (first) page = 1;
    return show();
  };
  return box;
}

export function describe(pairs) {
  return el("dl", { class: "kv" }, pairs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", {}, v ?? "")]));
}

export function when(text) {
  if (!text) return "";
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? text : d.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let value = Number(n) || 0;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
  return `${value.toFixed(i ? 1 : 0)} ${units[i]}`;
}

const PALETTE = ["#1f6feb", "#1a7f37", "#b35900", "#8250df", "#c62828", "#0a7ea4", "#6e7781", "#bf3989"];
export const colour = (i) => PALETTE[i % PALETTE.length];

// Chart.js (vendored, pinned) is loaded once, after the first screen has what it needs.
let charts = null;
export function loadCharts() {
  charts ||= new Promise((resolve, reject) => {
    const script = el("script", { src: "vendor/chart-4.6.1.umd.min.js" });
    script.addEventListener("load", () => resolve(window.Chart));
    script.addEventListener("error", () => reject(new Error("the charting library did not load")));
    document.head.append(script);
  });
  return charts;
}

// A Chart.js chart in a fixed-height box; animation off so it is drawn at once.
export function chart(config) {
  const canvas = el("canvas");
  const box = el("div", { class: "chart-box" }, canvas);
  config.options = { responsive: true, maintainAspectRatio: false, animation: false, ...(config.options || {}) };
  loadCharts().then(
    (Chart) => requestAnimationFrame(() => new Chart(canvas, config)),
    (error) => box.replaceChildren(errorBox(error)),
  );
  return box;
}

// The jobs panel: one line per async job, its progress shown until it ends.
export function trackJob(jobId, title, onDone = () => {}) {
  const state = el("span", { class: "badge pending", text: "pending" });
  const elapsed = el("span", { class: "muted" });
  const line = el("div", { class: "job pending", "data-job": jobId },
    el("div", {}, el("strong", { text: title }), " ", state, " ", elapsed),
    el("div", { class: "bar" }, el("i")),
  );
  const panel = document.getElementById("jobs");
  panel.append(line);
  const started = Date.now();
  const finish = (outcome, text) => {
    line.className = `job ${outcome}`;
    state.className = `badge ${outcome}`;
    state.textContent = outcome;
    elapsed.textContent = text;
    setTimeout(() => line.remove(), outcome === "failed" ? 20000 : 6000);
  };
  return waitForJob(jobId, () => {
    elapsed.textContent = `${Math.round((Date.now() - started) / 1000)} s`;
  }).then(
    (result) => {
      finish("succeeded", `in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      onDone(result, null);
      return result;
    },
    (error) => {
      finish("failed", error.message);
      onDone(null, error);
      return null;
    },
  );
}
