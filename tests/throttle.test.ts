/** The store-backed throttles of the user system and the dashboard login. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStorage } from "unstorage";
import { kvCounterSink } from "../src/store/counters.ts";
import { createThrottle } from "../src/users/throttle.ts";

describe("store-backed throttle", () => {
  it("counts one key exactly while other keys hit at the same time (read-modify-write storage)", async () => {
    const storage = createStorage();
    const clock = { t: 1_000_000 };
    const th = createThrottle("race", 900_000, kvCounterSink(storage), () => clock.t);
    const victim: Array<Promise<{ allowed: boolean }>> = [];
    const others: Array<Promise<unknown>> = [];
    for (let i = 0; i < 60; i++) {
      victim.push(th.hit("victim", 10));
      others.push(th.hit(`other-${i}`, 10), th.hit(`other-${i}-b`, 10));
    }
    await Promise.all(others);
    const allowed = (await Promise.all(victim)).filter((r) => r.allowed).length;
    assert.equal(allowed, 10, "exactly the limit passes, whatever else is counted meanwhile");
  });

  it("costs the same per hit however many keys a window holds, and forgets old windows", async () => {
    const storage = createStorage();
    const clock = { t: 0 };
    const th = createThrottle("sweep", 1000, kvCounterSink(storage), () => clock.t);
    for (let i = 0; i < 500; i++) await th.hit(`k${i}`, 5);
    const keys = await storage.getKeys("userlimits:sweep");
    assert.equal(keys.length, 500, "one small record per key and window");
    clock.t = 2500; // two windows later
    const r = await th.hit("k0", 5);
    assert.equal(r.allowed, true, "a new window starts from zero");
    assert.equal(r.retryMs, 500);
    await new Promise((res) => setTimeout(res, 10)); // removal is fire-and-forget
    assert.deepEqual(await storage.getKeys("userlimits:sweep"), ["userlimits:sweep:2:k0"], "old windows were removed");
  });
});
