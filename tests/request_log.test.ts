/**
 * The request log on its own: batching into segments, newest-first order, filters, cursors,
 * the read bound, retention, and the buffer bound during a storage outage.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createStorage, type Driver, type Storage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { MAX_PENDING_LOG_RECORDS, RequestLog } from "../src/logs/request_log.ts";
import type { LogRecord } from "../src/logs/types.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 20, 10, 0, 0);

function rec(i: number, over: Partial<LogRecord> = {}): LogRecord {
  return {
    t: T0 + i * 1000,
    id: `r${String(i).padStart(5, "0")}`,
    provider: "ollama",
    route: "/v1/chat/completions",
    dialect: "openai",
    model: i % 2 ? "odd-model" : "even-model",
    token: i % 3 === 0 ? "tok3" : "tokx",
    attempts: [{ key: `k${i % 4}`, outcome: "ok", status: 200, ms: 5 }],
    status: i % 5 === 0 ? 429 : 200,
    ms: 10,
    stream: false,
    ...over,
  };
}

function setup(now: () => number, storage: Storage = createStorage({ driver: memoryDriver() })) {
  return { storage, log: new RequestLog(storage, { retentionDays: 7, now }) };
}

/** Every record of a query, following cursors. */
async function drain(log: RequestLog, filter: Parameters<RequestLog["query"]>[0], limit: number): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await log.query(filter, limit, cursor);
    assert.ok(page.records.length <= limit);
    out.push(...page.records);
    cursor = page.next;
    assert.ok(++pages < 10_000, "paging does not end");
  } while (cursor);
  return out;
}

describe("request log", () => {
  it("writes batches, not one item per record, and answers newest first across segments and memory", async () => {
    const { storage, log } = setup(() => T0 + 10 * HOUR);
    // Three flushes whose records interleave in time (a long stream ends after shorter ones).
    for (const batch of [[0, 5, 9], [1, 7, 3], [2, 8, 4, 6]]) {
      for (const i of batch) log.add(rec(i));
      await log.flush();
    }
    log.add(rec(10)); // unwritten: still found
    assert.equal((await storage.getKeys("logs")).length, 3);
    const all = await drain(log, {}, 4);
    assert.deepEqual(all.map((r) => r.id), Array.from({ length: 11 }, (_, i) => `r${String(10 - i).padStart(5, "0")}`));
  });

  it("splits records by hour and keeps ties in a stable order across pages", async () => {
    const { storage, log } = setup(() => T0 + 10 * HOUR);
    for (let i = 0; i < 30; i++) log.add(rec(i, { t: T0 + (i % 2) * HOUR + 7 })); // 15 records share each time
    await log.flush();
    assert.equal((await storage.getKeys("logs")).length, 2, "one segment per hour");
    const all = await drain(log, {}, 4);
    assert.equal(new Set(all.map((r) => r.id)).size, 30);
    for (let i = 1; i < all.length; i++) {
      const [a, b] = [all[i - 1], all[i]];
      assert.ok(a.t > b.t || (a.t === b.t && a.id > b.id), `order at ${i}`);
    }
  });

  it("filters by token, key, model, provider, status code or class, and time", async () => {
    const { log } = setup(() => T0 + 10 * HOUR);
    for (let i = 0; i < 60; i++) log.add(rec(i, i === 7 ? { provider: "openrouter", target: "aliased" } : {}));
    await log.flush();
    const ids = async (f: Parameters<RequestLog["query"]>[0]) =>
      (await drain(log, f, 7)).map((r) => Number(r.id.slice(1))).sort((a, b) => a - b);
    const range = (pred: (i: number) => boolean) => Array.from({ length: 60 }, (_, i) => i).filter(pred);
    assert.deepEqual(await ids({ token: "tok3" }), range((i) => i % 3 === 0));
    assert.deepEqual(await ids({ key: "k1" }), range((i) => i % 4 === 1));
    assert.deepEqual(await ids({ model: "odd-model" }), range((i) => i % 2 === 1));
    assert.deepEqual(await ids({ model: "aliased" }), [7]);
    assert.deepEqual(await ids({ provider: "openrouter" }), [7]);
    assert.deepEqual(await ids({ status: "429" }), range((i) => i % 5 === 0));
    assert.deepEqual(await ids({ status: "4xx", token: "tok3" }), range((i) => i % 15 === 0));
    assert.deepEqual(await ids({ status: "2xx" }), range((i) => i % 5 !== 0));
    assert.deepEqual(await ids({ since: T0 + 10_000, until: T0 + 12_000 }), [10, 11, 12]);
    await assert.rejects(log.query({ status: "4x" }, 5), /status/);
    await assert.rejects(log.query({}, 5, "not-a-cursor"), /cursor/);
  });

  it("stops at the read bound with a cursor that goes on where it stopped", async () => {
    const { log } = setup(() => T0 + 10 * HOUR);
    for (let i = 0; i < 500; i++) {
      log.add(rec(i, { model: i === 3 ? "needle" : "hay" }));
      await log.flush(); // one segment each
    }
    const first = await log.query({ model: "needle" }, 10);
    assert.equal(first.partial, true);
    assert.equal(first.records.length, 0);
    const second = await log.query({ model: "needle" }, 10, first.next);
    assert.deepEqual(second.records.map((r) => r.id), ["r00003"]);
    assert.equal(second.next, undefined);
  });

  it("sweeps segments older than the retention period", async () => {
    let now = T0;
    const { storage, log } = setup(() => now);
    log.add(rec(0));
    await log.flush();
    now = T0 + 3 * 86_400_000;
    log.add(rec(0, { id: "later", t: now }));
    await log.flush();
    now = T0 + 7 * 86_400_000 + 2 * HOUR;
    assert.equal(await log.sweep(), 1);
    assert.deepEqual((await drain(log, {}, 10)).map((r) => r.id), ["later"]);
    assert.equal((await storage.getKeys("logs")).length, 1);
  });

  it("keeps at most maxStoredRecords stored, removing its oldest batches first", async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const log = new RequestLog(storage, { retentionDays: 7, now: () => T0 + 10 * HOUR, maxStoredRecords: 1000 });
    // 12 flushes of 300 records (one batch each): 3,600 written, the newest 1,000 or so kept.
    for (let f = 0; f < 12; f++) {
      for (let i = 0; i < 300; i++) log.add(rec(f * 300 + i));
      await log.flush();
    }
    const stored = (await Promise.all((await storage.getKeys("logs")).map((k) => storage.getItem(k)))) as LogRecord[][];
    const count = stored.reduce((n, batch) => n + batch.length, 0);
    assert.ok(count <= 1000 && count > 600, `stored ${count}`);
    const found = await drain(log, {}, 500);
    assert.equal(found.length, count);
    assert.equal(found[0].id, rec(3599).id); // newest first, the newest kept
    assert.equal(found.at(-1)!.id, rec(3600 - count).id); // the oldest went first
  });

  it("keeps records through a storage outage, within its bound, and counts what it drops", async () => {
    const base = createStorage({ driver: memoryDriver() });
    let down = true;
    const flaky = createStorage({
      driver: {
        name: "flaky",
        hasItem: (k) => base.hasItem(k),
        getItem: (k) => base.getItem(k),
        getKeys: (b) => base.getKeys(b),
        removeItem: (k) => base.removeItem(k),
        setItem: (k, v) => (down ? Promise.reject(new Error("store down")) : base.setItem(k, v)),
      },
    });
    const { log } = setup(() => T0, flaky);
    for (let i = 0; i < MAX_PENDING_LOG_RECORDS + 5; i++) log.add(rec(i % 1000, { id: `x${i}` }));
    assert.equal(log.dropped, 5);
    await assert.rejects(log.flush(), /store down/);
    assert.equal(log.pending, MAX_PENDING_LOG_RECORDS);
    down = false;
    await log.flush();
    assert.equal(log.pending, 0);
    assert.equal((await log.query({}, 500)).records.length, 500);
  });

  /** A memory store whose setItem runs `hook` first (to fail or delay chosen writes). */
  const hooked = (hook: (n: number) => Promise<void>): Storage => {
    const inner = memoryDriver();
    let n = 0;
    const driver: Driver = {
      ...inner,
      async setItem(k, v, o) {
        await hook(++n);
        return inner.setItem!(k, v, o);
      },
    };
    return createStorage({ driver });
  };
  const H = Date.UTC(2026, 10, 27, 18);
  const two = (log: RequestLog) => {
    log.add(rec(0, { t: H - 1000, id: "before-hour" }));
    log.add(rec(0, { t: H + 1000, id: "after-hour" }));
  };

  it("retries only the segment that failed, so nothing is written twice", async () => {
    const storage = hooked((n) => (n === 2 ? Promise.reject(new Error("hiccup")) : Promise.resolve()));
    const { log } = setup(() => H + 60_000, storage);
    two(log);
    await assert.rejects(log.flush(), /hiccup/);
    await log.flush();
    assert.deepEqual((await drain(log, {}, 10)).map((r) => r.id), ["after-hour", "before-hour"]);
    assert.equal((await storage.getKeys("logs")).length, 2);
  });

  it("drops (and counts) records whose segment the store refuses again and again", async () => {
    const storage = hooked(() => Promise.reject(new Error("too large")));
    const { log } = setup(() => H, storage);
    two(log);
    for (let i = 0; i < 3; i++) await assert.rejects(log.flush(), /too large/);
    assert.equal(log.pending, 0);
    assert.equal(log.dropped, 2);
    log.add(rec(1, { t: H }));
    assert.equal(log.pending, 1, "new records are not stuck behind the refused ones");
  });

  it("shows each record once while a flush of several segments is under way", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const storage = hooked((n) => (n === 2 ? gate : Promise.resolve()));
    const { log } = setup(() => H + 60_000, storage);
    two(log);
    const flushing = log.flush();
    await new Promise((r) => setTimeout(r, 20)); // the first segment is stored, the second waits
    assert.deepEqual((await drain(log, {}, 10)).map((r) => r.id), ["after-hour", "before-hour"]);
    release();
    await flushing;
    assert.deepEqual((await drain(log, {}, 10)).map((r) => r.id), ["after-hour", "before-hour"]);
  });

  it("pages on through more overlapping segments than one search reads", async () => {
    let now = H;
    const { log } = setup(() => now);
    // Each flush holds a long stream that began at H+i and a short request that ended just now:
    // 420 segments, all spanning the moment H+420.
    for (let i = 0; i < 420; i++) {
      now = H + 1000 + i * 10;
      log.add(rec(0, { t: H + i, id: `long-${String(i).padStart(3, "0")}`, status: 500 }));
      log.add(rec(0, { t: now - 1, id: `short-${i}`, status: 200 }));
      await log.flush();
    }
    now += 10_000;
    const longs = await drain(log, { status: "500" }, 50);
    assert.equal(longs.length, 420);
    assert.equal(new Set(longs.map((r) => r.id)).size, 420);
  });
});
