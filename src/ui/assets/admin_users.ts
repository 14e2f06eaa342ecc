/**
 * Dashboard script for the users tab: search and paging, enable/disable (one or a checked
 * batch), role, token reset (the new token shown once), extend by N days, check-in history.
 * JavaScript source; no `${` inside.
 * @module
 */
export const ADMIN_USERS_JS = `
function usersTab() {
  const form = $("#users-filter");
  const body = $("#users-body");
  const detail = $("#user-detail");

  const checked = () => [...body.querySelectorAll("input[type=checkbox]:checked")].map((c) => c.value);
  const batch = (isActive) => async () => {
    const ids = checked();
    if (!ids.length) { say("tick the users first", "error"); return; }
    const r = await api("POST", "/admin/users/batch", { ids, isActive });
    say(r.updated + " users " + (isActive ? "enabled" : "disabled"), "ok");
    await load();
  };
  action($("#users-enable"), batch(true));
  action($("#users-disable"), batch(false));

  async function showDetail(u) {
    const d = await api("GET", "/admin/users/" + encodeURIComponent(u.id) + "/signins?limit=30");
    const days = h("input", { type: "number", min: "1", max: "3650", value: "1", "aria-label": "Days", class: "days" });
    const extend = h("button", { class: "secondary" }, "Extend");
    const reset = h("button", { class: "danger" }, "Reset token");
    const role = h("select", { "aria-label": "Role" }, h("option", { value: "user" }, "user"), h("option", { value: "admin" }, "admin"));
    role.value = u.role;
    const once = h("div", {});
    action(extend, async () => {
      const r = await api("POST", "/admin/users/" + encodeURIComponent(u.id) + "/extend-key", { days: Number(days.value) });
      say("token valid until " + fmtDate(r.user.keyExpiresAt), "ok");
      await load();
    });
    action(reset, async () => {
      if (!confirm("Revoke this user's token and issue a new one?")) return;
      const r = await api("POST", "/admin/users/" + encodeURIComponent(u.id) + "/reset-key", {});
      const code = h("code", { id: "user-new-token" }, r.token.token);
      const copy = h("button", { class: "secondary" }, "Copy");
      copy.addEventListener("click", () => copyText(r.token.token, code));
      once.replaceChildren(h("div", { class: "msg ok" }, "New token (shown once; the user also sees it in their dashboard):", h("div", { class: "secret-once" }, code, copy)));
      await load();
    });
    role.addEventListener("change", async () => {
      try {
        await api("PATCH", "/admin/users/" + encodeURIComponent(u.id), { role: role.value });
        say("role changed to " + role.value, "ok");
        await load();
      } catch (err) { say(err.message, "error"); }
    });
    detail.replaceChildren(h("div", { class: "card" },
      h("h2", {}, u.email),
      h("p", { class: "muted" }, "Token " + (u.keyToken || "revoked") + " · valid until " + fmtDate(u.keyExpiresAt) + " · " + fmtNum(u.keyRequestCount) + " requests · registered " + fmtDate(u.createdAt)),
      h("div", { class: "row" }, "Role", role, days, "days", extend, reset),
      once,
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", {}, "Check-in day"), h("th", {}, "At"))),
        h("tbody", { id: "user-signins" }, d.signins.length ? d.signins.map((s) => h("tr", {}, h("td", {}, s.signDay), h("td", {}, fmtDate(s.createdAt))))
          : h("tr", {}, h("td", { colspan: "2", class: "muted" }, "No check-ins.")))))));
    detail.hidden = false;
  }

  const list = pager("users", "users", async (page) => {
    const q = new URLSearchParams({ page: String(page), pageSize: "20" });
    if (form.elements.search.value.trim()) q.set("search", form.elements.search.value.trim());
    const d = await api("GET", "/admin/users?" + q);
    body.replaceChildren(...d.users.map((u) => {
      const toggle = h("button", { class: "secondary" }, u.isActive ? "Disable" : "Enable");
      action(toggle, async () => {
        await api("PATCH", "/admin/users/" + encodeURIComponent(u.id), { isActive: !u.isActive });
        say("user " + (u.isActive ? "disabled" : "enabled"), "ok");
        await load();
      });
      const open = h("button", { class: "secondary" }, "Details");
      action(open, () => showDetail(u));
      return h("tr", { "data-id": u.id },
        h("td", {}, h("input", { type: "checkbox", value: u.id, "aria-label": "Select" })),
        h("td", {}, u.email),
        h("td", { class: u.isActive ? "status-active" : "status-disabled" }, u.isActive ? "active" : "disabled"),
        h("td", {}, u.role),
        h("td", {}, fmtDate(u.keyExpiresAt) + (u.keyExpired ? " (expired)" : "")),
        h("td", { class: "num" }, fmtNum(u.keyRequestCount)),
        h("td", {}, fmtDate(u.lastSignInAt)),
        h("td", {}, toggle, " ", open));
    }));
    if (!d.users.length) body.replaceChildren(h("tr", {}, h("td", { colspan: "8", class: "muted" }, "No users match.")));
    return { total: d.total, pages: Math.ceil(d.total / d.pageSize) };
  });
  const load = () => list.reload();
  form.addEventListener("submit", (ev) => { ev.preventDefault(); list.first().catch((e) => say(e.message, "error")); });
  return list.first();
}
`;
