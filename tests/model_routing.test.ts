/** Model-aware key choice through the whole pool, against the mock upstream over real HTTP. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { chat, setupPool, type TestPool } from "./helpers/setup.ts";

const LLAMA = "acct-a-models~llama3.2";
const QWEN = "acct-b-models~qwen3:8b";

async function until(check: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("model-aware keys", () => {
  let t: TestPool;
  before(async () => {
    t = await setupPool({ keys: [LLAMA, QWEN] });
  });
  after(() => t.close());

  it("moves on from a key that lacks the model, without blaming it, and remembers", async () => {
    t.mock.reset();
    for (let i = 0; i < 4; i++) {
      const res = await t.call("/v1/chat/completions", chat("qwen3:8b"));
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    // At most one detour to the llama-only key, then never again for this model.
    assert.ok((t.mock.hits.get(LLAMA) ?? 0) <= 1);
    assert.equal(t.mock.hits.get(QWEN), 4);
    const keys = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys;
    for (const k of keys) assert.equal(k.failures, 0);
    for (const k of keys) assert.equal(k.status, "active");
    // The llama-only key still serves llama.
    t.mock.reset();
    for (let i = 0; i < 2; i++) await (await t.call("/v1/chat/completions", chat("llama3.2"))).arrayBuffer();
    assert.ok((t.mock.hits.get(LLAMA) ?? 0) >= 1);
  });

  it("answers the upstream's 404 only when no key serves the model", async () => {
    t.mock.reset();
    const res = await t.call("/api/chat", chat("gpt-oss:20b", { stream: false }));
    assert.equal(res.status, 404);
    assert.match((await res.json()).error, /not found/);
    assert.equal(t.mock.hits.get(LLAMA), 1);
    assert.equal(t.mock.hits.get(QWEN), 1);
    // Both keys are now marked for that model: the pool says so itself, asking no upstream.
    t.mock.reset();
    const again = await t.call("/v1/chat/completions", chat("gpt-oss:20b"));
    assert.equal(again.status, 404);
    assert.equal((await again.json()).error.code, "model_not_found");
    assert.equal(t.mock.hits.size, 0);
  });

  it("learns the lists from a health check: /v1/models and /api/tags answer their union", async () => {
    const before = await (await t.call("/v1/models")).json();
    assert.equal(before.data.length, 1); // one key's own list, from the upstream
    const job = await (await t.admin("POST", "/admin/keys/health-check?wait=true", {})).json();
    assert.equal(job.healthy, 2);
    const listed = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys;
    assert.deepEqual(listed.map((k: { models: string[] }) => k.models).sort(), [["llama3.2"], ["qwen3:8b"]]);
    t.mock.reset();
    const models = await (await t.call("/v1/models")).json();
    assert.deepEqual(models.data.map((m: { id: string }) => m.id), ["llama3.2", "qwen3:8b"]);
    assert.equal(models.object, "list");
    const tags = await (await t.call("/api/tags")).json();
    assert.deepEqual(tags.models.map((m: { name: string }) => m.name), ["llama3.2", "qwen3:8b"]);
    assert.equal(t.mock.hits.size, 0, "answered from the probes, no upstream call");
    // Now requests go straight to a key that lists the model: no detour at all.
    for (let i = 0; i < 3; i++) await (await t.call("/v1/chat/completions", chat("llama3.2"))).arrayBuffer();
    assert.equal(t.mock.hits.get(LLAMA), 3);
    assert.equal(t.mock.hits.get(QWEN), undefined);
  });
});

describe("model not found next to broken keys", () => {
  it("a key's 'model not found' wins over other keys' failures, and counts as the caller's mistake", async () => {
    const t = await setupPool({ keys: ["err-key-00001", LLAMA] });
    try {
      for (let i = 0; i < 2; i++) {
        const res = await t.call("/v1/chat/completions", chat("qwen3:8b"));
        assert.equal(res.status, 404);
        assert.equal((await res.json()).error.code, "model_not_found");
      }
      await t.pool.flush();
      const stats = await (await t.admin("GET", "/admin/stats")).json();
      assert.equal(stats.client_error_count, 2);
      assert.equal(stats.failure_count, 0);
    } finally {
      await t.close();
    }
  });
});

describe("validated import", () => {
  it("keeps each valid key's model list from its probe", async () => {
    const t = await setupPool();
    try {
      const r = await (await t.admin("POST", "/admin/api-keys/import-with-validation", {
        content: `${LLAMA}\n${QWEN}\nbad-key-000001`,
      })).json();
      assert.equal(r.added, 2);
      const listed = (await (await t.admin("GET", "/admin/api-keys")).json()).api_keys;
      assert.deepEqual(listed.map((k: { models: string[] }) => k.models).sort(), [["llama3.2"], ["qwen3:8b"]]);
    } finally {
      await t.close();
    }
  });
});

describe("model discovery of new keys", () => {
  it("reads each new key's list in the background when discoverModels is on", async () => {
    const t = await setupPool({ healthCheck: { discoverModels: true } });
    try {
      await t.admin("POST", "/admin/api-keys/import", { keys: [LLAMA, QWEN] });
      const pool = t.pool.state.keys.pool("ollama");
      await until(() => {
        t.pool.tick();
        return [...pool.values()].every((r) => r.models !== undefined);
      });
      assert.deepEqual(pool.models.union(), ["llama3.2", "qwen3:8b"]);
      t.mock.reset();
      await (await t.call("/v1/chat/completions", chat("qwen3:8b"))).arrayBuffer();
      assert.equal(t.mock.hits.get(LLAMA), undefined);
      assert.equal(t.mock.hits.get(QWEN), 1);
    } finally {
      await t.close();
    }
  });
});
