/**
 * Browser helpers shared by the dashboard scripts, as JavaScript source (served by the pool,
 * never from a CDN). Every value from the server reaches the page through `textContent` or an
 * attribute set by `h()`: no HTML string is ever parsed, so a hostile key label or model name
 * stays text.
 * @module
 */
export const CLIENT_COMMON_JS = `
const root = /** @type {HTMLElement | null} */ (document.querySelector("main[data-base]"));
const base = root ? root.dataset.base : "";
const $ = (sel, el) => (el || document).querySelector(sel);

/** Builds an element; children are nodes or text, never HTML. */
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === undefined || kid === null || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

const fmtNum = (n) => (typeof n === "number" ? n.toLocaleString() : "-");
const fmtDate = (ms) => (ms ? new Date(ms).toLocaleString() : "-");
const fmtPct = (n) => (typeof n === "number" ? n.toFixed(1) + " %" : "-");

/** Shows a message in the page's status line. */
function say(text, kind) {
  const box = $("#msg");
  if (!box) return;
  box.hidden = !text;
  box.className = "msg " + (kind || "");
  box.textContent = text || "";
}

/**
 * Calls the pool's JSON API with the session cookie. The x-pool-ui header is what lets a
 * cookie-authenticated write through (a cross-site page cannot send it).
 */
async function api(method, path, body, opts) {
  opts = opts || {};
  const headers = { "x-pool-ui": "1" };
  if (body !== undefined) headers["content-type"] = opts.type || "application/json";
  if (opts.accept) headers.accept = opts.accept;
  const res = await fetch(base + path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  if (res.status === 401 && opts.loginOn401 !== false) {
    location.assign(base + (root && root.dataset.login || "/"));
    throw new Error("your session has ended; log in again");
  }
  if (opts.raw) return res;
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((data.error && data.error.message) || "HTTP " + res.status);
  return data;
}

/** Reads an NDJSON body line by line; onLine gets each parsed object. */
async function readNdjson(res, onLine) {
  if (!res.ok) {
    const data = await res.json().catch(() => ({}));
    throw new Error((data.error && data.error.message) || "HTTP " + res.status);
  }
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (value) buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\\n")) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
    if (done) break;
  }
}

/** Copies text; falls back to selecting it where the Clipboard API is unavailable (plain http). */
async function copyText(text, el) {
  try {
    await navigator.clipboard.writeText(text);
    say("copied to the clipboard", "ok");
  } catch {
    const range = document.createRange();
    range.selectNodeContents(el);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    say("selected: press Ctrl+C (or Cmd+C) to copy", "");
  }
}

/** Runs an async action from a button: disables it meanwhile, reports errors in the status line. */
function action(btn, fn) {
  btn.addEventListener("click", async (ev) => {
    ev.preventDefault();
    btn.disabled = true;
    try {
      await fn();
    } catch (err) {
      say(err.message || String(err), "error");
    } finally {
      btn.disabled = false;
    }
  });
}

/**
 * Wires the Previous/Next buttons of a server-rendered <Pager id>. load(page) fetches and shows
 * one page and resolves to { total, pages }; the pager keeps the page number, the status line
 * and the buttons' state (set after the load, so a click never leaves them enabled past the end).
 */
function pager(id, noun, load) {
  const prev = $("#" + id + "-prev");
  const next = $("#" + id + "-next");
  const info = $("#" + id + "-info");
  let page = 1;
  let pages = 1;
  const go = async (to) => {
    const r = await load(to);
    page = to;
    pages = Math.max(1, r.pages);
    info.textContent = fmtNum(r.total) + " " + noun + " · page " + page + " of " + pages;
    prev.disabled = page <= 1;
    next.disabled = page >= pages;
  };
  const click = (btn, to) => btn.addEventListener("click", (ev) => {
    ev.preventDefault();
    go(to()).catch((err) => say(err.message || String(err), "error"));
  });
  click(prev, () => Math.max(1, page - 1));
  click(next, () => Math.min(pages, page + 1));
  return { first: () => go(1), reload: () => go(page) };
}
`;
