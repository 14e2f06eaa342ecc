import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { KeyPool } from "../src/keys/key_pool.ts";
import type { KeyRecord } from "../src/keys/types.ts";

function makePool(n: number, opts: { clock?: { t: number } } = {}) {
  const clock = opts.clock ?? { t: 1_000_000 };
  const changes: string[] = [];
  const pool = new KeyPool(
    "p",
    { failuresBeforeDisable: 3, disableMs: 3_600_000 },
    () => clock.t,
    (r) => changes.push(`${r.id}:${r.state}`),
  );
  for (let i = 0; i < n; i++) {
    const rec: KeyRecord = {
      id: `k${i}`,
      provider: "p",
      secret: `secret-${i}`,
      state: "active",
      failures: 0,
      createdAt: i,
    };
    pool.put(rec);
  }
  return { pool, clock, changes };
}

describe("KeyPool", () => {
  it("rotates round-robin over every ready key", () => {
    const { pool } = makePool(4);
    const seen = Array.from({ length: 8 }, () => pool.pick()!.id);
    assert.deepEqual(seen.slice(0, 4).sort(), ["k0", "k1", "k2", "k3"]);
    assert.deepEqual(seen.slice(4), seen.slice(0, 4));
  });

  it("never returns an excluded key and gives up once all are excluded", () => {
    const { pool } = makePool(3);
    const tried = new Set<string>();
    for (let i = 0; i < 3; i++) tried.add(pool.pick(tried)!.id);
    assert.equal(tried.size, 3);
    assert.equal(pool.pick(tried), undefined);
  });

  it("skips a cooling key until its rest is over", () => {
    const { pool, clock } = makePool(2);
    pool.report("k0", { kind: "cooldown", ms: 60_000, reason: "429", rateLimited: true });
    assert.equal(pool.get("k0")!.state, "cooling");
    for (let i = 0; i < 5; i++) assert.equal(pool.pick()!.id, "k1");
    clock.t += 60_000;
    const ids = new Set([pool.pick()!.id, pool.pick()!.id]);
    assert.deepEqual([...ids].sort(), ["k0", "k1"]);
    assert.equal(pool.get("k0")!.state, "active");
  });

  it("disables a key after 3 consecutive failures, re-tries it after the disable period", () => {
    const { pool, clock } = makePool(2);
    pool.report("k0", { kind: "failure", reason: "401" });
    pool.report("k0", { kind: "failure", reason: "401" });
    assert.equal(pool.get("k0")!.state, "active");
    pool.report("k0", { kind: "failure", reason: "401" });
    assert.equal(pool.get("k0")!.state, "disabled");
    assert.equal(pool.get("k0")!.until, clock.t + 3_600_000);
    for (let i = 0; i < 4; i++) assert.equal(pool.pick()!.id, "k1");
    clock.t += 3_600_000;
    pool.pick();
    assert.equal(pool.get("k0")!.state, "active");
    // Half-open: one more failure disables it again at once.
    pool.report("k0", { kind: "failure", reason: "401" });
    assert.equal(pool.get("k0")!.state, "disabled");
  });

  it("a success resets the consecutive failure count", () => {
    const { pool } = makePool(1);
    pool.report("k0", { kind: "failure", reason: "401" });
    pool.report("k0", { kind: "failure", reason: "401" });
    pool.report("k0", { kind: "ok" });
    assert.equal(pool.get("k0")!.failures, 0);
    pool.report("k0", { kind: "failure", reason: "401" });
    pool.report("k0", { kind: "failure", reason: "401" });
    assert.equal(pool.get("k0")!.state, "active");
  });

  it("client errors do not touch the key", () => {
    const { pool, changes } = makePool(1);
    pool.report("k0", { kind: "client-error" });
    assert.equal(pool.get("k0")!.state, "active");
    assert.deepEqual(changes, []);
  });

  it("an admin disable without duration lasts until enable", () => {
    const { pool, clock } = makePool(2);
    pool.disable("k0", undefined, "by admin");
    clock.t += 365 * 86_400_000;
    for (let i = 0; i < 4; i++) assert.equal(pool.pick()!.id, "k1");
    assert.equal(pool.nextWake(), undefined);
    pool.enable("k0");
    assert.ok(new Set([pool.pick()!.id, pool.pick()!.id]).has("k0"));
  });

  it("expired keys are taken out when picked", () => {
    const { pool, clock } = makePool(2);
    pool.get("k0")!.expiresAt = clock.t + 10;
    clock.t += 10;
    for (let i = 0; i < 4; i++) assert.equal(pool.pick()!.id, "k1");
    assert.equal(pool.get("k0")!.state, "disabled");
    assert.equal(pool.get("k0")!.reason, "expired");
  });

  it("reports every state change", () => {
    const { pool, changes } = makePool(1);
    pool.report("k0", { kind: "cooldown", ms: 5, reason: "500" });
    assert.deepEqual(changes, ["k0:cooling"]);
  });

  it("a removed key is never picked again, even from the wake heap", () => {
    const { pool, clock } = makePool(2);
    pool.report("k0", { kind: "cooldown", ms: 5, reason: "500" });
    pool.remove("k0");
    clock.t += 10;
    for (let i = 0; i < 4; i++) assert.equal(pool.pick()!.id, "k1");
    assert.equal(pool.size, 1);
  });

  it("counts keys by state", () => {
    const { pool } = makePool(4);
    pool.report("k0", { kind: "cooldown", ms: 5, reason: "500" });
    pool.disable("k1", undefined, "x");
    assert.deepEqual(pool.counts(), { total: 4, active: 2, cooling: 1, disabled: 1 });
  });
});
