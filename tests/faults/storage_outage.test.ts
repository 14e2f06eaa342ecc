/**
 * Fault suite (issue 8), storage: Redis stops in the middle of concurrent traffic and comes back
 * empty. Every count that fits the documented buffer (20,000 pending records; this run touches a
 * dozen) must reach the new Redis: globally, per key and per client token, none lost, none twice.
 *
 * The tests in tests/multi_instance.test.ts stop Redis between sequential requests; here the load
 * never pauses (non-stream, SSE and NDJSON, several tokens and keys at once), flushes fail while
 * requests keep adding to the counts being put back, and Redis returns while traffic goes on.
 * @module
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Redis } from "ioredis";
import { createPool, ollama } from "../../mod.ts";
import { redisBackend } from "../helpers/backends.ts";
import { startMockUpstream } from "../helpers/mock_upstream.ts";
import { sleep, within } from "../helpers/poll.ts";
import { skipUnless } from "../helpers/requires.ts";

const ADMIN = "outage-admin-token-01";
const KEYS = ["good-outage-k001", "good-outage-k002", "good-outage-k003", "good-outage-k004"];

/** Every counter hash the pool wrote, by record name (`pool:stats:…` without the prefix). */
async function storedStats(url: string): Promise<Map<string, Record<string, number>>> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    const out = new Map<string, Record<string, number>>();
    for (const k of await r.keys("pool:stats:*")) {
      const row = await r.hgetall(k);
      out.set(k.slice("pool:".length), Object.fromEntries(Object.entries(row).map(([f, v]) => [f, Number(v)])));
    }
    return out;
  } finally {
    r.disconnect();
  }
}

const SUITE = "fault suite: a storage outage under concurrent load";
describe(SUITE, skipUnless(SUITE, "redis-server"), () => {
  it("loses no count: Redis after its restart holds exactly what it had not been given before it stopped", {
    timeout: 60_000,
  }, async () => {
    const backend = await redisBackend();
    const mock = await startMockUpstream({ quiet: true });
    // The clock is real time, except that it stands still while the test takes the snapshot
    // below: the pool flushes when its clock says so, and a flush racing Redis's shutdown would
    // make "what Redis had" unknowable (its data dies with it; a failed flush is re-sent).
    let frozen: number | undefined;
    const errors: string[] = [];
    const pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      storage: backend.connect(),
      auth: { adminToken: ADMIN },
      syncIntervalMs: 200,
      flushIntervalMs: 100,
      now: () => frozen ?? Date.now(),
      logger: { info() {}, warn() {}, error: (m: string) => errors.push(m) },
    });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on("unhandledRejection", onUnhandled);
    const ticker = setInterval(() => pool.tick(), 50); // what serve() does every second
    let running = true;
    try {
      const admin = (path: string, body?: unknown) =>
        pool.fetch(
          new Request(`http://pool${path}`, {
            method: body ? "POST" : "GET",
            headers: { authorization: `Bearer ${ADMIN}` },
            body: body ? JSON.stringify(body) : undefined,
          }),
        );
      assert.equal(
        (await (await admin("/admin/api-keys/import", { keys: KEYS.map((k) => ({ key: k, username: k })) })).json())
          .added,
        KEYS.length,
      );
      const tokens: Array<{ id: string; token: string }> = [];
      for (const name of ["a", "b", "c"]) tokens.push(await (await admin("/admin/tokens", { name })).json());

      // 24 clients without pause, round the tokens and the three wire formats.
      const perToken = new Map<string, number>(tokens.map((t) => [t.id, 0]));
      let made = 0;
      const kinds: Array<[string, Record<string, unknown>, RegExp]> = [
        ["/v1/chat/completions", { model: "llama3.2", messages: [] }, /"chat\.completion"/],
        ["/v1/chat/completions", { model: "qwen3:8b", messages: [], stream: true }, /data: \[DONE\]\n\n$/],
        ["/api/chat", { model: "llama3.2", messages: [] }, /"done":true/],
      ];
      const client = async (n: number) => {
        for (let i = n; running; i++) {
          const t = tokens[i % tokens.length];
          const [path, body, complete] = kinds[i % kinds.length];
          const res = await pool.fetch(
            new Request(`http://pool${path}`, {
              method: "POST",
              headers: { authorization: `Bearer ${t.token}` },
              body: JSON.stringify(body),
            }),
          );
          const text = await res.text();
          assert.equal(res.status, 200, text);
          assert.match(text, complete);
          made++;
          perToken.set(t.id, perToken.get(t.id)! + 1);
          if (i % 8 === 0) await sleep(1); // let timers (ticks, flushes) in
        }
      };
      const load = Promise.all(Array.from({ length: 24 }, (_, n) => client(n)));

      await sleep(400); // Redis up: counts flow in
      frozen = Date.now();
      await pool.flush(); // the in-flight flush done, the rest written; none starts until the clock moves
      const before = await storedStats(backend.server.url);
      const madeAtStop = made;
      assert.ok((before.get("stats:global:ollama")?.requests ?? 0) > 0, "counts were written before the outage");
      await backend.server.stop();
      frozen = undefined;

      await sleep(600); // the outage, under load: every flush fails and is put back
      await within(
        5_000,
        async () => (await (await pool.fetch(new Request("http://pool/health"))).json()).storage.status === "degraded",
      );
      const during = await (await pool.fetch(new Request("http://pool/health"))).json();
      assert.ok(
        during.storage.pendingStats > 0 && during.storage.pendingStats < 20_000,
        `pending ${during.storage.pendingStats}`,
      );
      assert.equal(during.storage.droppedStats, 0);
      assert.ok(made > madeAtStop + 100, "traffic went on during the outage");

      await backend.server.restart(); // empty
      await sleep(400); // traffic goes on while the pool reconnects
      running = false;
      await load;
      await within(15_000, () => pool.flush().then(() => true, () => false));
      const health = await (await pool.fetch(new Request("http://pool/health"))).json();
      assert.deepEqual([health.storage.status, health.storage.pendingStats, health.storage.droppedStats], ["ok", 0, 0]);

      const after = await storedStats(backend.server.url);
      console.log(
        `# made ${made}: ${madeAtStop} before the stop, ${
          before.get("stats:global:ollama")?.requests
        } written then; after the restart Redis has ${after.get("stats:global:ollama")?.requests}`,
      );
      const field = (m: Map<string, Record<string, number>>, record: string, f: string) => m.get(record)?.[f] ?? 0;
      // Redis now holds exactly what had not reached it before it stopped: none lost, none twice.
      const exact = (record: string, f: string, total: number) =>
        assert.equal(
          field(after, record, f),
          total - field(before, record, f),
          `${record} ${f}: ${total} made, ${field(before, record, f)} written before the stop`,
        );
      exact("stats:global:ollama", "requests", made);
      exact("stats:global:ollama", "success", made);
      for (const t of tokens) exact(`stats:token:${t.id}`, "requests", perToken.get(t.id)!);
      const keys = (await (await admin("/admin/api-keys")).json()).api_keys as Array<{ id: string; username: string }>;
      assert.equal(keys.length, KEYS.length);
      let attempts = 0;
      for (const { id, username: secret } of keys) {
        const hits = mock.hits.get(secret) ?? 0;
        attempts += hits;
        exact(`stats:key:ollama:${id}`, "requests", hits);
        exact(`stats:key:ollama:${id}`, "success", hits);
      }
      assert.equal(attempts, made, "one attempt per request: every key is healthy");
      // The hourly and per-model records add up to the same total.
      const sum = (m: Map<string, Record<string, number>>, prefix: string, field: RegExp) =>
        [...m].filter(([k]) => k.startsWith(prefix)).reduce(
          (n, [, row]) => n + Object.entries(row).filter(([f]) => field.test(f)).reduce((a, [, v]) => a + v, 0),
          0,
        );
      assert.equal(
        sum(after, "stats:hour:ollama:", /^requests\|/) + sum(before, "stats:hour:ollama:", /^requests\|/),
        made,
      );
      assert.equal(
        sum(after, "stats:model:ollama", /^requests\|/) + sum(before, "stats:model:ollama", /^requests\|/),
        made,
      );

      assert.equal(errors.filter((e) => /storage unavailable/.test(e)).length >= 1, true, "the outage was logged");
      assert.deepEqual(unhandled, []);
    } finally {
      running = false;
      clearInterval(ticker);
      process.off("unhandledRejection", onUnhandled);
      await pool.close().catch(() => {});
      await mock.close();
      await backend.stop();
    }
  });
});
