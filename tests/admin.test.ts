import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ADMIN, chat, setupPool, type TestPool } from "./helpers/setup.ts";

const TXT = [
  "a@x.io----pw----sess----key-import-00000001",
  "b@x.io----pw----sess----key-import-00000002",
  "",
  "broken----line",
  "key-import-00000001",
  "bare-import-key-0003",
].join("\n");

describe("admin API", () => {
  let t: TestPool;
  const clock = { t: Date.now() };
  before(async () => {
    t = await setupPool({ now: () => clock.t });
  });
  after(() => t.close());

  it("every admin route refuses a missing or wrong admin token", async () => {
    const routes = [
      ["GET", "/admin/api-keys"],
      ["POST", "/admin/api-keys"],
      ["DELETE", "/admin/api-keys"],
      ["POST", "/admin/api-keys/import"],
      ["POST", "/admin/api-keys/import-from-txt"],
      ["GET", "/admin/tokens"],
      ["POST", "/admin/tokens"],
      ["DELETE", "/admin/tokens"],
      ["GET", "/admin/keys/stats"],
      ["GET", "/admin/stats"],
      ["POST", "/admin/keys/enable"],
      ["POST", "/admin/keys/disable"],
      ["GET", "/admin/anything-else"],
    ];
    for (const [method, path] of routes) {
      for (const auth of [undefined, "Bearer wrong", `Bearer ${ADMIN}x`, `Bearer ${t.token}`]) {
        const res = await t.pool.fetch(
          new Request(`http://pool${path}`, { method, headers: auth ? { authorization: auth } : {} }),
        );
        assert.equal(res.status, 401, `${method} ${path} with ${auth}`);
        assert.equal((await res.json()).error.code, "invalid_admin_token");
      }
    }
  });

  it("imports ollama.txt: counts added, existing and invalid lines", async () => {
    const res = await t.admin("POST", "/admin/api-keys/import-from-txt", { content: TXT });
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual({ total: body.total, added: body.added, existing: body.existing }, {
      total: 5,
      added: 3,
      existing: 1,
    });
    assert.deepEqual(body.invalid.map((i: { line: number }) => i.line), [4]);
    const again = await (await t.admin("POST", "/admin/api-keys/import-from-txt", { content: TXT })).json();
    assert.deepEqual([again.added, again.existing], [0, 4]);
  });

  it("lists keys masked and paged, filters by status and searches labels", async () => {
    const page1 = await (await t.admin("GET", "/admin/api-keys?pageSize=2")).json();
    assert.deepEqual([page1.total, page1.page, page1.pageSize, page1.totalPages, page1.api_keys.length], [
      3,
      1,
      2,
      2,
      2,
    ]);
    const page2 = await (await t.admin("GET", "/admin/api-keys?pageSize=2&page=2")).json();
    assert.equal(page2.api_keys.length, 1);
    assert.equal(page1.api_keys[0].api_key, "key-…0001");
    assert.equal(page1.api_keys[0].username, "a@x.io");
    const found = await (await t.admin("GET", "/admin/api-keys?search=B@X")).json();
    assert.deepEqual(found.api_keys.map((k: { username: string }) => k.username), ["b@x.io"]);
    const none = await (await t.admin("GET", "/admin/api-keys?status=disabled")).json();
    assert.equal(none.total, 0);
    for (const bad of ["?status=weird", "?pageSize=0", "?pageSize=201", "?page=x", "?provider=nope"]) {
      assert.equal((await t.admin("GET", `/admin/api-keys${bad}`)).status, 400, bad);
    }
  });

  it("adds one key (with ttl), refuses duplicates and bad input", async () => {
    const res = await t.admin("POST", "/admin/api-keys", {
      api_key: "single-key-000000001",
      username: "solo",
      ttl: 60,
    });
    assert.equal(res.status, 201);
    const { id } = await res.json();
    const list = await (await t.admin("GET", "/admin/api-keys?search=solo")).json();
    assert.equal(list.api_keys[0].id, id);
    assert.equal(list.api_keys[0].expires_at, clock.t + 60_000);
    assert.equal((await t.admin("POST", "/admin/api-keys", { apiKey: "single-key-000000001" })).status, 409);
    assert.equal((await t.admin("POST", "/admin/api-keys", {})).status, 400);
    assert.equal((await t.admin("POST", "/admin/api-keys", { api_key: "short" })).status, 400);
    assert.equal((await t.admin("POST", "/admin/api-keys", { api_key: "x".repeat(20), ttl: -1 })).status, 400);
    assert.equal((await t.admin("POST", "/admin/api-keys/import", { keys: "nope" })).status, 400);
    assert.equal((await t.admin("POST", "/admin/api-keys/import-from-txt", {})).status, 400);
    const bad = await t.pool.fetch(
      new Request("http://pool/admin/api-keys", {
        method: "POST",
        headers: { authorization: `Bearer ${ADMIN}` },
        body: "{oops",
      }),
    );
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, "invalid_json");
  });

  it("deletes by id, by the key itself, and in batches", async () => {
    const list = await (await t.admin("GET", "/admin/api-keys?pageSize=200")).json();
    const solo = list.api_keys.find((k: { username: string }) => k.username === "solo");
    assert.equal((await t.admin("DELETE", "/admin/api-keys", { id: solo.id })).status, 200);
    assert.equal((await t.admin("DELETE", "/admin/api-keys", { id: solo.id })).status, 404);
    assert.equal((await t.admin("DELETE", "/admin/api-keys", { apiKey: "bare-import-key-0003" })).status, 200);
    const batch =
      await (await t.admin("DELETE", "/admin/api-keys", { apiKeys: ["key-import-00000001", "nope-nope-nope"] })).json();
    assert.deepEqual([batch.deleted, batch.failed, batch.total], [1, 1, 2]);
    const left = await (await t.admin("GET", "/admin/api-keys")).json();
    assert.deepEqual(left.api_keys.map((k: { username: string }) => k.username), ["b@x.io"]);
  });

  it("disables (for a while or until enabled) and enables keys", async () => {
    const [key] = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys;
    let res = await t.admin("POST", "/admin/keys/disable", { id: key.id, duration: 120 });
    assert.equal(res.status, 200);
    let now = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys[0];
    assert.deepEqual([now.status, now.until, now.reason], ["disabled", clock.t + 120_000, "disabled by admin"]);
    assert.equal((await t.call("/v1/chat/completions", chat())).status, 503);
    res = await t.admin("POST", "/admin/keys/enable", { apiKey: "key-import-00000002" });
    assert.equal(res.status, 200);
    now = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys[0];
    assert.equal(now.status, "active");
    assert.equal((await t.admin("POST", "/admin/keys/enable", { id: "0000" })).status, 404);
    assert.equal((await t.admin("POST", "/admin/keys/disable", { id: key.id, duration: "1h" })).status, 400);
  });

  it("issues client tokens once, lists them masked, expires and revokes them", async () => {
    const res = await t.admin("POST", "/admin/tokens", { name: "short-lived", expiresIn: 60 });
    assert.equal(res.status, 201);
    const created = await res.json();
    assert.match(created.token, /^sk-[A-Za-z0-9]{48}$/);
    assert.equal(created.expiresAt, clock.t + 60_000);
    const listText = await (await t.admin("GET", "/admin/tokens")).text();
    assert.ok(!listText.includes(created.token), "a token is shown only when created");
    const listed = JSON.parse(listText).tokens.find((x: { id: string }) => x.id === created.id);
    assert.equal(listed.name, "short-lived");
    assert.equal(listed.token, `${created.token.slice(0, 5)}…${created.token.slice(-4)}`);
    assert.ok(!("hash" in listed));

    const use = (tok: string) => t.call("/v1/models", { headers: { authorization: `Bearer ${tok}` } });
    assert.equal((await use(created.token)).status, 200);
    clock.t += 60_000;
    assert.equal((await use(created.token)).status, 401);

    const other = await (await t.admin("POST", "/admin/tokens", { name: "revoke-me" })).json();
    assert.equal(other.expiresAt, null);
    assert.equal((await use(other.token)).status, 200);
    assert.equal((await t.admin("DELETE", "/admin/tokens", { token: other.token })).status, 200);
    assert.equal((await use(other.token)).status, 401);
    assert.equal((await t.admin("DELETE", "/admin/tokens", { id: other.id })).status, 404);
    assert.equal((await t.admin("POST", "/admin/tokens", {})).status, 400);
    assert.equal((await t.admin("POST", "/admin/tokens", { name: "x", expiresIn: 0 })).status, 400);
    assert.equal((await t.admin("POST", "/admin/tokens", { name: "x".repeat(101) })).status, 400);
  });

  it("x-api-key works as the client token too", async () => {
    const res = await t.call("/v1/models", { headers: { authorization: "", "x-api-key": t.token } });
    assert.equal(res.status, 200);
  });

  it("no response ever contains an upstream secret", async () => {
    const secrets = ["key-import-00000002"];
    const paths = ["/admin/api-keys", "/admin/keys/stats", "/admin/stats", "/admin/tokens", "/health"];
    for (const p of paths) {
      const text = await (await t.admin("GET", p)).text();
      for (const s of secrets) assert.ok(!text.includes(s), `${p} leaks a key`);
    }
  });

  it("reports health per provider without credentials", async () => {
    const res = await t.pool.fetch(new Request("http://pool/health"));
    const body = await res.json();
    assert.equal(body.status, "ok");
    assert.equal(body.providers.ollama.configured, true);
    assert.equal(body.providers.openrouter.configured, false);
    assert.deepEqual(Object.keys(body.providers.ollama.keys).sort(), ["active", "cooling", "disabled", "total"]);
  });

  it("serves the OpenRouter pool under ?provider=openrouter", async () => {
    await t.admin("POST", "/admin/api-keys/import?provider=openrouter", { keys: ["or-key-000000000001"] });
    const or = await (await t.admin("GET", "/admin/api-keys?provider=openrouter")).json();
    assert.equal(or.total, 1);
    const stats = await (await t.admin("GET", "/admin/stats?provider=openrouter")).json();
    assert.deepEqual([stats.provider, stats.total_api_keys], ["openrouter", 1]);
  });
});
