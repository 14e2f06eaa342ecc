/**
 * What an idle instance costs in store commands, counted where Upstash would bill them (the local
 * REST stand-in), and that slowing down while idle loses no change: a quiet instance catches up
 * before it answers. Pools run on a simulated clock; each simulated second runs what the Node
 * server's 1 s timer runs, and waits for it.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createStorage } from "unstorage";
import memoryDriver from "unstorage/drivers/memory";
import { createPool, ollama, type Pool } from "../mod.ts";
import type { ExecutionContextLike } from "../src/state.ts";
import { ChangeFeed } from "../src/store/feed.ts";
import { QUIET_AFTER_MS, QUIET_SYNC_MS } from "../src/store/sync_pace.ts";
import { type Backend, needsOf, upstashBackend } from "./helpers/backends.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { skipUnless } from "./helpers/requires.ts";
import type { UpstashRest } from "./helpers/upstash_rest.ts";

const ADMIN = "feed-cost-admin-token-0123";
const SYNC_MS = 2000;
const quiet = { info() {}, warn() {}, error() {} };

/** Runs the background work due at the clock's time and waits for it. */
async function tick(pool: Pool): Promise<void> {
  const work: Promise<unknown>[] = [];
  const ctx: ExecutionContextLike = { waitUntil: (p) => void work.push(p) };
  pool.state.tick(() => ctx);
  await Promise.all(work);
}

/** Advances the shared clock second by second, ticking every pool. */
async function pass(ms: number, clock: { t: number }, pools: Pool[]): Promise<void> {
  for (let s = 0; s < ms / 1000; s++) {
    clock.t += 1000;
    for (const p of pools) await tick(p);
  }
}

const suite = "change feed cost (Upstash REST stand-in)";
describe(suite, skipUnless(suite, ...needsOf(upstashBackend)), () => {
  let backend: Backend & { rest: UpstashRest };
  let mock: MockUpstream;
  let clock: { t: number };
  let pools: Pool[];
  const call = (p: Pool, path: string, auth: string, init: RequestInit = {}) =>
    p.fetch(new Request(`http://pool${path}`, { ...init, headers: { authorization: `Bearer ${auth}` } }));
  const chat = (p: Pool, token: string) =>
    call(p, "/v1/chat/completions", token, { method: "POST", body: JSON.stringify({ model: "m", messages: [] }) });

  before(async () => {
    backend = await upstashBackend();
    mock = await startMockUpstream();
    clock = { t: Date.parse("2026-01-05T00:00:00Z") };
    pools = [0, 1].map(() =>
      createPool({
        providers: [ollama({ baseURL: mock.url })],
        storage: backend.connect(),
        auth: { adminToken: ADMIN },
        syncIntervalMs: SYNC_MS,
        now: () => clock.t,
        logger: quiet,
      })
    );
    await Promise.all(pools.map((p) => p.ready()));
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await mock.close();
    await backend.stop();
  });

  it("an idle instance sends at most one command per 30 s (it was a SCAN every 2 s)", async () => {
    const [a] = pools;
    await call(a, "/admin/api-keys/import", ADMIN, {
      method: "POST",
      body: JSON.stringify({ keys: ["good-feed-01"] }),
    });
    await pass(QUIET_AFTER_MS + 10_000, clock, pools); // the change, then a minute of quiet
    backend.rest.commands.reset();
    const intervals = 300; // 10 minutes of 2 s sync intervals
    await pass(intervals * SYNC_MS, clock, pools);
    const { total } = backend.rest.commands;
    // Per instance: one read per quiet interval, + the request log's 10-minute sweep (one SCAN).
    const bound = pools.length * ((intervals * SYNC_MS) / QUIET_SYNC_MS + 2);
    const seen = JSON.stringify(Object.fromEntries(backend.rest.commands));
    assert.ok(total <= bound, `${total} commands over ${intervals} sync intervals (bound ${bound}): ${seen}`);
    assert.ok(
      (backend.rest.commands.get("scan") ?? 0) <= 2 * pools.length,
      `the feed is not listed while still: ${seen}`,
    );
  });

  it("a token revoked on A stops working on a quiet B at B's next request", async () => {
    const [a, b] = pools;
    const made = await call(a, "/admin/tokens", ADMIN, { method: "POST", body: JSON.stringify({ name: "feed" }) });
    const { token } = await made.json();
    await pass(10_000, clock, [a, b]);
    assert.equal((await chat(b, token)).status, 200, "B learned of the token");
    await pass(QUIET_AFTER_MS + 2 * QUIET_SYNC_MS, clock, [a, b]); // both quiet now
    const del = await call(a, "/admin/tokens", ADMIN, { method: "DELETE", body: JSON.stringify({ token }) });
    assert.equal(del.status, 200);
    clock.t += SYNC_MS + 1; // B has not ticked since the revocation: only the catch-up can tell it
    assert.equal((await chat(b, token)).status, 401);
  });

  it("a brisk instance still polls every syncIntervalMs", async () => {
    const [a] = pools;
    backend.rest.commands.reset();
    for (let s = 0; s < 20; s++) {
      clock.t += 1000;
      await call(a, "/admin/api-keys", ADMIN); // a request that presents credentials keeps A brisk
      await tick(a);
    }
    assert.ok((backend.rest.commands.get("get") ?? 0) >= 9, JSON.stringify(Object.fromEntries(backend.rest.commands)));
  });
});

describe("change feed version", () => {
  it("an event whose version write failed is announced by the next poll", async () => {
    const storage = createStorage({ driver: memoryDriver() });
    const clock = { t: 1_800_000_000_000 };
    const a = new ChangeFeed(storage, () => clock.t, "a");
    const b = new ChangeFeed(storage, () => clock.t, "b");
    await b.poll();
    clock.t += 2 * 60_000; // b is past its minute of listing: it reads only the version now
    const setItem = storage.setItem.bind(storage);
    storage.setItem = (name: string, value: Parameters<typeof setItem>[1], opts?: Parameters<typeof setItem>[2]) =>
      name === "events:version" ? Promise.reject(new Error("store down")) : setItem(name, value, opts);
    await assert.rejects(a.publish({ kind: "tokens", ids: ["t"] }), /store down/);
    assert.deepEqual(await b.poll(), [], "the version did not move");
    storage.setItem = setItem;
    await a.poll();
    assert.deepEqual(await b.poll(), [{ kind: "tokens", provider: undefined, ids: ["t"] }]);
  });
});
