/**
 * Admin user management: paging and search, view, role, enable/disable (the proxy refuses a
 * disabled user's token at once, and a second instance on the same store within the sync bound),
 * reset-key (revokes the old token), extend-key, batch, check-in history; tokens masked throughout.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { createPool, ollama } from "../mod.ts";
import { startMockUpstream } from "./helpers/mock_upstream.ts";
import { within } from "./helpers/poll.ts";
import { memoryMailer, SECRET, TEST_ITERATIONS, type UsersPool, usersPool } from "./helpers/users.ts";

const DAY = 86_400_000;

describe("admin: /admin/users", () => {
  let t: UsersPool;
  const users: Array<{ id: string; email: string; keyToken: string; session: string }> = [];
  before(async () => {
    t = await usersPool();
    for (let i = 0; i < 5; i++) {
      const email = `user${i}@example.com`;
      const r = await t.register(email);
      users.push({ id: r.user.id, email, keyToken: r.user.keyToken, session: r.session });
      t.clock.t += 61_000;
    }
  });
  after(() => t.close());

  it("needs the admin token", async () => {
    for (
      const [m, p] of [["GET", "/admin/users"], ["GET", `/admin/users/${users[0].id}`], ["POST", "/admin/users/batch"]]
    ) {
      const res = await t.api(m, p, undefined, users[0].session);
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, "invalid_admin_token");
    }
  });

  it("lists newest first, paged, tokens masked; searches by address or part of one", async () => {
    const p1 = await (await t.admin("GET", "/admin/users?page=1&pageSize=2")).json();
    assert.deepEqual([p1.page, p1.pageSize, p1.total], [1, 2, 5]);
    assert.deepEqual(p1.users.map((u: { email: string }) => u.email), ["user4@example.com", "user3@example.com"]);
    const p3 = await (await t.admin("GET", "/admin/users?page=3&pageSize=2")).json();
    assert.deepEqual(p3.users.map((u: { email: string }) => u.email), ["user0@example.com"]);
    const text = JSON.stringify(p1);
    for (const u of users) assert.ok(!text.includes(u.keyToken), "no full token in a listing");
    assert.match(p1.users[0].keyToken, /^sk-.{2}….{4}$/);
    assert.equal("password" in p1.users[0] || "tokenSealed" in p1.users[0], false);
    const exact = await (await t.admin("GET", "/admin/users?search=USER2@example.com")).json();
    assert.deepEqual(exact.users.map((u: { id: string }) => u.id), [users[2].id]);
    const part = await (await t.admin("GET", "/admin/users?search=user1")).json();
    assert.deepEqual([part.total, part.users[0].email], [1, "user1@example.com"]);
    assert.equal((await (await t.admin("GET", "/admin/users?search=nobody")).json()).total, 0);
    for (const bad of ["?pageSize=0", "?pageSize=101", "?page=x"]) {
      assert.equal((await t.admin("GET", `/admin/users${bad}`)).status, 400, bad);
    }
  });

  it("views and changes one user; unknown ids are 404", async () => {
    const one = await (await t.admin("GET", `/admin/users/${users[0].id}`)).json();
    assert.equal(one.user.email, "user0@example.com");
    const patched = await (await t.admin("PATCH", `/admin/users/${users[0].id}`, { role: "admin" })).json();
    assert.equal(patched.user.role, "admin");
    assert.equal((await t.admin("PATCH", `/admin/users/${users[0].id}`, { role: "root" })).status, 400);
    assert.equal((await t.admin("PATCH", `/admin/users/${users[0].id}`, { isActive: "no" })).status, 400);
    assert.equal((await t.admin("PATCH", `/admin/users/${users[0].id}`, {})).status, 400);
    const missing = await t.admin("GET", "/admin/users/u-none");
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, "user_not_found");
  });

  it("disabling a user refuses their token on the proxy at once and ends their sessions; enabling restores the token", async () => {
    const u = users[1];
    assert.equal((await t.chatWith(u.keyToken)).status, 200);
    const off = await (await t.admin("PATCH", `/admin/users/${u.id}`, { isActive: false })).json();
    assert.equal(off.user.isActive, false);
    const refused = await t.chatWith(u.keyToken);
    assert.equal(refused.status, 401);
    assert.equal((await refused.json()).error.code, "invalid_api_key");
    assert.equal(
      (await t.api("GET", "/api/auth/profile", undefined, u.session)).status,
      401,
      "the session ended with the disable",
    );
    assert.equal(
      (await t.api("POST", "/api/auth/login", { email: u.email, password: "correct horse battery" })).status,
      403,
    );
    const mails = t.mailer.messages.length;
    assert.equal(
      (await t.api("POST", "/api/auth/send-code", { email: u.email, purpose: "login" })).status,
      200,
      "the same answer as for any address",
    );
    assert.equal(t.mailer.messages.length, mails, "but no code for a disabled account");
    await t.admin("PATCH", `/admin/users/${u.id}`, { isActive: true });
    assert.equal((await t.chatWith(u.keyToken)).status, 200);
    assert.equal(
      (await t.api("GET", "/api/auth/profile", undefined, u.session)).status,
      401,
      "sessions from before the disable stay dead",
    );
    const again = await t.api("POST", "/api/auth/login", { email: u.email, password: "correct horse battery" });
    assert.equal(again.status, 200);
    u.session = (await again.json()).token;
    assert.equal((await t.api("GET", "/api/auth/profile", undefined, u.session)).status, 200);
  });

  it("reset-key revokes the old token and shows the new one once; the user sees it in the profile", async () => {
    const u = users[2];
    const res = await t.admin("POST", `/admin/users/${u.id}/reset-key`, { ttlSeconds: 3600 });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.equal(body.success, true);
    assert.match(body.token.token, /^sk-/);
    assert.notEqual(body.token.token, u.keyToken);
    assert.equal(body.token.expiresAt, t.clock.t + 3600_000);
    assert.equal(typeof body.token.name, "string");
    assert.equal((await t.chatWith(u.keyToken)).status, 401, "old token revoked");
    assert.equal((await t.chatWith(body.token.token)).status, 200);
    const profile = (await (await t.api("GET", "/api/auth/profile", undefined, u.session)).json()).user;
    assert.equal(profile.keyToken, body.token.token);
    assert.ok(!JSON.stringify(body.user).includes(body.token.token), "the user view in that answer is masked");
    u.keyToken = body.token.token;
    assert.equal((await t.admin("POST", `/admin/users/${u.id}/reset-key`, { ttlSeconds: 0 })).status, 400);
  });

  it("extend-key adds days from max(now, expiry)", async () => {
    const u = users[3];
    const before = (await (await t.admin("GET", `/admin/users/${u.id}`)).json()).user.keyExpiresAt;
    const one = await (await t.admin("POST", `/admin/users/${u.id}/extend-key`, {})).json();
    assert.equal(one.user.keyExpiresAt, before + DAY);
    const more = await (await t.admin("POST", `/admin/users/${u.id}/extend-key`, { days: 10 })).json();
    assert.equal(more.user.keyExpiresAt, before + 11 * DAY);
    assert.equal((await t.admin("POST", `/admin/users/${u.id}/extend-key`, { days: -1 })).status, 400);
  });

  it("batch enable/disable reports unknown ids", async () => {
    const ids = [users[3].id, users[4].id, "u-none"];
    const res = await (await t.admin("POST", "/admin/users/batch", { ids, isActive: false })).json();
    assert.deepEqual(res, { success: true, updated: 2, notFound: ["u-none"] });
    for (const u of [users[3], users[4]]) assert.equal((await t.chatWith(u.keyToken)).status, 401);
    await t.admin("POST", "/admin/users/batch", { ids: ids.slice(0, 2), isActive: true });
    for (const u of [users[3], users[4]]) {
      assert.equal((await t.chatWith(u.keyToken)).status, 200);
      assert.equal(
        (await t.api("GET", "/api/auth/profile", undefined, u.session)).status,
        401,
        "a batch disable ends sessions too",
      );
      u.session =
        (await (await t.api("POST", "/api/auth/login", { email: u.email, password: "correct horse battery" })).json())
          .token;
    }
    assert.equal((await t.admin("POST", "/admin/users/batch", { ids: [], isActive: true })).status, 400);
    assert.equal((await t.admin("POST", "/admin/users/batch", { ids })).status, 400);
  });

  it("shows a user's check-ins", async () => {
    const u = users[4];
    assert.equal((await t.api("POST", "/api/auth/sign", undefined, u.session)).status, 200);
    const res = await (await t.admin("GET", `/admin/users/${u.id}/signins?limit=5`)).json();
    assert.deepEqual(res.signins.map((s: { signDay: string }) => s.signDay), [
      new Date(t.clock.t).toISOString().slice(0, 10),
    ]);
    assert.equal((await t.admin("GET", `/admin/users/${u.id}/signins?limit=91`)).status, 400);
    assert.equal((await t.admin("GET", "/admin/users/u-none/signins")).status, 404);
  });
});

describe("admin: a disabled user on a second instance", () => {
  it("instance B refuses the token within the 5 s propagation bound", { timeout: 20_000 }, async () => {
    const mock = await startMockUpstream();
    const storage = createStorage({ driver: memoryDriver() });
    const quiet = { info() {}, warn() {}, error() {} };
    const mailer = memoryMailer();
    const [a, b] = [0, 1].map(() =>
      createPool({
        providers: [ollama({ baseURL: mock.url })],
        storage,
        auth: { adminToken: "multi-users-admin-01" },
        syncIntervalMs: 250,
        logger: quiet,
        users: { secret: SECRET, pbkdf2Iterations: TEST_ITERATIONS, mailer },
      })
    );
    const ticker = setInterval(() => [a, b].forEach((p) => p.tick()), 100);
    const call = (p: typeof a, path: string, body: unknown, auth?: string) =>
      p.fetch(
        new Request(`http://pool${path}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json", ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
        }),
      );
    try {
      await call(a, "/admin/api-keys/import", { keys: ["good-multi-user-1"] }, "multi-users-admin-01");
      await call(a, "/api/auth/send-code", { email: "zoe@example.com", purpose: "register" });
      const reg = await (await call(a, "/api/auth/register", {
        email: "zoe@example.com",
        code: mailer.code("zoe@example.com"),
        password: "zoe password",
      })).json();
      const chat = (p: typeof a) => call(p, "/v1/chat/completions", { model: "m", messages: [] }, reg.user.keyToken);
      await within(5000, async () => (await chat(b)).status === 200, "B accepted the new token");
      const res = await a.fetch(
        new Request(`http://pool/admin/users/${reg.user.id}`, {
          method: "PATCH",
          body: JSON.stringify({ isActive: false }),
          headers: { authorization: "Bearer multi-users-admin-01", "content-type": "application/json" },
        }),
      );
      assert.equal(res.status, 200);
      assert.equal((await chat(a)).status, 401, "at once on A");
      const took = await within(5000, async () => (await chat(b)).status === 401, "B refused the token");
      assert.ok(took < 5000, `B refused it after ${took} ms`);
    } finally {
      clearInterval(ticker);
      await Promise.all([a.close(), b.close()]);
      await mock.close();
    }
  });
});
