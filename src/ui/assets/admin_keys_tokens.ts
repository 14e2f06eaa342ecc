/**
 * Dashboard scripts for the keys tab (paged list, search, status filter, priority and weight
 * edited in place, enable/disable/delete)
 * and the client-tokens tab (create and show once, copy, revoke, usage). JavaScript source; no
 * `${` inside: this is a TypeScript template literal.
 * @module
 */
export const ADMIN_KEYS_TOKENS_JS = `
const provider = root.dataset.provider;
const withProvider = (path) => path + (path.includes("?") ? "&" : "?") + "provider=" + encodeURIComponent(provider);

function keysTab() {
  const form = $("#keys-filter");
  const body = $("#keys-body");

  const keyButtons = (k) => {
    const on = h("button", { class: "secondary", "data-action": "enable" }, "Enable");
    const off = h("button", { class: "secondary", "data-action": "disable" }, "Disable");
    const del = h("button", { class: "danger", "data-action": "delete" }, "Delete");
    action(on, async () => { await api("POST", withProvider("/admin/keys/enable"), { id: k.id }); say("key enabled", "ok"); await load(); });
    action(off, async () => { await api("POST", withProvider("/admin/keys/disable"), { id: k.id, duration: 0 }); say("key disabled until enabled again", "ok"); await load(); });
    action(del, async () => {
      if (!confirm("Delete this key from the pool?")) return;
      await api("DELETE", withProvider("/admin/api-keys"), { id: k.id });
      say("key deleted", "ok");
      await load();
    });
    const info = h("button", { class: "secondary", "data-action": "details" }, "Details");
    action(info, () => showKeyDetail(k.id));
    return h("td", { class: "actions" }, info, " ", k.status === "active" ? off : on, " ", del);
  };

  // Priority and weight are edited in place; a change is saved when the field is left.
  const placementCell = (k, name, min, max) => {
    const input = h("input", { type: "number", min: String(min), max: String(max), step: "1", value: String(k[name]), "aria-label": name, class: "narrow", "data-field": name });
    input.addEventListener("change", async () => {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < min || v > max) { say(name + " must be an integer from " + min + " to " + max, "error"); input.value = String(k[name]); return; }
      try {
        const d = await api("PATCH", withProvider("/admin/api-keys"), { id: k.id, [name]: v });
        k[name] = d.key[name];
        say(name + " set to " + v, "ok");
      } catch (e) { say(e.message, "error"); input.value = String(k[name]); }
    });
    return h("td", { class: "num" }, input);
  };

  const list = pager("keys", "keys", async (page) => {
    const q = new URLSearchParams({ page: String(page), pageSize: "50" });
    if (form.elements.search.value.trim()) q.set("search", form.elements.search.value.trim());
    if (form.elements.status.value) q.set("status", form.elements.status.value);
    const d = await api("GET", withProvider("/admin/api-keys?" + q));
    body.replaceChildren(...d.api_keys.map((k) => h("tr", { "data-id": k.id },
      h("td", {}, h("code", {}, k.api_key)),
      h("td", {}, k.username || ""),
      h("td", { class: "status-" + k.status }, k.status),
      h("td", {}, k.reason || ""),
      h("td", { class: "num" }, fmtNum(k.failures)),
      placementCell(k, "priority", -1000, 1000),
      placementCell(k, "weight", 1, 1000),
      h("td", {}, k.models ? String(k.models.length) : "?"),
      h("td", { class: "num" }, k.usage ? ["session", "weekly"].filter((w) => k.usage[w] !== null).map((w) => w[0] + " " + Math.round(k.usage[w] * 100) + "%").join(" / ") : ""),
      h("td", {}, fmtDate(k.created_at)),
      keyButtons(k))));
    if (d.api_keys.length === 0) body.replaceChildren(h("tr", {}, h("td", { colspan: "11", class: "muted" }, "No keys match.")));
    return { total: d.total, pages: d.totalPages };
  });
  const load = () => list.reload();
  form.addEventListener("submit", (ev) => { ev.preventDefault(); list.first().catch((e) => say(e.message, "error")); });
  form.elements.status.addEventListener("change", () => { list.first().catch((e) => say(e.message, "error")); });
  return list.first();
}

function tokensTab() {
  const form = $("#token-create");
  const body = $("#tokens-body");
  const once = $("#token-once");

  async function load() {
    const d = await api("GET", "/admin/tokens");
    body.replaceChildren(...d.tokens.map((t) => {
      const revoke = h("button", { class: "danger" }, "Revoke");
      action(revoke, async () => {
        if (!confirm("Revoke this token? Clients using it stop working at once.")) return;
        await api("DELETE", "/admin/tokens", { id: t.id });
        say("token revoked", "ok");
        await load();
      });
      return h("tr", { "data-id": t.id },
        h("td", {}, t.name),
        h("td", {}, h("code", {}, t.token)),
        h("td", {}, fmtDate(t.createdAt)),
        h("td", {}, t.expiresAt ? fmtDate(t.expiresAt) + (t.expired ? " (expired)" : "") : "never"),
        h("td", { class: "num" }, fmtNum(t.requests)),
        h("td", { class: "num" }, fmtNum(t.promptTokens) + " / " + fmtNum(t.completionTokens)),
        h("td", {}, fmtDate(t.lastUsed)),
        h("td", {}, revoke));
    }));
    if (d.tokens.length === 0) body.replaceChildren(h("tr", {}, h("td", { colspan: "8", class: "muted" }, "No client tokens yet.")));
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = form.querySelector("button");
    btn.disabled = true;
    try {
      const days = Number(form.elements.expires.value);
      const req = { name: form.elements.name.value.trim() };
      if (days > 0) req.expiresIn = days * 86400;
      const t = await api("POST", "/admin/tokens", req);
      const code = h("code", { id: "new-token" }, t.token);
      const copy = h("button", { class: "secondary" }, "Copy");
      copy.addEventListener("click", () => copyText(t.token, code));
      once.replaceChildren(h("div", { class: "msg ok" }, "New token for ", h("strong", {}, t.name),
        ": copy it now, it is not shown again.", h("div", { class: "secret-once" }, code, copy)));
      once.hidden = false;
      form.reset();
      await load();
    } catch (err) {
      say(err.message, "error");
    } finally {
      btn.disabled = false;
    }
  });
  return load();
}
`;
