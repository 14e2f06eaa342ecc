/**
 * Dashboard scripts for the import tab (paste or upload ollama.txt, plain or validated, with a
 * progress bar), the health-check tab and the analytics tab. JavaScript source; no `${` inside.
 * @module
 */
export const ADMIN_IMPORT_HEALTH_JS = `
/** Lines per request of a plain import: small enough to show progress, big enough to be quick. */
const IMPORT_CHUNK = 2000;

function invalidTable(rows) {
  if (!rows.length) return h("p", { class: "muted" }, "No invalid lines.");
  const shown = rows.slice(0, 500);
  return h("div", {},
    h("h2", {}, "Invalid lines (" + fmtNum(rows.length) + ")"),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, h("th", { class: "num" }, "Line"), h("th", {}, "Key"), h("th", {}, "Reason"))),
      h("tbody", {}, shown.map((r) => h("tr", {}, h("td", { class: "num" }, r.line), h("td", {}, h("code", {}, r.key || "")), h("td", {}, r.reason)))))),
    rows.length > shown.length ? h("p", { class: "muted" }, "(first 500 shown)") : null);
}

function importTab() {
  const form = $("#import-form");
  const file = $("#import-file");
  const bar = $("#import-progress");
  const out = $("#import-result");
  let fileText = null;

  file.addEventListener("change", async () => {
    const f = file.files[0];
    if (!f) return;
    fileText = await f.text();
    form.elements.content.value = "";
    form.elements.content.placeholder = f.name + ": " + fmtNum(fileText.split("\\n").length) + " lines loaded";
  });

  async function plain(text) {
    const lines = text.split("\\n");
    const sum = { total: 0, added: 0, existing: 0, invalid: [] };
    for (let i = 0; i < lines.length; i += IMPORT_CHUNK) {
      const d = await api("POST", withProvider("/admin/api-keys/import-from-txt"), lines.slice(i, i + IMPORT_CHUNK).join("\\n"), { type: "text/plain; charset=utf-8" });
      sum.total += d.total; sum.added += d.added; sum.existing += d.existing;
      for (const x of d.invalid) sum.invalid.push({ line: x.line + i, key: x.key || null, reason: x.reason });
      bar.value = Math.min(lines.length, i + IMPORT_CHUNK) / lines.length;
    }
    return sum;
  }

  async function validated(text) {
    const res = await api("POST", withProvider("/admin/api-keys/import-with-validation"), { content: text }, { accept: "application/x-ndjson", raw: true });
    let result = null;
    await readNdjson(res, (line) => {
      if (line.type === "progress" && line.total) bar.value = line.done / line.total;
      if (line.type === "error") throw new Error(line.error.message);
      if (line.type === "done") result = line;
    });
    return result;
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = fileText !== null ? fileText : form.elements.content.value;
    if (!text.trim()) { say("paste keys or choose a file first", "error"); return; }
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    out.replaceChildren();
    try {
      const mode = form.elements.mode.value;
      const r = mode === "validated" ? await validated(text) : await plain(text);
      bar.value = 1;
      const summary = h("div", { class: "grid" },
        ["total", "added", "existing"].map((k) => h("div", { class: "metric" }, h("div", { class: "v", "data-field": k }, fmtNum(r[k])), h("div", { class: "l" }, k))),
        h("div", { class: "metric" }, h("div", { class: "v", "data-field": "invalid" }, fmtNum(r.invalid.length)), h("div", { class: "l" }, "invalid")));
      out.replaceChildren(summary, r.categories ? h("p", {}, "Model families: " + (Object.entries(r.categories).map(([k, v]) => k + " " + v).join(", ") || "none")) : "", invalidTable(r.invalid));
      say("import finished: " + r.added + " added", "ok");
      fileText = null;
      form.reset();
      form.elements.content.placeholder = "";
    } catch (err) {
      say(err.message, "error");
    } finally {
      btn.disabled = false;
    }
  });
}

function healthTab() {
  const form = $("#health-form");
  const bar = $("#health-progress");
  const info = $("#health-info");
  const body = $("#health-body");
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector("button");
    btn.disabled = true;
    bar.hidden = false;
    bar.value = 0;
    try {
      const scope = form.elements.scope.value;
      const res = await api("POST", withProvider("/admin/keys/health-check"), scope ? { status: scope } : {}, { accept: "application/x-ndjson", raw: true });
      /** @type {{ results: Array<{ key: string, healthy: boolean, status: number | null, error?: string }> } | null} */
      let job = null;
      await readNdjson(res, (line) => {
        if (line.type === "error") throw new Error(line.error.message);
        if (line.total) bar.value = line.done / line.total;
        info.textContent = fmtNum(line.done) + " of " + fmtNum(line.total) + " checked · " + fmtNum(line.healthy) + " healthy · " + fmtNum(line.unhealthy) + " unhealthy";
        if (line.type === "done") job = line;
      });
      bar.value = 1;
      const rows = job.results.slice().sort((a, b) => Number(a.healthy) - Number(b.healthy)).slice(0, 500);
      body.replaceChildren(...rows.map((r) => h("tr", {},
        h("td", {}, h("code", {}, r.key)),
        h("td", { class: r.healthy ? "status-active" : "status-disabled" }, r.healthy ? "healthy" : "unhealthy"),
        h("td", { class: "num" }, r.status === null ? "-" : r.status),
        h("td", {}, r.error || ""))));
      if (!rows.length) body.replaceChildren(h("tr", {}, h("td", { colspan: "4", class: "muted" }, "No keys to check.")));
    } catch (err) {
      say(err.message, "error");
    } finally {
      btn.disabled = false;
    }
  });
}

async function analyticsTab() {
  const s = await api("GET", withProvider("/admin/stats"));
  const cards = [
    ["requests", fmtNum(s.total_requests)], ["success rate", fmtPct(s.success_rate)],
    ["tokens in", fmtNum(s.prompt_tokens)], ["tokens out", fmtNum(s.completion_tokens)],
    ["keys active", fmtNum(s.active_keys)], ["keys cooling", fmtNum(s.cooling_keys)],
    ["keys disabled", fmtNum(s.failed_keys)], ["client tokens", fmtNum(s.total_client_tokens)],
  ];
  $("#analytics-cards").replaceChildren(...cards.map(([l, v]) => h("div", { class: "metric" }, h("div", { class: "v" }, v), h("div", { class: "l" }, l))));
  $("#models-body").replaceChildren(...s.top_models.map((m) => h("tr", {},
    h("td", {}, m.model), h("td", { class: "num" }, fmtNum(m.requests)), h("td", { class: "num" }, fmtPct(m.requests ? (100 * m.success) / m.requests : 0)),
    h("td", { class: "num" }, fmtNum(m.promptTokens)), h("td", { class: "num" }, fmtNum(m.completionTokens)))));
  const k = await api("GET", withProvider("/admin/keys/stats?pageSize=1000"));
  const rows = k.stats.filter((x) => x.totalRequests > 0).sort((a, b) => b.totalRequests - a.totalRequests).slice(0, 200);
  $("#keystats-body").replaceChildren(...rows.map((x) => h("tr", {},
    h("td", {}, h("code", {}, x.key)), h("td", {}, x.username || ""), h("td", { class: "num" }, fmtNum(x.totalRequests)),
    h("td", { class: "num" }, fmtPct(x.successRate)), h("td", { class: "num" }, fmtNum(x.promptTokens) + " / " + fmtNum(x.completionTokens)),
    h("td", { class: "status-" + x.status }, x.status))));
  if (!rows.length) $("#keystats-body").replaceChildren(h("tr", {}, h("td", { colspan: "6", class: "muted" }, "No requests yet.")));
}
`;
