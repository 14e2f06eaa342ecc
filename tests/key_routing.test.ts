import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyPool } from "../src/keys/key_pool.ts";
import { cleanModelList, MAX_MODELS_PER_KEY } from "../src/keys/models.ts";
import type { KeyRecord } from "../src/keys/types.ts";

function makePool(specs: Array<Partial<KeyRecord>>) {
  const clock = { t: 1_000_000 };
  const changed: KeyRecord[] = [];
  const pool = new KeyPool(
    "p",
    { failuresBeforeDisable: 3, disableMs: 3_600_000 },
    () => clock.t,
    (r) => changed.push(r),
  );
  specs.forEach((spec, i) =>
    pool.put({ id: `k${i}`, provider: "p", secret: `secret-${i}`, state: "active", failures: 0, createdAt: i, ...spec })
  );
  return { pool, clock, changed };
}

const picks = (pool: KeyPool, n: number, model?: string): string[] =>
  Array.from({ length: n }, () => pool.pick(undefined, model)?.id ?? "-");

describe("KeyPool: model-aware picking", () => {
  it("gives a model only to keys that list it or whose list is unknown", () => {
    const { pool } = makePool([{ models: ["llama3.2"] }, { models: ["qwen3:8b"] }, {}]);
    assert.deepEqual(new Set(picks(pool, 6, "qwen3:8b")), new Set(["k1", "k2"]));
    assert.deepEqual(new Set(picks(pool, 6, "llama3.2")), new Set(["k0", "k2"]));
    // A request without a model (a GET) may go to any key.
    assert.deepEqual(new Set(picks(pool, 6)), new Set(["k0", "k1", "k2"]));
  });

  it("matches an Ollama name without a tag to its :latest", () => {
    const { pool } = makePool([{ models: ["llama3.2:latest"] }, { models: ["qwen3:8b"] }]);
    assert.deepEqual(new Set(picks(pool, 4, "llama3.2")), new Set(["k0"]));
  });

  it("answers none when no ready key serves the model, and learns when one does", () => {
    const { pool } = makePool([{ models: ["a"] }, { models: ["b"] }]);
    assert.equal(pool.pick(undefined, "c"), undefined);
    assert.equal(pool.pick(undefined, "c"), undefined); // remembered: no second scan needed
    pool.setModels("k1", ["b", "c"]);
    assert.equal(pool.pick(undefined, "c")?.id, "k1");
  });

  it("rests (key, model) after 'model not found' without touching the key's other models", () => {
    const { pool, clock } = makePool([{}, {}]);
    pool.markModelUnavailable("k0", "m", 60_000);
    assert.deepEqual(new Set(picks(pool, 4, "m")), new Set(["k1"]));
    assert.deepEqual(new Set(picks(pool, 4, "other")), new Set(["k0", "k1"]));
    assert.equal(pool.get("k0")!.state, "active");
    assert.equal(pool.get("k0")!.failures, 0);
    pool.markModelUnavailable("k1", "m", 60_000);
    assert.equal(pool.pick(undefined, "m"), undefined);
    clock.t += 60_001;
    assert.deepEqual(new Set(picks(pool, 4, "m")), new Set(["k0", "k1"]));
  });

  it("keeps and persists a key's list; drops lists too long to keep", () => {
    const { pool, changed } = makePool([{}]);
    pool.setModels("k0", ["b", "a", "a", 7 as unknown as string]);
    assert.deepEqual(pool.get("k0")!.models, ["a", "b"]);
    assert.equal(changed.at(-1)!.id, "k0");
    const huge = Array.from({ length: MAX_MODELS_PER_KEY + 1 }, (_, i) => `m${i}`);
    assert.equal(cleanModelList(huge), undefined);
    pool.setModels("k0", huge);
    assert.equal(pool.get("k0")!.models, undefined);
    assert.equal(pool.pick(undefined, "anything")?.id, "k0");
  });

  it("shares identical lists and answers their union", () => {
    const { pool } = makePool([{ models: ["a", "b"] }, { models: ["a", "b"] }, { models: ["c"] }]);
    assert.deepEqual(pool.models.union(), ["a", "b", "c"]);
    pool.remove("k2");
    assert.deepEqual(pool.models.union(), ["a", "b"]);
  });
});

describe("KeyPool: priority tiers and weights", () => {
  it("sends everything to the best tier while one of its keys is ready", () => {
    const { pool } = makePool([{ priority: -1 }, { priority: 5 }, { priority: 5 }, {}]);
    assert.deepEqual(new Set(picks(pool, 8)), new Set(["k1", "k2"]));
    pool.report("k1", { kind: "cooldown", ms: 1000, reason: "429", rateLimited: true });
    assert.deepEqual(new Set(picks(pool, 4)), new Set(["k2"]));
    pool.report("k2", { kind: "cooldown", ms: 1000, reason: "429", rateLimited: true });
    assert.deepEqual(new Set(picks(pool, 4)), new Set(["k3"]));
    // A request that already tried the better tier falls to the next one.
    const { pool: p2 } = makePool([{ priority: 1 }, {}]);
    assert.equal(p2.pick(new Set(["k0"]))?.id, "k1");
  });

  it("falls to a worse tier for a model the better tier does not serve", () => {
    const { pool } = makePool([{ priority: 1, models: ["a"] }, { models: ["b"] }]);
    assert.deepEqual(new Set(picks(pool, 4, "b")), new Set(["k1"]));
    assert.deepEqual(new Set(picks(pool, 4, "a")), new Set(["k0"]));
  });

  it("shares a tier by weight, interleaved rather than in bursts", () => {
    const { pool } = makePool([{ weight: 3 }, {}]);
    const seq = picks(pool, 400);
    const share = seq.filter((id) => id === "k0").length / seq.length;
    assert.ok(Math.abs(share - 0.75) < 0.01, `share ${share}`);
    // Smooth: the light key never waits more than 3 turns, the heavy one never runs 4 in a row.
    assert.ok(!seq.join(",").includes("k1,k1"));
    assert.ok(!seq.join(",").includes("k0,k0,k0,k0"));
  });

  it("moves a key between tiers and weights by setPlacement, persisting the change", () => {
    const { pool, changed } = makePool([{}, {}]);
    pool.setPlacement("k1", { priority: 2 });
    assert.deepEqual(new Set(picks(pool, 4)), new Set(["k1"]));
    assert.equal(changed.at(-1)!.priority, 2);
    pool.setPlacement("k1", { priority: 0, weight: 4 });
    assert.equal(pool.get("k1")!.priority, undefined);
    const seq = picks(pool, 500);
    assert.ok(Math.abs(seq.filter((id) => id === "k1").length / 500 - 0.8) < 0.01);
    pool.setPlacement("k1", { weight: 1 });
    assert.equal(pool.get("k1")!.weight, undefined);
    assert.deepEqual(picks(pool, 4).sort(), ["k0", "k0", "k1", "k1"]);
  });

  it("keeps weighted rotation consistent through rests, removals and expiry", () => {
    const { pool, clock } = makePool([{ weight: 2 }, { weight: 5 }, {}, { weight: 3, expiresAt: 1_000_500 }]);
    for (let round = 0; round < 50; round++) {
      const id = pool.pick(new Set(["k2"]))!.id;
      assert.notEqual(id, "k2");
      if (round === 10) pool.report("k1", { kind: "cooldown", ms: 100, reason: "5xx" });
      if (round === 20) clock.t += 1000; // k1 wakes, k3 expires
      if (round === 30) pool.remove("k0");
    }
    assert.equal(pool.get("k3")!.state, "disabled");
    assert.deepEqual(new Set(picks(pool, 10)), new Set(["k1", "k2"]));
  });
});
