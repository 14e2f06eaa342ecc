/**
 * Browser script of the user pages (/user and /user/dashboard). The session token lives in
 * sessionStorage: per tab, gone when the tab closes, never in localStorage, and these pages run
 * no third-party script except Turnstile's on /user when it is enabled — which is why /user
 * drops any stored session before that script can run. JavaScript source; no `${` inside.
 * @module
 */
export const USER_JS = `
const SESSION = "ollama-api-pool.session";
const session = () => sessionStorage.getItem(SESSION);

async function userApi(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  const s = session();
  if (s) headers.authorization = "Bearer " + s;
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401 && s) {
    sessionStorage.removeItem(SESSION);
    location.assign(base + "/user");
  }
  if (!res.ok) {
    const err = /** @type {Error & { retryAfter?: number }} */ (new Error((data.error && data.error.message) || "HTTP " + res.status));
    err.retryAfter = Number(res.headers.get("retry-after")) || 0;
    throw err;
  }
  return data;
}

const turnstileToken = (form) => {
  const el = form.querySelector("[name=cf-turnstile-response]");
  return el ? el.value : undefined;
};

/** A "send me a code" button that counts down its resend wait. */
function codeButton(btn, form, purpose) {
  let timer = 0;
  const wait = (s) => {
    clearInterval(timer);
    let left = s;
    btn.disabled = true;
    const tick = () => {
      btn.textContent = left > 0 ? "Resend in " + left + " s" : "Send code";
      if (left-- <= 0) { clearInterval(timer); btn.disabled = false; }
    };
    tick();
    timer = setInterval(tick, 1000);
  };
  btn.addEventListener("click", async (ev) => {
    ev.preventDefault();
    const email = form.elements.email.value.trim();
    if (!email) { say("enter your email address first", "error"); return; }
    btn.disabled = true;
    try {
      await userApi("POST", "/api/auth/send-code", { email, purpose, turnstileToken: turnstileToken(form) });
      say("a 6-digit code is on its way to " + email + "; it is valid for 10 minutes", "ok");
      wait(Number(root.dataset.resend) || 60);
    } catch (err) {
      say(err.message, "error");
      if (err.retryAfter) wait(err.retryAfter); else btn.disabled = false;
    }
  });
}

function signIn(data) {
  sessionStorage.setItem(SESSION, data.token);
  location.assign(base + "/user/dashboard");
}

function loginPage() {
  if (root.dataset.turnstile === "on") sessionStorage.removeItem(SESSION);
  else if (session()) { location.assign(base + "/user/dashboard"); return; }
  const login = $("#login-form");
  const reg = $("#register-form");
  codeButton($("#login-code-btn"), login, "login");
  codeButton($("#register-code-btn"), reg, "register");
  const submit = (form, fn) => form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    try { signIn(await fn()); } catch (err) { say(err.message, "error"); } finally { btn.disabled = false; }
  });
  submit(login, () => {
    const e = login.elements;
    const body = { email: e.email.value.trim() };
    if (e.code.value.trim()) body.code = e.code.value.trim(); else body.password = e.password.value;
    return userApi("POST", "/api/auth/login", body);
  });
  submit(reg, () => {
    const e = reg.elements;
    return userApi("POST", "/api/auth/register", { email: e.email.value.trim(), code: e.code.value.trim(), password: e.password.value, turnstileToken: turnstileToken(reg) });
  });
}

/** "2 d 03:04:05" until the given time, or "expired". */
function countdown(ms) {
  if (ms <= 0) return "expired";
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const pad = (n) => String(n).padStart(2, "0");
  return (d ? d + " d " : "") + pad(Math.floor((s % 86400) / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
}

async function dashboardPage() {
  if (!session()) { location.assign(base + "/user"); return; }
  let user = (await userApi("GET", "/api/auth/profile")).user;
  const tick = () => { $("#u-countdown").textContent = user.keyExpiresAt ? countdown(user.keyExpiresAt - Date.now()) : "-"; };
  const show = () => {
    tick();
    $("#u-email").textContent = user.email;
    $("#u-role").textContent = user.role;
    $("#u-created").textContent = fmtDate(user.createdAt);
    $("#u-login").textContent = fmtDate(user.lastLoginAt);
    $("#u-requests").textContent = fmtNum(user.keyRequestCount);
    $("#u-provider").textContent = user.keyProvider;
    $("#u-token").textContent = user.keyToken || "(revoked — ask an administrator)";
    $("#u-expires").textContent = user.keyExpiresAt ? fmtDate(user.keyExpiresAt) : "-";
    const ci = user.checkIn;
    $("#u-checkin").disabled = ci.signedToday;
    $("#u-checkin-info").textContent = ci.signedToday
      ? "Checked in today (" + ci.today + ", " + ci.timeZone + "). Next check-in from " + fmtDate(ci.nextResetAt) + "."
      : "Not checked in today (" + ci.today + ", " + ci.timeZone + "): checking in extends your token by 24 hours.";
  };
  show();
  setInterval(tick, 1000);
  $("#u-copy").addEventListener("click", () => user.keyToken && copyText(user.keyToken, $("#u-token")));

  const history = pager("signins", "check-ins", async (page) => {
    const d = await userApi("GET", "/api/auth/signins?limit=10&page=" + page);
    $("#signins-body").replaceChildren(...d.items.map((s) => h("tr", {}, h("td", {}, s.signDay), h("td", {}, fmtDate(s.createdAt)))));
    if (!d.items.length) $("#signins-body").replaceChildren(h("tr", {}, h("td", { colspan: "2", class: "muted" }, "No check-ins yet.")));
    return { total: d.total, pages: d.pageCount };
  });
  $("#u-checkin").addEventListener("click", async () => {
    $("#u-checkin").disabled = true;
    try {
      const r = await userApi("POST", "/api/auth/sign");
      say("checked in: your token is now valid until " + fmtDate(r.keyExpiresAt), "ok");
      await history.first();
    } catch (err) {
      say(err.message, "error");
    }
    user = (await userApi("GET", "/api/auth/profile")).user;
    show(); // the button's state follows the server's signedToday
  });
  action($("#u-logout"), async () => {
    await userApi("POST", "/api/auth/logout").catch(() => {});
    sessionStorage.removeItem(SESSION);
    location.assign(base + "/user");
  });
  await history.first();
}

const pages = { login: loginPage, dashboard: dashboardPage };
const run = pages[root.dataset.page];
if (run) Promise.resolve().then(run).catch((err) => say(err.message || String(err), "error"));
`;
