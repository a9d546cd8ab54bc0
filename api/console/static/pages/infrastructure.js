// Infrastructure (root admins): the counts and CPU sockets per hypervisor (listInfrastructure),
// then zones, pods, clusters and hosts with their state, each paged on the server.

import { list, call } from "../api.js";
import { badge, bytes, el, pagedTable, table } from "../ui.js";

const paged = (command, key, columns, name, params = {}) =>
  pagedTable(columns, (page, pagesize) => list(command, key, { page, pagesize, ...params }), { pagesize: 10, name });

export async function render(view, _args, stale) {
  const summary = (await call("listInfrastructure", {})).infrastructure || {};
  if (stale()) return;
  const counts = { zones: "Zones", pods: "Pods", clusters: "Clusters", hosts: "Hosts", storagepools: "Primary storage", imagestores: "Image stores", alerts: "Alerts" };
  const tables = [
    ["Zones", paged("listZones", "zone", [
      { title: "Name", value: (z) => z.name },
      { title: "Network", value: (z) => z.networktype },
      { title: "Allocation", value: (z) => badge(z.allocationstate) },
      { title: "DNS", value: (z) => [z.dns1, z.dns2].filter(Boolean).join(", ") },
    ], "zones")],
    ["Pods", paged("listPods", "pod", [
      { title: "Name", value: (p) => p.name },
      { title: "Zone", value: (p) => p.zonename },
      { title: "Gateway", value: (p) => p.gateway },
      { title: "Allocation", value: (p) => badge(p.allocationstate) },
    ], "pods")],
    ["Clusters", paged("listClusters", "cluster", [
      { title: "Name", value: (c) => c.name },
      { title: "Pod", value: (c) => c.podname },
      { title: "Zone", value: (c) => c.zonename },
      { title: "Hypervisor", value: (c) => c.hypervisortype },
      { title: "Allocation", value: (c) => badge(c.allocationstate) },
    ], "clusters")],
    ["Hosts", paged("listHosts", "host", [
      { title: "Name", value: (h) => h.name },
      { title: "State", value: (h) => badge(h.state) },
      { title: "Resource state", value: (h) => badge(h.resourcestate) },
      { title: "Hypervisor", value: (h) => h.hypervisor },
      { title: "Sockets", value: (h) => h.cpusockets },
      { title: "CPU", value: (h) => `${h.cpunumber}×${h.cpuspeed} MHz, ${h.cpuallocated} allocated` },
      { title: "Memory", value: (h) => `${bytes(h.memoryallocated)} of ${bytes(h.memorytotal)}` },
      { title: "Zone / pod / cluster", value: (h) => `${h.zonename} / ${h.podname} / ${h.clustername}` },
    ], "hosts", { type: "Routing" })],
  ];
  view.append(
    el("h2", { text: "Infrastructure" }),
    el("p", {}, el("a", { href: "#/addzone", id: "add-zone" }, el("button", { type: "button", text: "Add a zone" }))),
    el("div", { class: "grid counts" }, Object.entries(counts).map(([k, title]) =>
      el("div", { class: "card" }, el("div", { class: "muted", text: title }), el("div", { class: "stat", "data-count": k, text: String(summary[k] ?? 0) })))),
    el("div", { class: "card sockets" },
      el("h3", {}, "CPU sockets per hypervisor ", el("span", { class: "muted", text: `(${summary.cpusockets || 0} in all)` })),
      table([
        { title: "Hypervisor", value: (s) => s.hypervisor },
        { title: "Hosts", value: (s) => s.hosts },
        { title: "Sockets", value: (s) => s.cpusockets },
      ], summary.sockets || [], "No hosts yet.")),
    ...tables.map(([title, box]) => el("div", { class: "card", "data-table": title.toLowerCase() }, el("h3", { text: title }), box)),
  );
  await Promise.all(tables.map(([, box]) => box.reload()));
}
