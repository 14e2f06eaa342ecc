/** Rate limits per IP and per token, tokens per minute, quotas and allowed models. */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { createStorage } from "unstorage";
import { chat, setupPool, type TestPool } from "./helpers/setup.ts";

describe("limits and token policies", () => {
  let t: TestPool;
  const clock = { t: Date.UTC(2026, 0, 1) };
  before(async () => {
    t = await setupPool({
      keys: ["good-limits-00001"],
      now: () => clock.t,
      rateLimit: { perIp: 5 },
      clientIp: (req) => req.headers.get("x-test-ip") ?? undefined,
    });
  });
  after(() => t.close());
  beforeEach(() => {
    clock.t += 60_000; // a fresh window for every test
  });

  const token = async (policy: Record<string, unknown>) => {
    const res = await t.admin("POST", "/admin/tokens", { name: "limited", ...policy });
    assert.equal(res.status, 201);
    return (await res.json()).token as string;
  };
  const ask = (tok: string, model = "llama3.2", ip?: string) =>
    t.call("/v1/chat/completions", {
      ...chat(model),
      headers: { authorization: `Bearer ${tok}`, ...(ip ? { "x-test-ip": ip } : {}) },
    });

  it("limits requests per token per window, with Retry-After, and opens again next window", async () => {
    const tok = await token({ rpm: 3 });
    for (let i = 0; i < 3; i++) assert.equal((await ask(tok)).status, 200);
    const res = await ask(tok);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "60");
    assert.equal((await res.json()).error.code, "rate_limit_exceeded");
    clock.t += 60_000;
    assert.equal((await ask(tok)).status, 200);
  });

  it("limits requests per client IP", async () => {
    for (let i = 0; i < 5; i++) assert.equal((await ask(t.token, "llama3.2", "10.9.9.9")).status, 200);
    const res = await ask(t.token, "llama3.2", "10.9.9.9");
    assert.equal(res.status, 429);
    assert.equal((await res.json()).error.code, "ip_rate_limited");
    assert.equal((await ask(t.token, "llama3.2", "10.9.9.10")).status, 200, "another address is not affected");
  });

  it("allows only the token's models (names and prefix* patterns); model lists stay reachable", async () => {
    const tok = await token({ allowedModels: ["llama*", "gpt-oss:20b"] });
    assert.equal((await ask(tok, "llama3.2")).status, 200);
    assert.equal((await ask(tok, "gpt-oss:20b")).status, 200);
    const res = await ask(tok, "qwen3:8b");
    assert.equal(res.status, 403);
    assert.equal((await res.json()).error.code, "model_not_allowed");
    assert.equal((await t.call("/v1/models", { headers: { authorization: `Bearer ${tok}` } })).status, 200);
  });

  it("limits tokens per minute from the usage upstream reported", async () => {
    const tok = await token({ tpm: 20 }); // each mock answer uses 13 tokens
    assert.equal((await (await ask(tok)).text()).length > 0, true);
    assert.equal((await ask(tok)).status, 200);
    const res = await ask(tok);
    assert.equal(res.status, 429);
    assert.equal((await res.json()).error.code, "tokens_per_minute_exceeded");
  });

  it("stops a token at its total quota; PATCH raises it", async () => {
    const created = await (await t.admin("POST", "/admin/tokens", { name: "quota", quota: 30 })).json();
    for (let i = 0; i < 3; i++) assert.equal((await ask(created.token)).status, 200);
    const res = await ask(created.token);
    assert.equal(res.status, 429);
    assert.equal((await res.json()).error.code, "insufficient_quota");
    const patched = await t.admin("PATCH", "/admin/tokens", { id: created.id, quota: 1000, rpm: null });
    assert.equal(patched.status, 200);
    assert.equal((await patched.json()).token.quota, 1000);
    assert.equal((await ask(created.token)).status, 200);
  });

  for (const policy of [{ quota: 18 }, { tpm: 18 }]) {
    const name = Object.keys(policy)[0];
    it(`${name} holds against parallel requests: usage is reserved at admission, not only counted at the end`, async () => {
      const tok = await token(policy);
      const answers = await Promise.all(Array.from({ length: 40 }, async () => {
        const res = await ask(tok);
        return { status: res.status, code: res.status === 200 ? undefined : (await res.json()).error.code };
      }));
      const ok = answers.filter((a) => a.status === 200).length;
      // Each answer uses 13 tokens: past 18 by at most the one admitted while 13 were used.
      assert.ok(ok >= 1 && ok <= 2, `${ok} of 40 parallel requests got 200 (${name} 18, 13 tokens each)`);
      for (const a of answers) if (a.status !== 200) assert.equal(a.status, 429);
      assert.ok(
        answers.some((a) => a.code === (name === "quota" ? "quota_reserved" : "tokens_per_minute_exceeded")),
        JSON.stringify(answers.slice(0, 3)),
      );
    });
  }

  it("a reservation ends with its request, however it ends; a refused request reserves nothing", async () => {
    // Each of these reserves more than the whole quota (max_tokens 10,000): a leftover reservation
    // would get the next one refused as quota_reserved.
    const created = await (await t.admin("POST", "/admin/tokens", {
      name: "reserve",
      quota: 5000,
      allowedModels: ["llama*", "missing-model"],
    })).json();
    const big = (model: string, extra: Record<string, unknown> = {}) =>
      t.call("/v1/chat/completions", {
        ...chat(model, { max_tokens: 10_000, ...extra }),
        headers: { authorization: `Bearer ${created.token}` },
      });
    const gone = new AbortController();
    gone.abort();
    const ends: Array<[string, () => Promise<Response>, number]> = [
      ["success", () => big("llama3.2"), 200],
      ["stream", () => big("llama3.2", { stream: true }), 200],
      ["upstream 404", () => big("missing-model"), 404],
      ["refused model", () => big("qwen3:8b"), 403],
      [
        "client gone",
        () =>
          t.call("/v1/chat/completions", {
            ...chat("llama3.2", { max_tokens: 10_000 }),
            signal: gone.signal,
            headers: { authorization: `Bearer ${created.token}` },
          }),
        499,
      ],
      [
        "no keys",
        () =>
          t.call("/openrouter/v1/chat/completions", {
            ...chat("llama3.2", { max_tokens: 10_000 }),
            headers: { authorization: `Bearer ${created.token}` },
          }),
        503,
      ],
    ];
    for (const [what, send, expected] of ends) {
      const res = await send();
      assert.equal(res.status, expected, what);
      await res.text();
      const next = await big("llama3.2");
      assert.equal(next.status, 200, `after ${what}: ${await next.text()}`);
    }
  });

  it("validates policy fields", async () => {
    for (const bad of [{ rpm: 0 }, { tpm: "x" }, { quota: -1 }, { allowedModels: "llama" }, { allowedModels: [""] }]) {
      assert.equal((await t.admin("POST", "/admin/tokens", { name: "x", ...bad })).status, 400, JSON.stringify(bad));
    }
    assert.equal((await t.admin("PATCH", "/admin/tokens", { id: "nope", rpm: 1 })).status, 404);
    assert.equal((await t.admin("PATCH", "/admin/tokens", { rpm: 1 })).status, 400);
  });
});

describe("limits shared by instances", () => {
  it("two instances on one store enforce one per-token limit after a sync", async () => {
    const storage = createStorage();
    const clock = { t: Date.UTC(2026, 0, 1, 0, 0, 1) };
    const a = await setupPool({ storage, keys: ["good-limits-00002"], now: () => clock.t, rateLimit: { perToken: 4 } });
    const b = await setupPool({ storage, now: () => clock.t, rateLimit: { perToken: 4 } });
    try {
      await b.pool.flush(); // b learns a's key and token
      const tok = a.token;
      const ask = (p: TestPool) =>
        p.call("/v1/chat/completions", { ...chat(), headers: { authorization: `Bearer ${tok}` } });
      for (let i = 0; i < 3; i++) assert.equal((await ask(a)).status, 200);
      await a.pool.flush();
      await b.pool.flush();
      assert.equal((await ask(b)).status, 200);
      assert.equal((await ask(b)).status, 429, "b counts a's three requests");
    } finally {
      await a.close();
      await b.close();
    }
  });
});
