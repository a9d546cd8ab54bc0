// Instances: the list (filters, search, paging on the server) and one instance's details,
// with start, stop, reboot, scale and destroy followed as async jobs until they end.

import { call, list, role } from "../api.js";
import { badge, describe, el, errorBox, pagedTable, table, trackJob, when } from "../ui.js";

const STATES = ["", "Running", "Stopped", "Starting", "Stopping", "Error", "Destroyed"];

export async function render(view, [id], stale) {
  if (id) return details(view, id, stale);
  const admin = role() !== "user";
  const search = el("input", { type: "search", id: "vm-search", placeholder: "Name or keyword" });
  const state = el("select", { id: "vm-state" }, STATES.map((s) => el("option", { value: s, text: s || "Any state" })));
  const zone = el("select", { id: "vm-zone" }, el("option", { value: "", text: "Any zone" }));
  const columns = [
    { title: "Name", value: (vm) => el("a", { href: `#/instances/${vm.id}`, class: "vm-link", text: vm.displayname || vm.name }) },
    { title: "State", value: (vm) => badge(vm.state) },
    { title: "IP address", value: (vm) => (vm.nic || []).map((n) => n.ipaddress).filter(Boolean).join(", ") },
    { title: "Zone", value: (vm) => vm.zonename },
    { title: "Offering", value: (vm) => `${vm.serviceofferingname || ""} (${vm.cpunumber}×${vm.cpuspeed} MHz, ${vm.memory} MiB)` },
    admin && { title: "Account", value: (vm) => vm.account },
    { title: "Created", value: (vm) => when(vm.created) },
  ].filter(Boolean);
  const rows = pagedTable(
    columns,
    (page, pagesize) =>
      list("listVirtualMachines", "virtualmachine", {
        page,
        pagesize,
        keyword: search.value.trim(),
        state: state.value,
        zoneid: zone.value,
        listall: admin ? "true" : "",
      }),
    { pagesize: 20, empty: "No instances match.", name: "instances" },
  );
  let typing;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => rows.reload(true), 250);
  });
  state.addEventListener("change", () => rows.reload(true));
  zone.addEventListener("change", () => rows.reload(true));
  view.append(
    el("h2", { text: "Instances" }),
    el(
      "div",
      { class: "toolbar" },
      el("label", {}, "Search", search),
      el("label", {}, "State", state),
      el("label", {}, "Zone", zone),
      el("a", { href: "#/deploy", id: "deploy-link" }, el("button", { type: "button", text: "Deploy instance" })),
    ),
    rows,
  );
  const [zones] = await Promise.all([list("listZones", "zone", { pagesize: 200, page: 1 }), rows.reload()]);
  if (stale()) return;
  zone.append(...zones.items.map((z) => el("option", { value: z.id, text: z.name })));
}

async function details(view, id, stale) {
  const { items } = await list("listVirtualMachines", "virtualmachine", { id, listall: role() !== "user" ? "true" : "" });
  if (stale()) return;
  const vm = items[0];
  if (!vm) {
    view.append(el("h2", { text: "Instance" }), el("p", { class: "error", text: "No such instance, or not yours to see." }));
    return;
  }
  const volumes = await list("listVolumes", "volume", { virtualmachineid: id, listall: role() !== "user" ? "true" : "" });
  if (stale()) return;
  const again = () => {
    if (!stale()) {
      view.replaceChildren();
      details(view, id, stale);
    }
  };
  const act = (command, verb, extra = {}) => async () => {
    for (const b of view.querySelectorAll(".actions button")) b.disabled = true;
    try {
      const { jobid } = await call(command, { id, ...extra });
      await trackJob(jobid, `${verb} ${vm.name}`);
    } catch (error) {
      view.prepend(errorBox(error));
    }
    again();
  };
  const running = vm.state === "Running";
  const stopped = vm.state === "Stopped";
  const scale = (running || stopped) && (await scaleForm(vm, act));
  if (stale()) return;
  view.append(
    el("p", {}, el("a", { href: "#/instances", text: "← Instances" }),
      role() === "root" ? el("a", { href: `#/timetravel/${vm.id}`, class: "history-link", text: " · History and time travel" }) : null),
    el("h2", {}, `${vm.displayname || vm.name} `, badge(vm.state)),
    el(
      "div",
      { class: "toolbar actions" },
      stopped && el("button", { type: "button", id: "vm-start", onclick: act("startVirtualMachine", "Starting") }, "Start"),
      running && el("button", { type: "button", id: "vm-stop", onclick: act("stopVirtualMachine", "Stopping") }, "Stop"),
      running && el("button", { type: "button", id: "vm-reboot", onclick: act("rebootVirtualMachine", "Rebooting") }, "Reboot"),
      (running || stopped || vm.state === "Error") &&
        el("button", {
          type: "button",
          id: "vm-destroy",
          class: "danger",
          onclick: (e) => { if (confirmed(e)) act("destroyVirtualMachine", "Destroying")(); },
        }, "Destroy"),
    ),
    scale || null,
    el(
      "div",
      { class: "card" },
      describe([
        ["Id", vm.id],
        ["Instance name", vm.instancename || vm.name],
        ["Zone", vm.zonename],
        ["Host", vm.hostname],
        ["Template", vm.templatename],
        ["Offering", `${vm.serviceofferingname} — ${vm.cpunumber} CPU × ${vm.cpuspeed} MHz, ${vm.memory} MiB`],
        ["Account", `${vm.account} (${vm.domain})`],
        ["Key pair", vm.keypair],
        ["Created", when(vm.created)],
      ]),
    ),
    el("h3", { text: "NICs" }),
    table(
      [
        { title: "Network", value: (n) => n.networkname },
        { title: "IP address", value: (n) => n.ipaddress },
        { title: "MAC", value: (n) => n.macaddress },
        { title: "Traffic", value: (n) => n.traffictype },
        { title: "Default", value: (n) => (n.isdefault ? "yes" : "") },
      ],
      vm.nic || [],
      "No NICs.",
    ),
    el("h3", { text: "Volumes" }),
    table(
      [
        { title: "Name", value: (v) => v.name },
        { title: "Type", value: (v) => v.type },
        { title: "Size", value: (v) => `${Math.round((v.size || 0) / 1024 ** 3)} GiB` },
        { title: "State", value: (v) => badge(v.state) },
      ],
      volumes.items,
      "No volumes.",
    ),
    el("h3", { text: "Tags" }),
    table(
      [
        { title: "Key", value: (t) => t.key },
        { title: "Value", value: (t) => t.value },
      ],
      vm.tags || [],
      "No tags.",
    ),
  );
}

// Scaling: another compute offering, with CPUs, speed and memory when it is custom.
async function scaleForm(vm, act) {
  const { items } = await list("listServiceOfferings", "serviceoffering", { page: 1, pagesize: 200 });
  const others = items.filter((o) => o.id !== vm.serviceofferingid || o.iscustomized);
  if (!others.length) return null;
  const offering = el("select", { id: "scale-offering" }, others.map((o) => el("option", { value: o.id, text: o.name })));
  const custom = el("span", { class: "row" });
  const field = (id, label, value) => el("label", {}, label, el("input", { id, type: "number", min: 1, required: true, value }));
  const shape = () => {
    const chosen = others.find((o) => o.id === offering.value);
    custom.replaceChildren(...(chosen && chosen.iscustomized
      ? [field("scale-cpu", "CPUs", vm.cpunumber), field("scale-speed", "Speed (MHz)", vm.cpuspeed), field("scale-memory", "Memory (MiB)", vm.memory)]
      : []));
  };
  offering.addEventListener("change", shape);
  shape();
  const form = el("form", { class: "toolbar scale" }, el("label", {}, "Scale to", offering), custom,
    el("button", { type: "submit", id: "vm-scale", class: "ghost", text: "Scale" }));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const extra = { serviceofferingid: offering.value };
    const value = (id) => form.querySelector(`#${id}`)?.value;
    if (value("scale-cpu")) {
      extra["details[0].cpuNumber"] = value("scale-cpu");
      extra["details[0].cpuSpeed"] = value("scale-speed");
      extra["details[0].memory"] = value("scale-memory");
    }
    act("scaleVirtualMachine", "Scaling", extra)();
  });
  return form;
}

// Destroying asks twice: the first click arms the button, the second destroys.
function confirmed(event) {
  const button = event.currentTarget;
  if (button.dataset.armed) return true;
  button.dataset.armed = "true";
  button.textContent = "Click again to destroy";
  return false;
}
