// Time travel (root admins): a resource, or a whole zone, as it was at a chosen instant,
// rebuilt from the event log by listResourceStateAt.

import { call, list } from "../api.js";
import { describe, el, errorBox, when } from "../ui.js";

// `yyyy-MM-dd HH:mm:ss` in UTC, as listResourceStateAt takes it, from a datetime-local value.
export function instant(value) {
  const [date, clock = "23:59:59"] = value.split("T");
  return `${date} ${clock.length === 5 ? clock + ":00" : clock}`;
}

const local = (d) => d.toISOString().slice(0, 19);

export async function render(view, [preset], stale) {
  const at = el("input", { type: "datetime-local", step: "1", id: "travel-at", value: local(new Date()), required: true });
  const zone = el("select", { id: "travel-zone" }, el("option", { value: "", text: "— a resource by id instead —" }));
  const id = el("input", { id: "travel-id", placeholder: "Resource id (instance, host, router, zone…)", value: preset || "", size: 40 });
  const out = el("div", { class: "travel-out" });
  const form = el("form", { class: "toolbar" },
    el("label", {}, "Instant (UTC)", at), el("label", {}, "Whole zone", zone), el("label", {}, "or resource", id),
    el("button", { type: "submit", id: "travel-go", text: "Travel" }));
  view.append(
    el("h2", { text: "Time travel" }),
    el("p", { class: "muted", text: "See a resource with its history, or a zone with its hosts, routers and instances, as it was at an instant: rebuilt from the event log, which never forgets." }),
    form,
    out,
  );
  const zones = await list("listZones", "zone", { page: 1, pagesize: 200 });
  if (stale()) return;
  zone.append(...zones.items.map((z) => el("option", { value: z.id, text: z.name })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    out.replaceChildren(el("p", { class: "muted", text: "Replaying the log…" }));
    const params = { timestamp: instant(at.value) };
    if (zone.value) params.zoneid = zone.value;
    else params.id = id.value.trim();
    const timeline = params.id ? history(params.id, params.timestamp, (moment) => {
      at.value = moment;
      form.requestSubmit();
    }) : null;
    try {
      const { resourcestate = [] } = await call("listResourceStateAt", params);
      if (stale()) return;
      out.replaceChildren(
        el("p", { class: "travel-summary", text: `${resourcestate.length} resource(s) as they were at ${params.timestamp} UTC` }),
        ...resourcestate.map(card),
      );
    } catch (error) {
      out.replaceChildren(/did not exist/.test(error.message)
        ? el("p", { class: "notice absent", text: error.message })
        : errorBox(error));
    }
    if (timeline) out.append(await timeline);
  });
  if (preset) form.requestSubmit();
}

// The resource's events as a timeline: when, what, who, by which command and job. Events after
// the instant are shown faded; a click on one travels to it.
async function history(id, timestamp, travel) {
  const box = el("div", { class: "card history" }, el("h3", { text: "History" }));
  try {
    const { items } = await list("listResourceHistory", "resourceevent", { id, page: 1, pagesize: 500 });
    const who = await users(items.map((e) => e.userid));
    const cut = timestamp.replace(" ", "T");
    box.append(el("ol", { class: "timeline" }, items.map((e) => {
      const moment = e.created.slice(0, 19);
      const later = moment > cut;
      return el("li", { class: later ? "later" : "" },
        el("a", { href: "#", class: "travel-to", title: "See the resource as it was then", onclick: (ev) => { ev.preventDefault(); travel(moment); } }, when(e.created)),
        " ", el("strong", { text: e.event }),
        el("div", { class: "muted", text: [
          e.userid ? `by ${who.get(e.userid) || e.userid}` : "by the system",
          e.command && `through ${e.command}`,
          e.jobid && `job ${e.jobid}`,
        ].filter(Boolean).join(" · ") }));
    })));
  } catch (error) {
    box.append(errorBox(error));
  }
  return box;
}

// Users' names for their ids, from listUsers (one call per user; a history has few).
async function users(ids) {
  const names = new Map();
  await Promise.all([...new Set(ids.filter(Boolean))].map(async (id) => {
    try {
      const { items } = await list("listUsers", "user", { id, listall: "true" });
      if (items[0]) names.set(id, `${items[0].username} (${items[0].account})`);
    } catch (_) {
      // a user deleted since is named by id
    }
  }));
  return names;
}

function card(item) {
  const state = item.state || {};
  return el("div", { class: "card resource-state", "data-id": item.id },
    el("h3", { text: `${item.resourcetype} ${state.name || state.display_name || item.id}` }),
    describe([
      ["Id", item.id],
      ["Version", String(item.version)],
      ["Last changed", when(item.lastchanged)],
      ...Object.entries(state)
        .filter(([, v]) => v === null || typeof v !== "object")
        .map(([k, v]) => [k.replace(/_/g, " "), v === null ? "—" : String(v)]),
    ]),
  );
}
