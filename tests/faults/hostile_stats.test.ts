/**
 * Hostile clients (issue 13), statistics: a client that sends 20,000 made-up model names must
 * not make the statistics grow without bound nor make `/health`, `/stats` and
 * `/admin/public-stats` slow for everybody. Before the bound, 57,000 names made those routes
 * block the event loop for 1.0–1.4 s per call. The timing check compares with the same routes
 * before the flood and allows a wide margin: it is there to catch work that grows with the
 * number of names, not to measure speed.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { MAX_MODEL_NAMES, OTHER_MODEL, statsRecord } from "../../src/stats/recorder.ts";
import { createStorage } from "unstorage";
import { skipUnless } from "../helpers/requires.ts";
import { chat, setupPool, type TestPool } from "../helpers/setup.ts";

const NAMES = 20_000;

/** Median time of `n` calls of `path`, in ms (each answer read in full). */
async function median(t: TestPool, path: string, n = 7): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    const res = await t.pool.fetch(new Request(`http://pool${path}`));
    assert.equal(res.status, 200, path);
    await res.arrayBuffer();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[Math.floor(n / 2)];
}

const FLOOD = "hostile clients: 20,000 made-up model names";
// 20,000 requests plus timing medians: seconds by design, so the quick run leaves it out.
describe(FLOOD, skipUnless(FLOOD, "time"), () => {
  let t: TestPool;
  before(async () => {
    // One healthy key on the first provider; the flood goes to the second, which has no keys,
    // so each request is answered 503 at once but still counted under its model name.
    t = await setupPool({ keys: ["good-stats-key-01"] });
  });
  after(() => t.close());

  it("keeps stored model fields bounded and the public routes as fast as before", { timeout: 120_000 }, async () => {
    for (const m of ["llama3.2", "qwen3:8b"]) await (await t.call("/v1/chat/completions", chat(m))).text();
    await t.pool.flush();
    const paths = [
      "/health",
      "/stats",
      "/admin/public-stats",
      "/stats?provider=openrouter",
      "/admin/public-stats?provider=openrouter",
    ];
    const baseline = new Map<string, number>();
    for (const p of paths) baseline.set(p, await median(t, p));

    for (let i = 0; i < NAMES; i += 200) {
      const batch = [];
      for (let j = i; j < i + 200; j++) {
        batch.push(
          t.call("/openrouter/v1/chat/completions", chat(`made-up-model-${j}`)).then(async (res) => {
            assert.equal(res.status, 503);
            await res.arrayBuffer();
          }),
        );
      }
      await Promise.all(batch);
      if (i % 5000 === 0) await t.pool.flush(); // written while the flood goes on, as the server would
    }
    await t.pool.flush();

    const [models] = await t.pool.state.stats.read([statsRecord.models("openrouter")]);
    const names = Object.keys(models).filter((f) => f.startsWith("requests|")).map((f) => f.slice(9));
    // None succeeded upstream, so none got fields of its own.
    assert.deepEqual(names, [OTHER_MODEL], `${names.length} model names stored`);
    assert.equal(models[`requests|${OTHER_MODEL}`], NAMES, "all are counted under 'other'");
    const global = (await t.pool.state.stats.read([statsRecord.global("openrouter")]))[0];
    assert.equal(global.requests, NAMES, "every request is still counted");
    // Names that do succeed (this upstream answers any name) are admitted up to the bound.
    const extra = 50;
    for (let i = 0; i < MAX_MODEL_NAMES + extra; i += 50) {
      await Promise.all(Array.from({ length: 50 }, async (_, j) => {
        const res = await t.call("/v1/chat/completions", chat(`served-anyway-${i + j}`));
        const body = await res.text();
        assert.equal(res.status, 200, body);
      }));
    }
    await t.pool.flush();
    const [ollamaModels] = await t.pool.state.stats.read([statsRecord.models("ollama")]);
    const own = Object.keys(ollamaModels).filter((f) => f.startsWith("requests|") && f !== `requests|${OTHER_MODEL}`);
    assert.equal(own.length, MAX_MODEL_NAMES, "bounded");
    assert.equal(ollamaModels[`requests|${OTHER_MODEL}`], extra + 2, "beyond the bound: 'other'");
    // A name the keys are known to serve (as a health check's model list reports) still gets its own.
    t.pool.state.stats.served("openrouter", ["vendor/served-model"]);
    await (await t.call("/openrouter/v1/chat/completions", chat("vendor/served-model"))).arrayBuffer();
    assert.equal(
      (await t.pool.state.stats.read([statsRecord.models("openrouter")]))[0]["requests|vendor/served-model"],
      1,
    );
    // The first provider's names came first: the flood on the second did not touch them.
    assert.equal(ollamaModels["requests|llama3.2"], 1);

    for (const p of paths) {
      const now = await median(t, p);
      const before = baseline.get(p)!;
      assert.ok(now < before * 20 + 25, `${p}: ${now.toFixed(2)} ms after the flood vs ${before.toFixed(2)} ms before`);
    }
    assert.ok(t.pool.state.stats.pendingRecords < 100, "pending records stay few");
  });
});

describe("hostile clients: made-up model names cannot push a real one into 'other'", () => {
  it("only a name whose request succeeded upstream gets its own statistics, also after a restart", async () => {
    const storage = createStorage();
    const t = await setupPool({ storage, keys: ["good-stats-key-02"] });
    let restarted: TestPool | undefined;
    try {
      // More made-up names than the bound; the upstream answers each 404 (unknown model).
      for (let i = 0; i < MAX_MODEL_NAMES + 10; i += 30) {
        await Promise.all(Array.from({ length: 30 }, async (_, j) => {
          const res = await t.call("/v1/chat/completions", chat(`missing-junk-${i + j}-${"z".repeat(150)}`));
          assert.equal(res.status, 404);
          await res.arrayBuffer();
        }));
      }
      const real = await t.call("/v1/chat/completions", chat("llama3.3:70b"));
      assert.equal(real.status, 200);
      await real.arrayBuffer();
      await t.pool.flush();
      const [models] = await t.pool.state.stats.read([statsRecord.models("ollama")]);
      assert.equal(models["requests|llama3.3:70b"], 1, "the real model has its own statistics");
      assert.ok(models[`requests|${OTHER_MODEL}`] >= MAX_MODEL_NAMES, "the made-up names are in 'other'");
      assert.ok(!Object.keys(models).some((f) => f.includes("missing-junk")), "no made-up name is stored");

      // A restarted instance over the same store keeps counting the real name under its own.
      await t.pool.close();
      restarted = await setupPool({ storage });
      for (let i = 0; i < MAX_MODEL_NAMES + 10; i++) {
        await (await restarted.call("/v1/chat/completions", chat(`missing-more-${i}`))).arrayBuffer();
      }
      await (await restarted.call("/v1/chat/completions", chat("llama3.3:70b"))).arrayBuffer();
      await restarted.pool.flush();
      const [after] = await restarted.pool.state.stats.read([statsRecord.models("ollama")]);
      assert.equal(after["requests|llama3.3:70b"], 2);
    } finally {
      await t.mock.close();
      await t.pool.close().catch(() => {});
      await restarted?.close();
    }
  });
});
