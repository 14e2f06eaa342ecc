/**
 * Dashboard logouts kept in the store: each record expires with the session it ended, on every
 * backend (by the backend's own TTL where it has one, by a sweep where it has none: memory and
 * files), so the records never outnumber the logouts of one session lifetime by much.
 * @module
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import ws from "ws";
import { neonStorage } from "../adapters/neon.ts";
import { ADMIN_SESSION_MS } from "../src/auth/admin_session.ts";
import { EndedSessions } from "../src/auth/ended_sessions.ts";
import { PREFIX } from "../src/store/key_names.ts";
import { eachBackend, fsBackend, memoryBackend, needsOf, postgresBackend, redisBackend } from "./helpers/backends.ts";
import { sleep, within } from "./helpers/poll.ts";
import { skipUnless } from "./helpers/requires.ts";
import { type PostgresServer, startPostgres } from "./helpers/services.ts";

const HOUR = 3600_000;

eachBackend("ended dashboard sessions expire", [memoryBackend, fsBackend, redisBackend], (backend) => {
  it("a logout is remembered until its session would have expired, then removed", async () => {
    const clock = { t: Date.now() };
    const storage = backend().connect();
    const sessions = new EndedSessions(storage, () => clock.t);
    await sessions.end("soon-over", clock.t + 60_000);
    await sessions.end("still-on", clock.t + ADMIN_SESSION_MS);
    const elsewhere = new EndedSessions(backend().connect(), () => clock.t);
    assert.equal(await elsewhere.ended("soon-over"), true, "another instance sees the logout");
    clock.t += HOUR;
    await sessions.end("later", clock.t + ADMIN_SESSION_MS);
    const names = (await storage.getKeys(PREFIX.adminSessions)).map((n) => n.split(":").pop()).sort();
    assert.deepEqual(names, ["later", "still-on"], "the expired record is gone");
    assert.equal(await new EndedSessions(backend().connect(), () => clock.t).ended("still-on"), true);
  });

  it("records never outnumber the logouts of one session lifetime plus a sweep interval", async () => {
    const clock = { t: Date.now() };
    const storage = backend().connect();
    for (const name of await storage.getKeys(PREFIX.adminSessions)) await storage.removeItem(name);
    const sessions = new EndedSessions(storage, () => clock.t);
    let most = 0;
    for (let i = 0; i < 48; i++) { // two days of a logout every hour, each session at its longest
      await sessions.end(`hourly-${i}`, clock.t + ADMIN_SESSION_MS);
      most = Math.max(most, (await storage.getKeys(PREFIX.adminSessions)).length);
      clock.t += HOUR;
    }
    assert.ok(most <= ADMIN_SESSION_MS / HOUR + 2, `at most ${most} records`);
  });
});

const PG_SUITE = "Postgres rows whose TTL is over are deleted, not only skipped";
describe(PG_SUITE, skipUnless(PG_SUITE, ...needsOf(postgresBackend)), () => {
  let server: PostgresServer;
  before(async () => {
    server = await startPostgres();
  });
  after(() => server.stop());

  it("an ended session's row goes once its session is over", async () => {
    const storage = neonStorage({
      connectionString: server.url,
      wsProxy: server.wsProxy,
      secureWebSocket: false,
      webSocket: (globalThis as { WebSocket?: unknown }).WebSocket ?? ws,
      purgeEveryMs: 0,
    });
    try {
      const rows = async () => {
        const db = storage.getMount("").driver.getInstance!() as { query(sql: string): Promise<unknown[]> };
        return (await db.query("SELECT key FROM ollama_pool_kv WHERE key LIKE 'adminsessions:%'")).length;
      };
      const sessions = new EndedSessions(storage, Date.now);
      await sessions.end("one-second", Date.now() + 1000);
      await sleep(1100);
      await sessions.end("long", Date.now() + ADMIN_SESSION_MS);
      await within(5000, async () => (await rows()) === 1, "one row left");
    } finally {
      await storage.dispose();
    }
  });
});
