// The console's shell: login and logout, the session's end, role-aware navigation, and the
// hash router that hands each page its part of the screen.

import { currentSession, forgetSession, login, logout, role } from "./api.js";
import { el, errorBox, loadCharts } from "./ui.js";
import * as dashboard from "./pages/dashboard.js";
import * as instances from "./pages/instances.js";
import * as deploy from "./pages/deploy.js";
import * as infrastructure from "./pages/infrastructure.js";
import * as addzone from "./pages/addzone.js";
import * as networks from "./pages/networks.js";
import * as usage from "./pages/usage.js";
import * as timetravel from "./pages/timetravel.js";

// Which roles see a page: the API refuses the others anyway; the console does not offer them.
const PAGES = [
  { path: "dashboard", title: "Dashboard", roles: ["root"], page: dashboard },
  { path: "instances", title: "Instances", roles: ["root", "domain", "user"], page: instances },
  { path: "deploy", title: "Deploy", roles: ["root", "domain", "user"], page: deploy, hidden: true },
  { path: "infrastructure", title: "Infrastructure", roles: ["root"], page: infrastructure },
  { path: "addzone", title: "Add a zone", roles: ["root"], page: addzone, hidden: true },
  { path: "networks", title: "Networks", roles: ["root", "domain", "user"], page: networks },
  { path: "usage", title: "Usage", roles: ["root", "domain"], page: usage },
  { path: "timetravel", title: "Time travel", roles: ["root"], page: timetravel },
];

const PARENT = { deploy: "instances", addzone: "infrastructure" };

const $ = (id) => document.getElementById(id);

function allowed() {
  const r = role();
  return PAGES.filter((p) => p.roles.includes(r));
}

function showLogin(message) {
  $("shell").hidden = true;
  $("login").hidden = false;
  $("login-message").hidden = !message;
  $("login-message").textContent = message || "";
  $("password").value = "";
  $("username").focus();
  performance.mark("login-shown"); // marks let a bench time what a person sees
}

function showShell() {
  const s = currentSession();
  $("login").hidden = true;
  $("shell").hidden = false;
  $("who").textContent = `${s.username} · ${s.account} (${role() === "user" ? "user" : role() + " admin"})`;
  $("nav").replaceChildren(
    ...allowed()
      .filter((p) => !p.hidden)
      .map((p) => el("a", { href: `#/${p.path}`, "data-page": p.path, text: p.title })),
  );
  route();
}

let generation = 0;

// Renders the page the hash names; a page the role may not see says so and calls nothing.
async function route() {
  if (!currentSession()) return showLogin();
  const [path, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  const pages = allowed();
  const target = PAGES.find((p) => p.path === path);
  if (!target) {
    location.replace(`#/${pages.filter((p) => !p.hidden)[0].path}`);
    return;
  }
  for (const a of $("nav").querySelectorAll("a")) {
    a.classList.toggle("active", a.dataset.page === (PARENT[target.path] || target.path));
  }
  const main = $("page");
  delete main.dataset.ready;
  const mine = ++generation;
  main.replaceChildren();
  main.dataset.page = target.path;
  if (!pages.includes(target)) {
    main.append(el("h2", { text: target.title }), el("p", { class: "error denied", text: `This page is for ${target.roles.includes("domain") ? "" : "root "}administrators.` }));
    return;
  }
  const view = el("section", { class: "view" });
  main.append(view);
  try {
    await target.page.render(view, rest.map(decodeURIComponent), () => mine !== generation);
  } catch (error) {
    if (mine === generation) view.append(errorBox(error));
  }
  if (mine === generation) {
    main.dataset.ready = "true";
    performance.mark(`ready:${target.path}`);
  }
}

$("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  performance.mark("login-submit");
  $("login-button").disabled = true;
  try {
    await login($("username").value.trim(), $("password").value, $("domain").value.trim());
    $("password").value = "";
    showShell();
  } catch (error) {
    showLogin(error.status === 401 ? "The username, password or domain is not right." : error.message);
  } finally {
    $("login-button").disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  await logout();
  location.hash = "";
  showLogin("You have logged out.");
});

window.addEventListener("stratus:expired", () => {
  forgetSession();
  showLogin("Your session has ended. Please log in again.");
});

window.addEventListener("hashchange", () => {
  if (currentSession()) route();
});

if (currentSession()) showShell();
else showLogin();
setTimeout(loadCharts, 0); // after the first screen is shown, before a chart is asked for
