// Usage (administrators): listUsageRecords over a date range, charted per day by account for
// one usage type at a time (types have different units), with totals per type and account.

import { list } from "../api.js";
import { bytes, chart, colour, el, errorBox, table } from "../ui.js";

const BYTE_TYPES = new Set([4, 5, 21, 22, 23, 24]);
const MAX_PAGES = 40;

const day = (d) => d.toISOString().slice(0, 10);

export async function render(view, _args, stale) {
  const today = new Date();
  const start = el("input", { type: "date", id: "usage-start", value: day(new Date(today.getTime() - 29 * 86400000)), required: true });
  const end = el("input", { type: "date", id: "usage-end", value: day(new Date(today.getTime() + 86400000)), required: true });
  const account = el("select", { id: "usage-account" }, el("option", { value: "", text: "Every account" }));
  const kind = el("select", { id: "usage-type" });
  const out = el("div", { class: "usage-out" });
  const form = el("form", { class: "toolbar" },
    el("label", {}, "From", start), el("label", {}, "To", end), el("label", {}, "Account", account),
    el("label", {}, "Usage type", kind), el("button", { type: "submit", id: "usage-show", text: "Show" }));
  view.append(el("h2", { text: "Usage" }), form, out);
  const [types, accounts] = await Promise.all([
    list("listUsageTypes", "usagetype", {}),
    list("listAccounts", "account", { listall: "true", page: 1, pagesize: 500 }),
  ]);
  if (stale()) return;
  const names = new Map(types.items.map((t) => [Number(t.usagetypeid), t.description]));
  kind.append(el("option", { value: "", text: "Running VMs, or the busiest type" }), ...types.items.map((t) => el("option", { value: t.usagetypeid, text: `${t.usagetypeid}: ${t.description}` })));
  account.append(...accounts.items.map((a) => el("option", { value: a.id, text: `${a.name} (${a.domain})` })));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    show();
  });

  async function show() {
    out.replaceChildren(el("p", { class: "muted", text: "Loading usage…" }));
    try {
      const records = await fetchAll({ startdate: start.value, enddate: end.value, accountid: account.value });
      if (stale()) return;
      out.replaceChildren(...draw(records, kind.value ? Number(kind.value) : null, names));
    } catch (error) {
      out.replaceChildren(errorBox(error));
    }
  }
  await show();
}

async function fetchAll(params) {
  const records = [];
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const { items, count } = await list("listUsageRecords", "usagerecord", { ...params, page, pagesize: 500 });
    records.push(...items);
    if (!items.length || records.length >= count) break;
  }
  return records;
}

function draw(records, chosen, names) {
  if (!records.length) return [el("p", { class: "muted empty", text: "No usage in this range." })];
  const byType = new Map();
  for (const r of records) {
    const t = Number(r.usagetype);
    byType.set(t, (byType.get(t) || 0) + 1);
  }
  const type = chosen ?? (byType.has(1) ? 1 : [...byType.entries()].sort((a, b) => b[1] - a[1])[0][0]);
  const unit = (n) => (BYTE_TYPES.has(type) ? bytes(n) : `${Number(n).toFixed(2)} h`);
  const mine = records.filter((r) => Number(r.usagetype) === type);
  const days = [...new Set(mine.map((r) => r.startdate.slice(0, 10)))].sort();
  const accounts = [...new Set(mine.map((r) => r.account))].sort();
  const sum = (acc, d) => mine.filter((r) => r.account === acc && r.startdate.slice(0, 10) === d).reduce((s, r) => s + Number(r.rawusage), 0);
  const totals = new Map();
  for (const r of records) {
    const key = `${r.usagetype}|${r.account}`;
    totals.set(key, (totals.get(key) || 0) + Number(r.rawusage));
  }
  return [
    el("div", { class: "card usage-chart", "data-type": String(type) },
      el("h3", { text: `${names.get(type) || "Type " + type} per day, by account` }),
      mine.length
        ? chart({
            type: "bar",
            data: { labels: days, datasets: accounts.map((a, i) => ({ label: a, data: days.map((d) => sum(a, d)), backgroundColor: colour(i) })) },
            options: {
              scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } },
              plugins: { tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${unit(ctx.raw)}` } } },
            },
          })
        : el("p", { class: "muted", text: "No records of this type in the range." })),
    el("div", { class: "card" }, el("h3", { text: "Totals by type and account" }),
      table([
        { title: "Type", value: (t) => `${t.type}: ${names.get(t.type) || ""}` },
        { title: "Account", value: (t) => t.account },
        { title: "Raw usage", value: (t) => (BYTE_TYPES.has(t.type) ? bytes(t.raw) : `${t.raw.toFixed(2)} h`) },
      ], [...totals.entries()].map(([k, raw]) => {
        const [t, account] = k.split("|");
        return { type: Number(t), account, raw };
      }).sort((a, b) => a.type - b.type || a.account.localeCompare(b.account)))),
  ];
}
