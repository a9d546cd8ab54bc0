// The deploy wizard: zone, a template or a bootable ISO (with the hypervisor to run it), offering
// (custom CPUs, speed and memory when the offering asks for them), a disk (a data disk beside a
// template's, or an ISO's ROOT disk, with its size when the disk offering is custom), network,
// key pair and affinity groups, then a name; the deploy is followed as a job.

import { call, list } from "../api.js";
import { describe, el, errorBox, trackJob } from "../ui.js";

const STEPS = ["Zone", "Template or ISO", "Offering", "Disk", "Network and access", "Review"];

export async function render(view, _args, stale) {
  const choice = { zone: null, source: "template", template: null, hypervisor: "", offering: null, disk: null, size: "", network: "", keypair: "", affinity: [], cpu: "", speed: "", memory: "", name: "" };
  const zones = (await list("listZones", "zone", { available: "true", pagesize: 200, page: 1 })).items;
  if (stale()) return;
  let step = 0;
  const body = el("div", { class: "card wizard" });
  const steps = el("div", { class: "steps" });
  view.append(el("p", {}, el("a", { href: "#/instances", text: "← Instances" })), el("h2", { text: "Deploy an instance" }), steps, body);

  const select = (id, items, label, current, onpick, empty) => {
    const s = el("select", { id, required: empty === undefined },
      empty !== undefined ? el("option", { value: "", text: empty }) : null,
      items.map((i) => el("option", { value: i.id, text: label(i), selected: i.id === current })));
    s.addEventListener("change", () => onpick(s.value));
    return s;
  };

  async function show() {
    steps.replaceChildren(...STEPS.map((s, i) => el("span", { class: i === step ? "current" : i < step ? "done" : "" }, `${i + 1}. ${s}`)));
    const form = el("form", { class: "form", id: `step-${step}` });
    const next = el("button", { type: "submit", id: "wizard-next", text: step === STEPS.length - 1 ? "Deploy" : "Next" });
    const back = step > 0 && el("button", { type: "button", class: "ghost", id: "wizard-back", text: "Back", onclick: () => { step -= 1; show(); } });
    form.append(...(await fields()), el("div", { class: "row" }, back || el("span"), next));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (step === STEPS.length - 1) return submit(form);
      step += 1;
      show();
    });
    body.replaceChildren(form);
  }

  async function fields() {
    if (step === 0) {
      if (!zones.length) return [el("p", { class: "error", text: "No zone is available." })];
      choice.zone = choice.zone || zones[0];
      return [el("label", {}, "Zone", select("wizard-zone", zones, (z) => `${z.name} (${z.networktype})`, choice.zone.id, (v) => { choice.zone = zones.find((z) => z.id === v); choice.template = null; }))];
    }
    if (step === 1) return imageFields();
    if (step === 2) {
      const { items } = await list("listServiceOfferings", "serviceoffering", { pagesize: 200, page: 1 });
      choice.offering = choice.offering || items[0];
      const custom = el("div", { class: "row custom" });
      const number = (id, label, key, min, placeholder) => {
        const input = el("input", { id, type: "number", min, required: true, value: choice[key], placeholder });
        input.addEventListener("input", () => { choice[key] = input.value; });
        return el("label", {}, label, input);
      };
      const customFields = () => {
        const o = choice.offering;
        custom.replaceChildren(
          ...(o && o.iscustomized
            ? [number("wizard-cpu", "CPUs", "cpu", 1, "2"), number("wizard-speed", "Speed (MHz)", "speed", 100, "1000"), number("wizard-memory", "Memory (MiB)", "memory", 32, "1024")]
            : []),
        );
      };
      customFields();
      const describeOffering = (o) => (o.iscustomized ? `${o.name} (custom: choose CPUs, speed and memory)` : `${o.name} (${o.cpunumber}×${o.cpuspeed} MHz, ${o.memory} MiB)`);
      return [
        el("label", {}, "Compute offering", select("wizard-offering", items, describeOffering, choice.offering && choice.offering.id, (v) => { choice.offering = items.find((o) => o.id === v); customFields(); })),
        custom,
      ];
    }
    if (step === 3) return diskFields();
    if (step === 4) {
      const [networks, keys, groups] = await Promise.all([
        list("listNetworks", "network", { zoneid: choice.zone.id, pagesize: 200, page: 1 }),
        list("listSSHKeyPairs", "sshkeypair", { pagesize: 200, page: 1 }),
        list("listAffinityGroups", "affinitygroup", { pagesize: 200, page: 1 }),
      ]);
      const affinity = el("select", { id: "wizard-affinity", multiple: true, size: Math.min(4, Math.max(2, groups.items.length)) },
        groups.items.map((g) => el("option", { value: g.id, text: `${g.name} (${g.type})`, selected: choice.affinity.includes(g.id) })));
      affinity.addEventListener("change", () => { choice.affinity = [...affinity.selectedOptions].map((o) => o.value); });
      const name = el("input", { id: "wizard-name", value: choice.name, placeholder: "web-1", pattern: "[A-Za-z][A-Za-z0-9\\-]{0,62}" });
      name.addEventListener("input", () => { choice.name = name.value; });
      return [
        el("label", {}, "Network", select("wizard-network", networks.items, (n) => `${n.name} (${n.cidr || n.type})`, choice.network, (v) => { choice.network = v; }, "The zone's default")),
        el("label", {}, "Key pair", select("wizard-keypair", keys.items.map((k) => ({ ...k, id: k.name })), (k) => k.name, choice.keypair, (v) => { choice.keypair = v; }, "None")),
        groups.items.length ? el("label", {}, "Affinity groups", affinity) : null,
        el("label", {}, "Name", name),
      ].filter(Boolean);
    }
    const o = choice.offering;
    return [
      describe([
        ["Zone", choice.zone.name],
        [isIso() ? "ISO" : "Template", isIso() ? `${choice.template.name} on ${choice.hypervisor}` : choice.template.name],
        ["Offering", o.iscustomized ? `${o.name}: ${choice.cpu} CPU × ${choice.speed} MHz, ${choice.memory} MiB` : o.name],
        [isIso() ? "ROOT disk" : "Data disk", choice.disk ? `${choice.disk.name}, ${diskSize()} GB` : "none"],
        ["Network", choice.network || "the zone's default"],
        ["Key pair", choice.keypair || "none"],
        ["Affinity groups", choice.affinity.length ? `${choice.affinity.length} chosen` : "none"],
        ["Name", choice.name || "(chosen by the cloud)"],
      ]),
    ];
  }

  async function submit(form) {
    const o = choice.offering;
    const params = {
      zoneid: choice.zone.id,
      templateid: choice.template.id,
      hypervisor: isIso() ? choice.hypervisor : "",
      diskofferingid: choice.disk ? choice.disk.id : "",
      size: choice.disk && choice.disk.iscustomized ? choice.size : "",
      serviceofferingid: o.id,
      networkids: choice.network,
      keypair: choice.keypair,
      affinitygroupids: choice.affinity.join(","),
      name: choice.name,
      displayname: choice.name,
    };
    if (o.iscustomized) {
      params["details[0].cpuNumber"] = choice.cpu;
      params["details[0].cpuSpeed"] = choice.speed;
      params["details[0].memory"] = choice.memory;
    }
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    try {
      const { jobid, id } = await call("deployVirtualMachine", params);
      body.replaceChildren(el("p", { class: "deploying", text: `Deploying ${choice.name || id}… follow the job below.` }));
      const result = await trackJob(jobid, `Deploying ${choice.name || "an instance"}`);
      if (stale()) return;
      if (result && result.virtualmachine) {
        location.hash = `#/instances/${result.virtualmachine.id}`;
      } else {
        body.append(el("p", {}, el("a", { href: `#/instances/${id}`, text: "See the instance" })));
      }
    } catch (error) {
      body.prepend(errorBox(error));
      for (const b of form.querySelectorAll("button")) b.disabled = false;
    }
  }

  const isIso = () => choice.source === "iso";
  const diskSize = () => (choice.disk && choice.disk.iscustomized ? choice.size : choice.disk && choice.disk.disksize);

  // Step 2: a template, or a bootable ISO ready in the zone and the hypervisor that runs it (an
  // ISO names none), as CloudStack's own wizard offers them side by side.
  async function imageFields() {
    const params = { zoneid: choice.zone.id, pagesize: 200, page: 1 };
    const [templates, isos, hypervisors] = await Promise.all([
      list("listTemplates", "template", { ...params, templatefilter: "executable" }),
      list("listIsos", "iso", { ...params, isofilter: "executable", bootable: "true" }),
      list("listHypervisors", "hypervisor", { zoneid: choice.zone.id }),
    ]);
    const ready = { template: templates.items.filter((t) => t.isready !== false), iso: isos.items.filter((i) => i.isready !== false) };
    const source = select("wizard-source", [{ id: "template", name: "Template" }, { id: "iso", name: "ISO" }], (s) => s.name, choice.source, (v) => {
      choice.source = v;
      choice.template = null;
      choice.disk = null;
      show();
    });
    const images = ready[choice.source];
    if (!images.length) return [el("label", {}, "Boot from", source), el("p", { class: "error", text: `No ${isIso() ? "bootable ISO" : "template"} is ready in this zone.` })];
    if (!images.some((i) => choice.template && i.id === choice.template.id)) choice.template = images[0];
    const label = (t) => `${t.name} (${t.ostypename || t.hypervisor || "ISO"})`;
    const fields = [
      el("label", {}, "Boot from", source),
      el("label", {}, isIso() ? "ISO" : "Template", select("wizard-template", images, label, choice.template.id, (v) => { choice.template = images.find((t) => t.id === v); })),
    ];
    if (isIso()) {
      const kinds = hypervisors.items.map((h) => ({ id: h.name, name: h.name }));
      if (!kinds.some((h) => h.id === choice.hypervisor)) choice.hypervisor = kinds.length ? kinds[0].id : "";
      fields.push(el("label", {}, "Hypervisor", select("wizard-hypervisor", kinds, (h) => h.name, choice.hypervisor, (v) => { choice.hypervisor = v; })));
    }
    return fields;
  }

  // Step 4: a data disk beside a template's ROOT disk (none unless chosen), or the ROOT disk an
  // ISO installs onto (required); a custom disk offering asks for the size in GB.
  async function diskFields() {
    const { items } = await list("listDiskOfferings", "diskoffering", { pagesize: 200, page: 1 });
    const sized = el("div", { class: "row custom" });
    const sizeField = () => {
      const input = el("input", { id: "wizard-disk-size", type: "number", min: 1, required: true, value: choice.size, placeholder: "10" });
      input.addEventListener("input", () => { choice.size = input.value; });
      sized.replaceChildren(...(choice.disk && choice.disk.iscustomized ? [el("label", {}, "Size (GB)", input)] : []));
    };
    if (isIso() && !choice.disk) choice.disk = items[0] || null;
    sizeField();
    const describeDisk = (d) => (d.iscustomized ? `${d.name} (custom: choose the size)` : `${d.name} (${d.disksize} GB)`);
    const pick = (v) => { choice.disk = items.find((d) => d.id === v) || null; sizeField(); };
    const chooser = select("wizard-disk", items, describeDisk, choice.disk && choice.disk.id, pick, isIso() ? undefined : "No data disk");
    return [el("label", {}, isIso() ? "ROOT disk (the ISO installs onto it)" : "Data disk", chooser), sized];
  }

  await show();
}
