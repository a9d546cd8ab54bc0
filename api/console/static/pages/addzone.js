// Adding a zone step by step (root admins), in the installation guide's order: the zone, its
// physical network (traffic types, VLANs, the virtual router provider) and public addresses,
// a pod, a cluster, a host, then the zone enabled. Each step's calls run when it is submitted.

import { call, list, perform } from "../api.js";
import { el, errorBox } from "../ui.js";

const HYPERVISORS = ["KVM", "XenServer", "VMware", "Hyper-V", "Simulator"];

const field = (name, label, attrs = {}) => el("label", {}, label, el("input", { name, id: `zone-${name}`, required: true, ...attrs }));

// Each step: its title, its fields, and what it does with their values.
const STEPS = [
  {
    title: "Zone",
    fields: () => [
      field("name", "Name"),
      el("label", {}, "Network type", el("select", { name: "networktype", id: "zone-networktype" },
        el("option", { value: "Advanced", text: "Advanced (isolated guest networks, VLANs)" }),
        el("option", { value: "Basic", text: "Basic (one flat network)" }))),
      el("div", { class: "row" }, field("dns1", "Public DNS", { value: "8.8.8.8" }), field("internaldns1", "Internal DNS", { value: "10.0.0.1" })),
    ],
    run: async (v, made) => {
      const { zone } = await call("createZone", { name: v.name, networktype: v.networktype, dns1: v.dns1, internaldns1: v.internaldns1, allocationstate: "Disabled" });
      made.zone = zone;
      return `Zone ${zone.name} created (disabled until the last step)`;
    },
  },
  {
    title: "Physical network",
    fields: () => [
      field("physname", "Name", { value: "physical-1" }),
      field("vlan", "Guest VLAN range", { value: "600-699" }),
      el("div", { class: "row" }, field("mgmtlabel", "Management label", { value: "cloudbr0" }), field("guestlabel", "Guest and public label", { value: "cloudbr1" })),
    ],
    run: async (v, made) => {
      const { physicalnetwork } = await perform("createPhysicalNetwork", { zoneid: made.zone.id, name: v.physname, isolationmethods: "VLAN" });
      const traffic = made.zone.networktype === "Advanced" ? [["Management", v.mgmtlabel], ["Public", v.guestlabel], ["Guest", v.guestlabel]] : [["Management", v.mgmtlabel], ["Guest", v.guestlabel]];
      for (const [type, label] of traffic) {
        await perform("addTrafficType", { physicalnetworkid: physicalnetwork.id, traffictype: type, kvmnetworklabel: label });
      }
      await perform("updatePhysicalNetwork", { id: physicalnetwork.id, vlan: made.zone.networktype === "Advanced" ? v.vlan : "", state: "Enabled" });
      const providers = await list("listNetworkServiceProviders", "networkserviceprovider", { physicalnetworkid: physicalnetwork.id, name: "VirtualRouter" });
      for (const provider of providers.items) {
        const elements = await list("listVirtualRouterElements", "virtualrouterelement", { nspid: provider.id });
        for (const element of elements.items) await perform("configureVirtualRouterElement", { id: element.id, enabled: "true" });
        await perform("updateNetworkServiceProvider", { id: provider.id, state: "Enabled" });
      }
      made.physical = physicalnetwork;
      return `Physical network ${physicalnetwork.name}: ${traffic.map((t) => t[0]).join(", ")} traffic, the virtual router enabled`;
    },
  },
  {
    title: "Public addresses",
    skip: (made) => made.zone.networktype !== "Advanced",
    fields: () => [
      el("div", { class: "row" }, field("pubvlan", "VLAN", { value: "100" }), field("pubgateway", "Gateway"), field("pubnetmask", "Netmask", { value: "255.255.255.0" })),
      el("div", { class: "row" }, field("pubstart", "First address"), field("pubend", "Last address")),
    ],
    run: async (v, made) => {
      await call("createVlanIpRange", { zoneid: made.zone.id, vlan: v.pubvlan, gateway: v.pubgateway, netmask: v.pubnetmask, startip: v.pubstart, endip: v.pubend, forvirtualnetwork: "true" });
      return `Public addresses ${v.pubstart} to ${v.pubend}`;
    },
  },
  {
    title: "Pod",
    fields: () => [
      field("podname", "Name"),
      el("div", { class: "row" }, field("podgateway", "Gateway"), field("podnetmask", "Netmask", { value: "255.255.255.0" })),
      el("div", { class: "row" }, field("podstart", "First management address"), field("podend", "Last management address", { required: false })),
    ],
    run: async (v, made) => {
      const { pod } = await call("createPod", { zoneid: made.zone.id, name: v.podname, gateway: v.podgateway, netmask: v.podnetmask, startip: v.podstart, endip: v.podend });
      made.pod = pod;
      return `Pod ${pod.name} created`;
    },
  },
  {
    title: "Cluster",
    fields: () => [
      field("clustername", "Name"),
      el("label", {}, "Hypervisor", el("select", { name: "hypervisor", id: "zone-hypervisor" }, HYPERVISORS.map((h) => el("option", { value: h, text: h })))),
    ],
    run: async (v, made) => {
      const { cluster } = await call("addCluster", { zoneid: made.zone.id, podid: made.pod.id, clustername: v.clustername, hypervisor: v.hypervisor, clustertype: "CloudManaged" });
      made.cluster = cluster[0];
      return `Cluster ${made.cluster.name} (${v.hypervisor}) added`;
    },
  },
  {
    title: "Host",
    fields: () => [
      field("url", "Host URL", { placeholder: "http://192.0.2.10" }),
      el("div", { class: "row" }, field("username", "Username", { value: "root", autocomplete: "off" }), field("password", "Password", { type: "password", autocomplete: "new-password" })),
    ],
    run: async (v, made) => {
      const { host } = await call("addHost", { zoneid: made.zone.id, podid: made.pod.id, clusterid: made.cluster.id, hypervisor: made.cluster.hypervisortype, url: v.url, username: v.username, password: v.password });
      return `Host ${host[0].name} added: ${host[0].state}`;
    },
  },
  {
    title: "Enable",
    fields: () => [el("p", { text: "Everything is in place: enable the zone so that instances can be deployed in it." })],
    run: async (_v, made) => {
      await call("updateZone", { id: made.zone.id, allocationstate: "Enabled" });
      return `Zone ${made.zone.name} enabled`;
    },
  },
];

export async function render(view) {
  const made = {};
  const done = el("ol", { class: "zone-log" });
  const steps = el("div", { class: "steps" });
  const body = el("div", { class: "card" });
  view.append(el("p", {}, el("a", { href: "#/infrastructure", text: "← Infrastructure" })), el("h2", { text: "Add a zone" }), steps, body, done);
  let index = 0;

  function show() {
    while (index < STEPS.length && STEPS[index].skip && STEPS[index].skip(made)) index += 1;
    steps.replaceChildren(...STEPS.map((s, i) => el("span", { class: i === index ? "current" : i < index ? "done" : "" }, `${i + 1}. ${s.title}`)));
    if (index >= STEPS.length) {
      body.replaceChildren(el("p", { class: "zone-ready", text: `Zone ${made.zone.name} is ready.` }), el("a", { href: "#/infrastructure", text: "See it in the infrastructure" }));
      return;
    }
    const step = STEPS[index];
    const button = el("button", { type: "submit", id: "zone-next", text: index === STEPS.length - 1 ? "Enable the zone" : `Create: ${step.title.toLowerCase()}` });
    const form = el("form", { class: "form", id: `zone-step-${index}` }, ...step.fields(), button);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      button.disabled = true;
      const values = Object.fromEntries(new FormData(form).entries());
      form.querySelector(".error")?.remove();
      try {
        done.append(el("li", { text: await step.run(values, made) }));
        index += 1;
        show();
      } catch (error) {
        form.prepend(errorBox(error));
        button.disabled = false;
      }
    });
    body.replaceChildren(form);
  }
  show();
}
