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

describe("hostile clients: 20,000 made-up model names", () => {
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
    const paths = ["/health", "/stats", "/admin/public-stats", "/stats?provider=openrouter", "/admin/public-stats?provider=openrouter"];
    const baseline = new Map<string, number>();
    for (const p of paths) baseline.set(p, await median(t, p));

    for (let i = 0; i < NAMES; i += 200) {
      const batch = [];
      for (let j = i; j < i + 200; j++) {
        batch.push(t.call("/openrouter/v1/chat/completions", chat(`made-up-model-${j}`)).then(async (res) => {
          assert.equal(res.status, 503);
          await res.arrayBuffer();
        }));
      }
      await Promise.all(batch);
      if (i % 5000 === 0) await t.pool.flush(); // written while the flood goes on, as the server would
    }
    await t.pool.flush();

    const [models] = await t.pool.state.stats.read([statsRecord.models("openrouter")]);
    const names = Object.keys(models).filter((f) => f.startsWith("requests|")).map((f) => f.slice(9));
    assert.ok(names.length <= MAX_MODEL_NAMES + 1, `${names.length} model names stored`);
    assert.equal(models[`requests|${OTHER_MODEL}`], NAMES - MAX_MODEL_NAMES, "the rest is counted under 'other'");
    const global = (await t.pool.state.stats.read([statsRecord.global("openrouter")]))[0];
    assert.equal(global.requests, NAMES, "every request is still counted");
    // A name the keys are known to serve (as a health check's model list reports) still gets its own.
    t.pool.state.stats.served("openrouter", ["vendor/served-model"]);
    await (await t.call("/openrouter/v1/chat/completions", chat("vendor/served-model"))).arrayBuffer();
    assert.equal((await t.pool.state.stats.read([statsRecord.models("openrouter")]))[0]["requests|vendor/served-model"], 1);
    // The first provider's names were unaffected by the flood on the second.
    const [own] = await t.pool.state.stats.read([statsRecord.models("ollama")]);
    assert.equal(own["requests|llama3.2"], 1);

    for (const p of paths) {
      const now = await median(t, p);
      const before = baseline.get(p)!;
      assert.ok(now < before * 20 + 25, `${p}: ${now.toFixed(2)} ms after the flood vs ${before.toFixed(2)} ms before`);
    }
    assert.ok(t.pool.state.stats.pendingRecords < 100, "pending records stay few");
  });
});
