/** Three pool instances on one shared store (Redis, Postgres, Upstash over REST) behave as one pool. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createPool, ollama, type Pool } from "../mod.ts";
import { type Backend, needsOf, postgresBackend, redisBackend, upstashBackend } from "./helpers/backends.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { sleep, within } from "./helpers/poll.ts";
import { skipUnless } from "./helpers/requires.ts";

const ADMIN = "multi-admin-token-0123";
const quiet = { info() {}, warn() {}, error() {} };

for (const factory of [redisBackend, postgresBackend, upstashBackend]) {
  const suite = `three instances on one ${factory.name.replace(/Backend$/, "")}`;
  describe(suite, skipUnless(suite, ...needsOf(factory)), () => {
    let backend: Backend;
    let mock: MockUpstream;
    let pools: Pool[];
    let ticker: ReturnType<typeof setInterval>;
    let token: string;
    const call = (p: Pool, path: string, init: RequestInit = {}, auth = token) =>
      p.fetch(
        new Request(`http://pool${path}`, {
          ...init,
          headers: { authorization: `Bearer ${auth}`, "content-type": "application/json" },
        }),
      );
    const chat = (p: Pool) =>
      call(p, "/v1/chat/completions", { method: "POST", body: JSON.stringify({ model: "m", messages: [] }) });

    before(async () => {
      backend = await factory();
      mock = await startMockUpstream();
      pools = [0, 1, 2].map(() =>
        createPool({
          providers: [ollama({ baseURL: mock.url })],
          storage: backend.connect(),
          auth: { adminToken: ADMIN },
          syncIntervalMs: 250,
          flushIntervalMs: 250,
          logger: quiet,
        })
      );
      await Promise.all(pools.map((p) => p.ready()));
      // What the Node server's interval does in production.
      ticker = setInterval(() => pools.forEach((p) => p.tick()), 100);
    });
    after(async () => {
      clearInterval(ticker);
      await Promise.all(pools.map((p) => p.close()));
      await mock.close();
      await backend.stop();
    });

    it("keys imported and a token created on A are used by B and C within 5 s", async () => {
      const [a, b, c] = pools;
      const keys = ["good-multi-0001", "good-multi-0002", "bad-multi-00001"];
      const imp = await call(a, "/admin/api-keys/import", { method: "POST", body: JSON.stringify({ keys }) }, ADMIN);
      assert.equal((await imp.json()).added, 3);
      token =
        (await (await call(a, "/admin/tokens", { method: "POST", body: JSON.stringify({ name: "multi" }) }, ADMIN))
          .json()).token;
      for (const p of [b, c]) {
        await within(5000, async () => (await chat(p)).status === 200);
      }
      assert.ok((mock.hits.get("good-multi-0001") ?? 0) + (mock.hits.get("good-multi-0002") ?? 0) >= 2);
    });

    it("a key disabled by failures on A is skipped by B within 5 s", async () => {
      const [a, b] = pools;
      for (let i = 0; i < 12; i++) assert.equal((await chat(a)).status, 200);
      const listA = await (await call(a, "/admin/api-keys?status=disabled", {}, ADMIN)).json();
      assert.equal(listA.total, 1, "A disabled the bad key");
      const took = await within(
        5000,
        async () => (await (await call(b, "/admin/api-keys?status=disabled", {}, ADMIN)).json()).total === 1,
      );
      const before = mock.hits.get("bad-multi-00001");
      for (let i = 0; i < 12; i++) assert.equal((await chat(b)).status, 200);
      assert.equal(mock.hits.get("bad-multi-00001"), before, `B skipped the key (learned in ${took} ms)`);
    });

    it("3 × 1,000 concurrent requests count exactly 3,000, globally and per key", async () => {
      await Promise.all(pools.map((p) => p.flush()));
      const stats = async () =>
        (await (await call(pools[0], "/admin/stats", {}, ADMIN)).json()).total_requests as number;
      const perKey = async () => {
        const s = await (await call(pools[0], "/admin/keys/stats", {}, ADMIN)).json();
        return s.stats.reduce((n: number, k: { successCount: number }) => n + k.successCount, 0) as number;
      };
      const [before, keysBefore] = [await stats(), await perKey()];
      const results = await Promise.all(
        pools.flatMap((p) =>
          Array.from({ length: 1000 }, () =>
            chat(p).then(async (r) => {
              await r.text();
              return r.status;
            }))
        ),
      );
      assert.equal(results.filter((s) => s === 200).length, 3000);
      await Promise.all(pools.map((p) => p.flush()));
      assert.equal(await stats() - before, 3000);
      assert.equal(await perKey() - keysBefore, 3000);
    });

    it("a revoked token stops working on every instance within 5 s", async () => {
      const [a, b, c] = pools;
      const del = await call(a, "/admin/tokens", { method: "DELETE", body: JSON.stringify({ token }) }, ADMIN);
      assert.equal(del.status, 200);
      for (const p of [b, c]) await within(5000, async () => (await chat(p)).status === 401);
    });
  });
}

// Upstash: the REST stand-in stays up and answers 503 while the Redis behind it is stopped.
for (const factory of [redisBackend, upstashBackend]) {
  const outage = `store outage (${factory.name.replace(/Backend$/, "")}: Redis stopped mid-traffic)`;
  describe(outage, skipUnless(outage, ...needsOf(factory)), () => {
    it("keeps serving, reports degraded, and flushes the counts when Redis returns", { timeout: 60_000 }, async () => {
      const backend = await factory();
      const mock = await startMockUpstream();
      const pool = createPool({
        providers: [ollama({ baseURL: mock.url })],
        storage: backend.connect(),
        auth: { adminToken: ADMIN },
        syncIntervalMs: 200,
        flushIntervalMs: 200,
        logger: quiet,
      });
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      (globalThis as { process?: NodeJS.Process }).process?.on("unhandledRejection", onUnhandled);
      try {
        const admin = (path: string, init: RequestInit = {}) =>
          pool.fetch(new Request(`http://pool${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}` } }));
        await admin("/admin/api-keys/import", { method: "POST", body: JSON.stringify({ keys: ["good-outage-001"] }) });
        const { token } = await (await admin("/admin/tokens", { method: "POST", body: JSON.stringify({ name: "o" }) }))
          .json();
        const chat = () =>
          pool.fetch(
            new Request("http://pool/v1/chat/completions", {
              method: "POST",
              headers: { authorization: `Bearer ${token}` },
              body: JSON.stringify({ model: "m", messages: [] }),
            }),
          );

        await backend.server.stop();
        for (let i = 0; i < 20; i++) {
          const r = await chat();
          assert.equal(r.status, 200, "proxying goes on from memory");
          await r.text();
          pool.tick();
          await sleep(20);
        }
        await within(
          5000,
          async () =>
            (await (await pool.fetch(new Request("http://pool/health"))).json()).storage.status === "degraded",
        );
        const health = await (await pool.fetch(new Request("http://pool/health"))).json();
        assert.equal(health.status, "degraded");
        assert.ok(health.storage.pendingStats > 0);

        await backend.server.restart(); // an empty Redis: what it gets now is what was buffered
        await within(10_000, async () => {
          pool.tick();
          return (await (await pool.fetch(new Request("http://pool/health"))).json()).storage.status === "ok";
        });
        await pool.flush();
        const fresh = backend.connect();
        const stored = await fresh.getKeys("stats");
        assert.ok(stored.length > 0);
        const { Redis } = await import("ioredis");
        const r = new Redis(backend.server.url);
        const global = await r.hgetall("pool:stats:global:ollama");
        r.disconnect();
        assert.equal(Number(global.requests), 20, "every request made during the outage was counted");
        assert.deepEqual(unhandled, []);
      } finally {
        (globalThis as { process?: NodeJS.Process }).process?.off("unhandledRejection", onUnhandled);
        await pool.close().catch(() => {});
        await mock.close();
        await backend.stop();
      }
    });
  });
}
