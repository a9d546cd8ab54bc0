// The public API, as the console speaks it: `login` gives a session key (kept in this tab's
// sessionStorage; the session cookie is HttpOnly and stays with the browser), and every later
// call sends the key with the cookie, by POST so the key never shows in a URL or a log.

const SESSION = "stratus.session";

export class SessionExpired extends Error {}

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.errortext) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.errorcode;
  }
}

export function currentSession() {
  const text = sessionStorage.getItem(SESSION);
  return text ? JSON.parse(text) : null;
}

export function forgetSession() {
  sessionStorage.removeItem(SESSION);
}

// Root admin (1), domain admin (2) or user (0), from login's `type`.
export function role() {
  const s = currentSession();
  if (!s) return "none";
  return s.type === "1" ? "root" : s.type === "2" ? "domain" : "user";
}

async function send(body) {
  const response = await fetch("api", {
    method: "POST",
    body,
    credentials: "same-origin",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
  });
  let envelope = {};
  try {
    envelope = await response.json();
  } catch (_) {
    envelope = {};
  }
  const key = Object.keys(envelope)[0];
  return { status: response.status, ok: response.ok, body: key ? envelope[key] : {} };
}

export async function login(username, password, domain) {
  const form = new URLSearchParams({ command: "login", response: "json", username, password });
  form.set("domain", domain || "/");
  const answer = await send(form);
  if (!answer.ok) throw new ApiError(answer.status, answer.body);
  const b = answer.body;
  const session = {
    sessionkey: b.sessionkey,
    username: b.username,
    userid: b.userid,
    account: b.account,
    domainid: b.domainid,
    type: String(b.type),
    timeout: Number(b.timeout),
  };
  sessionStorage.setItem(SESSION, JSON.stringify(session));
  return session;
}

export async function logout() {
  const s = currentSession();
  forgetSession();
  if (s) await send(new URLSearchParams({ command: "logout", response: "json", sessionkey: s.sessionkey }));
}

// One API call; a 401 means the session ended (expired, logged out elsewhere, or taken away).
export async function call(command, params = {}) {
  const s = currentSession();
  if (!s) throw new SessionExpired("not logged in");
  const form = new URLSearchParams({ command, response: "json" });
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") form.set(name, String(value));
  }
  form.set("sessionkey", s.sessionkey);
  const answer = await send(form);
  if (answer.status === 401) {
    forgetSession();
    window.dispatchEvent(new CustomEvent("stratus:expired"));
    throw new SessionExpired(answer.body.errortext || "session expired");
  }
  if (!answer.ok) throw new ApiError(answer.status, answer.body);
  return answer.body;
}

// A list command's items and total count (the server pages: `page`, `pagesize`).
export async function list(command, itemKey, params = {}) {
  const body = await call(command, params);
  return { items: body[itemKey] || [], count: body.count || 0 };
}

// Polls an async job until it ends; `progress` hears each poll. Resolves with the job's result.
export async function waitForJob(jobId, progress = () => {}) {
  for (;;) {
    const job = await call("queryAsyncJobResult", { jobid: jobId });
    progress(job);
    if (job.jobstatus === 1) return job.jobresult || {};
    if (job.jobstatus === 2) {
      throw new ApiError(job.jobresultcode || 530, job.jobresult || { errortext: "the job failed" });
    }
    await new Promise((resolve) => setTimeout(resolve, 400));
  }
}

// A command, sync or async: an async one's job is followed to its end, and its result answered.
export async function perform(command, params = {}) {
  const body = await call(command, params);
  return body.jobid ? waitForJob(body.jobid) : body;
}
