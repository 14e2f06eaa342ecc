/**
 * A hostile client rotating its address (IPv6 gives every client a /64 of them; Workers and Deno
 * Deploy see those addresses) while sending wrong credentials: each address got its own throttle
 * record in the store, and past 50,000 addresses in one window the records were no longer
 * tracked for deletion. Stores without expiry (memory, files, KV, Redis and Postgres counters)
 * kept them for good: one request, one record, without a bound. Addresses beyond the bound now
 * share one record per window, and every record is deleted once its window is over.
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { counterSinkFor } from "../../src/store/sinks.ts";
import { createThrottle, MAX_TRACKED_PER_WINDOW } from "../../src/users/throttle.ts";
import { skipUnless } from "../helpers/requires.ts";

describe("a throttle hit from ever new addresses", skipUnless("throttle address rotation", "time"), () => {
  it("leaves no records behind once their windows are over, however many addresses came", async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const sink = counterSinkFor(storage);
    let now = 0;
    const windowMs = 60_000;
    const throttle = createThrottle("client-token", windowMs, sink, () => now);
    const addresses = MAX_TRACKED_PER_WINDOW + 5_000;
    for (let i = 0; i < addresses; i += 1000) {
      await Promise.all(Array.from({ length: 1000 }, (_, j) => throttle.hit(`2001:db8::${(i + j).toString(16)}`, 50)));
    }
    const during = (await storage.getKeys("userlimits")).length;
    assert.ok(during <= MAX_TRACKED_PER_WINDOW + 1, `${during} records in one window`);
    // Past the bound, new addresses are still throttled (they share a record), not let through.
    let refused = 0;
    for (let i = 0; i < 60; i++) if (!(await throttle.hit(`2001:db8:1::${i}`, 50)).allowed) refused++;
    assert.ok(refused > 0, "addresses past the bound are throttled together");
    now += 3 * windowMs;
    await throttle.hit("198.51.100.7", 50);
    await new Promise((r) => setTimeout(r, 50)); // the sweep's removals are not awaited
    assert.deepEqual(await storage.getKeys("userlimits"), ["userlimits:client-token:3:198.51.100.7"]);
  });
});
