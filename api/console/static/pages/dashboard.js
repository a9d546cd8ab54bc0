// The dashboard: capacity per zone as charts (listCapacity), the latest alerts and events,
// and the routers that need an upgrade.

import { list } from "../api.js";
import { badge, bytes, chart, colour, el, table, when } from "../ui.js";

// listCapacity's types, as CloudStack names them.
export const CAPACITY = {
  0: "Memory", 1: "CPU", 2: "Primary storage", 3: "Primary storage allocated", 4: "Public IPs",
  5: "Management IPs", 6: "Secondary storage", 7: "VLANs", 8: "Direct IPs", 9: "Local storage",
  19: "GPU",
};
const SIZES = new Set([0, 2, 3, 6, 9]);

const amount = (type, n) => (SIZES.has(type) ? bytes(n) : type === 1 ? `${n} MHz` : String(n));

export async function render(view, _args, stale) {
  const [capacity, alerts, events, routers] = await Promise.all([
    list("listCapacity", "capacity", {}),
    list("listAlerts", "alert", { page: 1, pagesize: 5 }),
    list("listEvents", "event", { page: 1, pagesize: 8, listall: "true" }),
    list("listRouters", "router", { listall: "true", page: 1, pagesize: 500 }),
  ]);
  if (stale()) return;
  const zones = new Map();
  for (const c of capacity.items) {
    if (!zones.has(c.zoneid)) zones.set(c.zoneid, { name: c.zonename, items: [] });
    zones.get(c.zoneid).items.push(c);
  }
  const stale_routers = routers.items.filter((r) => r.requiresupgrade);
  view.append(
    el("h2", { text: "Dashboard" }),
    el("h3", { text: "Capacity per zone" }),
    zones.size
      ? el("div", { class: "grid capacity" }, [...zones.values()].map(zoneCard))
      : el("p", { class: "muted", text: "No zone reports capacity yet." }),
    el(
      "div",
      { class: "grid" },
      el("div", { class: "card alerts" }, el("h3", { text: "Latest alerts" }),
        table([
          { title: "When", value: (a) => when(a.sent) },
          { title: "Alert", value: (a) => a.description },
        ], alerts.items, "No alerts.")),
      el("div", { class: "card events" }, el("h3", { text: "Latest events" }),
        table([
          { title: "When", value: (e) => when(e.created) },
          { title: "Who", value: (e) => e.username },
          { title: "What", value: (e) => `${e.type}: ${e.description}` },
          { title: "", value: (e) => badge(e.level) },
        ], events.items, "No events.")),
      el("div", { class: "card routers-upgrade" },
        el("h3", {}, "Routers needing an upgrade ", el("span", { class: "stat", id: "routers-to-upgrade", text: String(stale_routers.length) })),
        table([
          { title: "Router", value: (r) => r.name },
          { title: "Zone", value: (r) => r.zonename },
          { title: "Version", value: (r) => r.version },
        ], stale_routers.slice(0, 8), "Every router runs the current version."),
        stale_routers.length ? el("p", {}, el("a", { href: "#/networks", text: "Upgrade them on the Networks page →" })) : null),
    ),
  );
}

function zoneCard(zone) {
  const items = zone.items.filter((c) => Number(c.capacitytotal) > 0).sort((a, b) => a.type - b.type);
  const used = items.map((c) => Number(c.capacityused));
  const free = items.map((c) => Math.max(0, Number(c.capacitytotal) - Number(c.capacityused)));
  return el(
    "div",
    { class: "card zone-capacity", "data-zone": zone.name },
    el("h3", { text: zone.name }),
    chart({
      type: "bar",
      data: {
        labels: items.map((c) => CAPACITY[c.type] || `Type ${c.type}`),
        datasets: [
          { label: "Used %", data: items.map((c, i) => (100 * used[i]) / Number(c.capacitytotal)), backgroundColor: colour(0) },
          { label: "Free %", data: items.map((c, i) => (100 * free[i]) / Number(c.capacitytotal)), backgroundColor: "#dde3e9" },
        ],
      },
      options: {
        indexAxis: "y",
        scales: { x: { stacked: true, max: 100 }, y: { stacked: true } },
        plugins: {
          tooltip: {
            callbacks: { label: (ctx) => `${ctx.dataset.label.split(" ")[0]}: ${amount(items[ctx.dataIndex].type, ctx.datasetIndex ? free[ctx.dataIndex] : used[ctx.dataIndex])}` },
          },
        },
      },
    }),
    table(
      [
        { title: "Capacity", value: (c) => CAPACITY[c.type] || c.type },
        { title: "Used", value: (c) => amount(c.type, c.capacityused) },
        { title: "Total", value: (c) => amount(c.type, c.capacitytotal) },
        { title: "%", value: (c) => c.percentused },
      ],
      items,
    ),
  );
}
