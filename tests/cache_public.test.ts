/** The response cache and the public statistics. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStorage } from "unstorage";
import { chat, setupPool, type TestPool } from "./helpers/setup.ts";

describe("response cache", () => {
  let t: TestPool;
  const clock = { t: Date.now() };
  before(async () => {
    t = await setupPool({
      keys: ["good-cache-00001"],
      now: () => clock.t,
      cache: { enabled: true, ttlMs: 10_000, maxEntries: 2 },
    });
  });
  after(() => t.close());

  it("answers the same non-stream request from the cache, whatever the key order of its body", async () => {
    t.mock.reset();
    const a = await t.call("/v1/chat/completions", {
      method: "POST",
      body: '{"model":"llama3.2","messages":[{"role":"user","content":"cache me"}]}',
    });
    assert.equal(a.headers.get("x-cache"), "MISS");
    const first = await a.json();
    const b = await t.call("/v1/chat/completions", {
      method: "POST",
      body: '{"messages":[{"content":"cache me","role":"user"}],"model":"llama3.2"}',
    });
    assert.equal(b.headers.get("x-cache"), "HIT");
    assert.deepEqual(await b.json(), first);
    assert.equal(t.mock.requests.length, 1, "the second answer did not reach upstream");
  });

  it("keeps providers, bodies and streams apart, expires entries and stays within its bounds", async () => {
    t.mock.reset();
    const other = await t.call("/v1/chat/completions", chat("llama3.2", { temperature: 0.5 }));
    assert.equal(other.headers.get("x-cache"), "MISS");
    await other.text();
    const stream = await t.call("/v1/chat/completions", chat("llama3.2", { stream: true }));
    assert.equal(stream.headers.get("x-cache"), null);
    await stream.text();
    const stats = await (await t.admin("GET", "/admin/cache/stats")).json();
    assert.equal(stats.entries, 2);
    assert.ok(stats.hits >= 1 && stats.misses >= 2);
    const third = await t.call("/v1/chat/completions", chat("qwen3:8b"));
    await third.text();
    assert.equal((await (await t.admin("GET", "/admin/cache/stats")).json()).entries, 2, "maxEntries holds");
    clock.t += 10_000;
    const again = await t.call("/v1/chat/completions", chat("qwen3:8b"));
    assert.equal(again.headers.get("x-cache"), "MISS", "expired");
    await again.text();
  });

  it("is cleared by the admin, by model or whole", async () => {
    const unknown = await t.admin("POST", "/admin/cache/clear", { provider: "nope" });
    assert.equal(unknown.status, 400, "an unknown provider is an error, not a silent no-op");
    assert.equal((await unknown.json()).error.code, "unknown_provider");
    assert.equal(
      (await (await t.admin("POST", "/admin/cache/clear?provider=openrouter", { model: "qwen" })).json()).removed,
      0,
    );
    const r = await (await t.admin("POST", "/admin/cache/clear", { model: "qwen" })).json();
    assert.equal(r.removed, 1);
    const all = await (await t.admin("POST", "/admin/cache/clear", {})).json();
    assert.equal(all.success, true);
    assert.equal((await (await t.admin("GET", "/admin/cache/stats")).json()).entries, 0);
  });

  it("is shared through the store when asked", async () => {
    const storage = createStorage();
    const a = await setupPool({ storage, keys: ["good-cache-00002"], cache: { enabled: true, shared: true } });
    const b = await setupPool({ storage, cache: { enabled: true, shared: true } });
    try {
      await b.pool.flush();
      const ask = (p: TestPool) =>
        p.call("/v1/embeddings", {
          method: "POST",
          headers: { authorization: `Bearer ${a.token}` },
          body: JSON.stringify({ model: "e", input: "x" }),
        });
      assert.equal((await ask(a)).headers.get("x-cache"), "MISS");
      const hit = await ask(b);
      assert.equal(hit.headers.get("x-cache"), "HIT");
      assert.equal((await hit.json()).data[0].object, "embedding");
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe("public statistics", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: ["good-public-00001"] });
  });
  after(() => t.close());

  it("needs no credential and shows totals, top models and a 24-hour trend, nothing secret", async () => {
    for (const model of ["llama3.2", "llama3.2", "qwen3:8b", "<img src=x onerror=alert(1)>"]) {
      await (await t.call("/v1/chat/completions", chat(model))).text();
    }
    const res = await t.pool.fetch(new Request("http://pool/admin/public-stats"));
    assert.equal(res.status, 200);
    const text = await res.text();
    const s = JSON.parse(text);
    assert.equal(s.total_requests, 4);
    assert.deepEqual(s.top_models[0], { model: "llama3.2", requests: 2 });
    assert.equal(s.top_models_24h.length, 3);
    assert.equal(s.hourly.length, 24);
    assert.equal(s.keys.total, 1);
    assert.ok(!text.includes("<img"), "model names keep only name characters");
    assert.ok(!text.includes("good-public") && !text.includes(t.token.slice(3, 20)));
    // Other admin routes still need the admin token.
    assert.equal((await t.pool.fetch(new Request("http://pool/admin/stats"))).status, 401);
    assert.equal((await t.pool.fetch(new Request("http://pool/admin/public-stats", { method: "POST" }))).status, 401);
    // Only that one route is public: another admin path that merely ends like it is not (the
    // /admin/users/* catch-all of a pool without users answered such a path without the token).
    for (const method of ["GET", "HEAD", "DELETE"]) {
      const other = await t.pool.fetch(new Request("http://pool/admin/users/x/admin/public-stats", { method }));
      assert.equal(other.status, 401, method);
    }
  });
});
