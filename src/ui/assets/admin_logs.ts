/**
 * The dashboard's Logs tab, as browser JavaScript source: filters, cursor paging, a request's
 * attempts on a click, and a refresh every 5 s while the newest page is shown and the tab is
 * visible. Values reach the page only as text (see h() in client_common.ts).
 * @module
 */
export const ADMIN_LOGS_JS = `
/** One key's detail (GET /admin/api-keys/:id) in the Keys tab's detail panel. */
async function showKeyDetail(id) {
  const box = $("#key-detail");
  const d = await api("GET", withProvider("/admin/api-keys/" + encodeURIComponent(id)));
  const k = d.key;
  const s = d.stats;
  const facts = [
    ["state", k.status], ["why", k.reason], ["until", k.until ? fmtDate(k.until) : undefined], ["failures in a row", fmtNum(k.failures)],
    ["requests", fmtNum(s.requests)], ["success rate", fmtPct(s.success_rate)], ["tokens in / out", fmtNum(s.prompt_tokens) + " / " + fmtNum(s.completion_tokens)],
    ["last used", s.last_used ? fmtDate(s.last_used) : "never"], ["models", k.models ? k.models.join(", ") || "none" : "not probed yet"],
  ].filter(([, v]) => v !== undefined && v !== null);
  const logs = base + "/?tab=logs&provider=" + encodeURIComponent(root.dataset.provider) + "&key=" + encodeURIComponent(k.id);
  box.replaceChildren(
    h("h2", {}, "Key ", h("code", {}, k.api_key)),
    h("dl", { class: "facts" }, facts.flatMap(([l, v]) => [h("dt", {}, l), h("dd", {}, v)])),
    h("h3", {}, "Last failed attempts"),
    d.last_errors.length ? h("table", {}, h("thead", {}, h("tr", {}, ["Time", "Status", "Outcome", "Reason", "Model", "Request id"].map((x) => h("th", {}, x)))),
      h("tbody", {}, d.last_errors.map((e) => h("tr", {}, h("td", {}, fmtDate(e.t)), h("td", { class: "num" }, e.status === undefined ? "-" : String(e.status)),
        h("td", {}, e.outcome), h("td", {}, e.reason || ""), h("td", {}, e.model || "-"), h("td", {}, h("code", {}, e.request_id))))))
      : h("p", { class: "muted" }, "None in the request log."),
    h("p", {}, h("a", { href: logs }, "All requests of this key in the log")));
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

async function logsTab() {
  const form = $("#logs-filter");
  const body = $("#logs-body");
  const older = $("#logs-older");
  const newer = $("#logs-newer");
  const info = $("#logs-info");
  const auto = $("#logs-auto");
  const cursors = [undefined]; // cursors[i] opens page i; the last one is the page shown
  let open = new Set();
  const query = () => {
    const q = new URLSearchParams();
    // The form has no file inputs: every value is a string.
    for (const [k, v] of new FormData(form)) if (v !== "" && k !== "auto") q.set(k, k === "since" || k === "until" ? String(Date.parse(String(v))) : String(v));
    q.set("provider", root.dataset.provider);
    return q;
  };
  const detail = (r) => {
    const attempts = r.attempts.map((a, i) => h("tr", {}, h("td", {}, String(i + 1)), h("td", {}, h("code", {}, a.key)),
      h("td", {}, a.outcome), h("td", { class: "num" }, a.status === undefined ? "-" : String(a.status)), h("td", { class: "num" }, fmtNum(a.ms) + " ms"), h("td", {}, a.reason || "")));
    const facts = [["route", r.route], ["dialect", r.dialect], ["target model", r.target], ["client", r.ip], ["user", r.user],
      ["error", r.error], ["first byte", r.ttfbMs === undefined ? undefined : fmtNum(r.ttfbMs) + " ms"], ["bytes", r.bytes === undefined ? undefined : fmtNum(r.bytes)]]
      .filter(([, v]) => v !== undefined && v !== null && v !== "");
    return h("tr", { class: "log-detail" }, h("td", { colspan: "8" },
      h("p", { class: "muted" }, facts.map(([k, v]) => k + ": " + v).join(" · ")),
      attempts.length ? h("table", {}, h("thead", {}, h("tr", {}, ["#", "Key", "Outcome", "Status", "Time", "Reason"].map((x) => h("th", {}, x)))), h("tbody", {}, attempts))
        : h("p", { class: "muted" }, "No upstream attempt (answered by the pool itself).")));
  };
  const show = async () => {
    const q = query();
    const cursor = cursors[cursors.length - 1];
    if (cursor) q.set("cursor", cursor);
    q.set("limit", "50");
    const page = await api("GET", "/admin/logs?" + q.toString());
    const rows = [];
    for (const r of page.records) {
      const tokens = r.promptTokens === undefined && r.completionTokens === undefined ? "-"
        : fmtNum(r.promptTokens || 0) + " / " + fmtNum(r.completionTokens || 0) + (r.estimated ? " (est.)" : "");
      const row = h("tr", { class: "log-row", tabindex: "0", "aria-expanded": open.has(r.id + r.t) ? "true" : "false" },
        h("td", {}, fmtDate(r.t)), h("td", { class: "num status-" + (r.status < 400 ? "active" : r.status < 500 ? "cooling" : "disabled") }, String(r.status)),
        h("td", {}, r.model || "-"), h("td", {}, r.tokenName || r.token || "-"), h("td", { class: "num" }, String(r.attempts.length)),
        h("td", { class: "num" }, fmtNum(r.ms) + " ms"), h("td", { class: "num" }, tokens), h("td", {}, h("code", {}, r.id)));
      const toggle = () => {
        const key = r.id + r.t;
        if (open.has(key)) open.delete(key); else open.add(key);
        show().catch((err) => say(err.message || String(err), "error"));
      };
      row.addEventListener("click", toggle);
      row.addEventListener("keydown", (ev) => { if (ev.key === "Enter") toggle(); });
      rows.push(row);
      if (open.has(r.id + r.t)) rows.push(detail(r));
    }
    if (!rows.length) rows.push(h("tr", {}, h("td", { colspan: "8", class: "muted" }, page.partial ? "Nothing found in the part searched; Older searches on." : "No requests match.")));
    body.replaceChildren(...rows);
    older.disabled = !page.next_cursor;
    older.dataset.cursor = page.next_cursor || "";
    newer.disabled = cursors.length <= 1;
    info.textContent = "page " + cursors.length + (page.partial ? " (search stopped early; Older goes on)" : "") + " · kept " + page.retention_days + " days";
  };
  const fail = (err) => say(err.message || String(err), "error");
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    cursors.length = 1;
    open = new Set();
    show().catch(fail);
  });
  older.addEventListener("click", () => {
    cursors.push(older.dataset.cursor);
    show().catch(fail);
  });
  newer.addEventListener("click", () => {
    cursors.pop();
    show().catch(fail);
  });
  $("#logs-export").addEventListener("click", (ev) => {
    ev.preventDefault();
    const q = query();
    q.set("format", "ndjson");
    location.assign(base + "/admin/logs?" + q.toString());
  });
  setInterval(() => {
    if (auto.checked && cursors.length === 1 && document.visibilityState === "visible") show().catch(fail);
  }, 5000);
  await show();
}
`;
