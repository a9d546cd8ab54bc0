// Networks and routers: guest networks, public IP addresses with their rules, and (for root
// administrators) routers with their version, upgraded by zone, pod, cluster or account.

import { call, list, role } from "../api.js";
import { badge, el, errorBox, pagedTable, table, trackJob } from "../ui.js";

export async function render(view, _args, stale) {
  const admin = role() !== "user";
  const all = admin ? { listall: "true" } : {};
  const networks = pagedTable([
    { title: "Name", value: (n) => n.name },
    { title: "Type", value: (n) => n.type },
    { title: "State", value: (n) => badge(n.state) },
    { title: "CIDR", value: (n) => n.cidr },
    { title: "Zone", value: (n) => n.zonename },
    admin && { title: "Account", value: (n) => n.account },
  ].filter(Boolean), (page, pagesize) => list("listNetworks", "network", { page, pagesize, ...all }), { pagesize: 10, name: "networks" });
  const rules = el("div", { class: "rules" });
  const addresses = pagedTable([
    { title: "Address", value: (a) => el("a", { href: "#", class: "ip-link", text: a.ipaddress, onclick: (e) => { e.preventDefault(); showRules(rules, a); } }) },
    { title: "State", value: (a) => badge(a.state) },
    { title: "Source NAT", value: (a) => (a.issourcenat ? "yes" : "") },
    { title: "Static NAT", value: (a) => a.virtualmachinename || "" },
    { title: "Network", value: (a) => a.associatednetworkname },
    { title: "Zone", value: (a) => a.zonename },
  ], (page, pagesize) => list("listPublicIpAddresses", "publicipaddress", { page, pagesize, ...all }), { pagesize: 10, name: "addresses" });
  view.append(
    el("h2", { text: "Networks" }),
    el("div", { class: "card" }, el("h3", { text: "Guest networks" }), networks),
    el("div", { class: "card" }, el("h3", { text: "Public IP addresses" }), addresses, rules),
  );
  const loads = [networks.reload(), addresses.reload()];
  if (role() === "root") view.append(await routers(stale)); // listRouters is root's, as in 4.3
  await Promise.all(loads);
}

async function showRules(box, address) {
  box.replaceChildren(el("p", { class: "muted", text: "Loading rules…" }));
  const id = { ipaddressid: address.id, listall: role() !== "user" ? "true" : "" };
  try {
    const [firewall, forwarding, balancers] = await Promise.all([
      list("listFirewallRules", "firewallrule", id),
      list("listPortForwardingRules", "portforwardingrule", id),
      list("listLoadBalancerRules", "loadbalancerrule", { publicipid: address.id, listall: id.listall }),
    ]);
    const ports = (r) => `${r.startport ?? r.publicport ?? ""}${r.endport && r.endport !== r.startport ? "-" + r.endport : ""}`;
    box.replaceChildren(
      el("h3", { text: `Rules on ${address.ipaddress}` }),
      table([
        { title: "Kind", value: (r) => r.kind },
        { title: "Protocol", value: (r) => r.protocol },
        { title: "Ports", value: (r) => r.ports },
        { title: "To", value: (r) => r.to },
        { title: "State", value: (r) => badge(r.state) },
      ], [
        ...firewall.items.map((r) => ({ kind: "Firewall", protocol: r.protocol, ports: ports(r), to: r.cidrlist, state: r.state })),
        ...forwarding.items.map((r) => ({ kind: "Port forwarding", protocol: r.protocol, ports: `${r.publicport}${r.publicendport !== r.publicport ? "-" + r.publicendport : ""}`, to: `${r.virtualmachinename}:${r.privateport}`, state: r.state })),
        ...balancers.items.map((r) => ({ kind: "Load balancer", protocol: r.algorithm, ports: `${r.publicport}`, to: `:${r.privateport}`, state: r.state })),
      ], "No rules on this address."),
    );
  } catch (error) {
    box.replaceChildren(errorBox(error));
  }
}

const SCOPES = [
  ["zoneid", "Zone", "listZones", "zone"],
  ["podid", "Pod", "listPods", "pod"],
  ["clusterid", "Cluster", "listClusters", "cluster"],
  ["account", "Account", "listAccounts", "account"],
];

async function routers(stale) {
  const box = el("div", { class: "card routers" });
  const rows = pagedTable([
    { title: "Router", value: (r) => r.name },
    { title: "State", value: (r) => badge(r.state) },
    { title: "Version", value: (r) => r.version },
    { title: "Upgrade", value: (r) => (r.requiresupgrade ? badge("upgrade") : "") },
    { title: "Zone / pod", value: (r) => `${r.zonename} / ${r.podname || ""}` },
    { title: "Account", value: (r) => r.account },
    { title: "Public IP", value: (r) => r.publicip },
  ], (page, pagesize) => list("listRouters", "router", { page, pagesize, listall: "true" }), { pagesize: 10, name: "routers" });
  box.append(el("h3", { text: "Virtual routers" }), rows, await upgradeForm(rows, stale));
  await rows.reload();
  return box;
}

async function upgradeForm(rows, stale) {
  const scope = el("select", { id: "upgrade-scope" }, SCOPES.map(([key, title]) => el("option", { value: key, text: title })));
  const target = el("select", { id: "upgrade-target" });
  const status = el("p", { class: "muted upgrade-status" });
  async function fill() {
    const [, , command, key] = SCOPES.find(([k]) => k === scope.value);
    const params = { page: 1, pagesize: 200 };
    if (command === "listAccounts") params.listall = "true";
    const { items } = await list(command, key, params);
    if (stale()) return;
    target.replaceChildren(...items.map((i) => el("option", { value: command === "listAccounts" ? `${i.name}|${i.domainid}` : i.id, text: command === "listAccounts" ? `${i.name} (${i.domain})` : i.name })));
  }
  scope.addEventListener("change", fill);
  const button = el("button", { type: "submit", id: "upgrade-routers", text: "Upgrade routers" });
  const form = el("form", { class: "toolbar upgrade" }, el("label", {}, "Upgrade by", scope), el("label", {}, "Which", target), button, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    button.disabled = true;
    const params = {};
    if (scope.value === "account") {
      const [name, domainid] = target.value.split("|");
      Object.assign(params, { account: name, domainid });
    } else {
      params[scope.value] = target.value;
    }
    try {
      const answer = await call("upgradeRouterTemplate", params);
      const jobs = answer.asyncjobs || [];
      status.textContent = jobs.length ? `Upgrading ${jobs.length} router(s)…` : "Nothing there needs an upgrade.";
      const outcomes = await Promise.all(jobs.map((j) => trackJob(j.jobid, "Upgrading a router")));
      const failed = outcomes.filter((o) => o === null).length;
      if (jobs.length) status.textContent = `Upgraded ${jobs.length - failed} of ${jobs.length} router(s).`;
      await rows.reload();
    } catch (error) {
      status.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  await fill();
  return form;
}
