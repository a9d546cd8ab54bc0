// The deploy wizard: zone, template, offering (custom CPUs, speed and memory when the offering
// asks for them), network, key pair and affinity groups, then a name; the deploy is followed
// as a job.

import { call, list } from "../api.js";
import { describe, el, errorBox, trackJob } from "../ui.js";

const STEPS = ["Zone", "Template", "Offering", "Network and access", "Review"];

export async function render(view, _args, stale) {
  const choice = { zone: null, template: null, offering: null, network: "", keypair: "", affinity: [], cpu: "", speed: "", memory: "", name: "" };
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
    if (step === 1) {
      const { items } = await list("listTemplates", "template", { templatefilter: "executable", zoneid: choice.zone.id, pagesize: 200, page: 1 });
      const ready = items.filter((t) => t.isready !== false);
      if (!ready.length) return [el("p", { class: "error", text: "No template is ready in this zone." })];
      choice.template = choice.template || ready[0];
      return [el("label", {}, "Template", select("wizard-template", ready, (t) => `${t.name} (${t.ostypename || t.hypervisor})`, choice.template.id, (v) => { choice.template = ready.find((t) => t.id === v); }))];
    }
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
    if (step === 3) {
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
        ["Template", choice.template.name],
        ["Offering", o.iscustomized ? `${o.name}: ${choice.cpu} CPU × ${choice.speed} MHz, ${choice.memory} MiB` : o.name],
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

  await show();
}
