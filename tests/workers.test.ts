/**
 * examples/workers on workerd: bundled with esbuild as wrangler would, run by miniflare on each
 * store it accepts (KV, Upstash over REST, Postgres through the Neon driver), upstream calls going
 * out of workerd to the mock on 127.0.0.1. On the exact stores two workerd instances share one
 * store, as isolates in several locations would, and their counts must add up. Last, the README's
 * local command, `npm run start:workers`, over real HTTP across a restart.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Miniflare } from "miniflare";
import type { Storage } from "unstorage";
import { kvStorage } from "../adapters/cloudflare.ts";
import { bundleWorker, compatibilityDate } from "../examples/workers/local.ts";
import { createStore } from "../src/store/store.ts";
import { type Backend, postgresBackend, upstashBackend } from "./helpers/backends.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { within } from "./helpers/poll.ts";
import { type Need, skipUnless } from "./helpers/requires.ts";
import { chat, type Fetcher, httpFetcher, importKeyAndToken } from "./helpers/smoke.ts";
import { spawnServer } from "./helpers/spawn.ts";

const ADMIN = "workers-admin-token";

/** A store the worker is configured for: its bindings, and a handle on it from the test. */
interface WorkerStore {
  name: string;
  driver: string;
  /** Whether several isolates count exactly on it. */
  atomic: boolean;
  bindings: Record<string, string>;
  kvNamespaces?: string[];
  /** The same data the worker sees, opened from the test process. */
  storage(mf: Miniflare): Promise<Storage>;
  stop(): Promise<void>;
}

const fromBackend = (b: Backend, driver: string, bindings: Record<string, string>): WorkerStore => {
  const storage = b.connect();
  return {
    name: b.name,
    driver,
    atomic: true,
    bindings,
    storage: () => Promise.resolve(storage),
    stop: () => b.stop(),
  };
};

const STORES: Array<() => Promise<WorkerStore>> = [
  () =>
    Promise.resolve({
      name: "KV",
      driver: "cloudflare-kv-binding",
      atomic: false,
      bindings: {},
      kvNamespaces: ["KV"],
      storage: async (mf) => kvStorage(await mf.getKVNamespace("KV")),
      stop: () => Promise.resolve(),
    }),
  async () => {
    const b = await upstashBackend();
    return fromBackend(b, "upstash", { UPSTASH_REDIS_REST_URL: b.rest.url, UPSTASH_REDIS_REST_TOKEN: b.rest.token });
  },
  async () => {
    const b = await postgresBackend();
    // workerd's own WebSocket client reaches websockify in front of the local Postgres.
    return fromBackend(b, "neon", {
      DATABASE_URL: b.server.url,
      NEON_WS_PROXY: b.server.wsProxy,
      NEON_SECURE_WEBSOCKET: "false",
    });
  },
];

/** Each store's name in the suite titles, and what it needs beyond npm packages (miniflare runs workerd). */
const STORE_NAMES = ["KV", "Upstash (REST)", "Postgres (Neon driver)"];
const STORE_NEEDS: Need[][] = [["processes"], ["processes", "redis-server"], ["processes", "postgresql", "websockify"]];

for (const [n, start] of STORES.entries()) {
  const suite = `Cloudflare Workers example (miniflare) on ${STORE_NAMES[n]}`;
  describe(suite, skipUnless(suite, ...STORE_NEEDS[n]), () => {
    let mock: MockUpstream;
    let dir: string;
    let store: WorkerStore;
    const instances: Miniflare[] = [];
    let stored: Storage | undefined;

    /** A workerd instance running the worker on this store (each is its own isolate). */
    const workerd = async (): Promise<Fetcher> => {
      const mf = new Miniflare({
        modules: true,
        scriptPath: join(dir, "worker.js"),
        modulesRoot: dir, // module paths must stay inside it; the bundle lives in a temp dir
        compatibilityDate: await compatibilityDate(),
        cf: false, // otherwise miniflare downloads the Request.cf placeholder from the internet
        kvNamespaces: store.kvNamespaces,
        // FLUSH_INTERVAL_MS=1: every proxied request hands a statistics flush to ctx.waitUntil.
        bindings: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url, FLUSH_INTERVAL_MS: "1", ...store.bindings },
      });
      instances.push(mf);
      await mf.ready; // a runtime that fails to start rejects here
      stored ??= await store.storage(mf);
      // miniflare's Request/Response types are undici's; the calls are the same.
      return (path, init) => mf.dispatchFetch(`http://pool.test${path}`, init as never) as unknown as Promise<Response>;
    };

    before(async () => {
      mock = await startMockUpstream();
      dir = await mkdtemp(join(tmpdir(), "pool-worker-"));
      await bundleWorker(dir); // as `npm run start:workers` does
      store = await start();
    });
    after(async () => {
      await Promise.all(instances.map((mf) => mf.dispose()));
      await store?.stop();
      await mock?.close();
      await rm(dir, { recursive: true, force: true });
    });

    /** The global statistics record of the Ollama pool, as stored. */
    const storedStats = async () => (await createStore(stored!).counters.read(["stats:global:ollama"]))[0];
    const waitForStored = async (requests: number) => {
      await within(
        5000,
        async () => ((await storedStats()).requests ?? 0) >= requests,
        `${requests} requests stored`,
        20,
      ).catch(() => {});
      return storedStats(); // the caller's assertion names what is missing
    };

    it("imports keys, creates a token and answers plain and streamed chats; counters reach the store", async () => {
      const call = await workerd();
      const health = await call("/health");
      assert.equal(health.status, 200);
      const storage = (await health.json()).storage;
      assert.deepEqual([storage.driver, storage.atomicCounters], [store.driver, store.atomic]);
      const token = await importKeyAndToken(call, ADMIN, "good-key-workers-0001");
      const listed = await (await call("/admin/api-keys", { headers: { authorization: `Bearer ${ADMIN}` } })).json();
      assert.ok(await stored!.getItem(`keys:ollama:${listed.api_keys[0].id}`), "the imported key is in the store");

      await chat(call, token, false);
      // The response is out; the flush runs on in ctx.waitUntil and lands in the store.
      assert.equal((await waitForStored(1)).requests, 1);

      await chat(call, token, true);
      assert.equal(mock.requests.filter((r) => r.path === "/v1/chat/completions").length, 2);
      // A streamed request is counted when its stream ends, after its own tick: the next request's
      // waitUntil writes it.
      const models = await call("/v1/models", { headers: { authorization: `Bearer ${token}` } });
      assert.equal(models.status, 200);
      await models.text();
      const s = await waitForStored(3);
      assert.deepEqual(
        [s.requests, s.success, s.completionTokens],
        [3, 3, 6],
        "usage of the plain and the streamed chat",
      );
    });

    it("two workerd instances on one store count exactly (exact stores only)", { timeout: 120_000 }, async (t) => {
      if (!store.atomic) return t.skip("KV merges counters by read-modify-write; the README says so");
      const [a, b] = [await workerd(), await workerd()];
      const token = await importKeyAndToken(a, ADMIN, "good-key-workers-0002");
      const before = (await storedStats()).requests ?? 0;
      const perInstance = 150;
      const statuses = await Promise.all([a, b].flatMap((f) =>
        Array.from({ length: perInstance }, async () => {
          const res = await f("/v1/chat/completions", {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "hi" }] }),
          });
          await res.text();
          return res.status;
        })
      ));
      assert.equal(statuses.filter((s) => s === 200).length, 2 * perInstance);
      await waitForStored(before + 2 * perInstance);
      await new Promise((r) => setTimeout(r, 300)); // and nothing more arrives afterwards
      assert.equal((await storedStats()).requests - before, 2 * perInstance);
    });
  });
}

const LOCAL = "npm run start:workers (the README's local command)";
describe(LOCAL, skipUnless(LOCAL, "processes"), () => {
  it(
    "serves over HTTP from workerd and keeps keys and tokens in KV_DIR across a restart",
    { timeout: 90_000 },
    async () => {
      const mock = await startMockUpstream();
      const dir = await mkdtemp(join(tmpdir(), "pool-worker-dev-"));
      const env = { PORT: "0", ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url, KV_DIR: join(dir, "kv") };
      try {
        const first = await spawnServer("npm", ["run", "--silent", "start:workers"], { env, timeoutMs: 60_000 });
        let token: string;
        try {
          assert.match(first.output(), /\(workers, local workerd\) listening on/);
          const f = httpFetcher(first.url);
          assert.equal((await (await f("/health")).json()).storage.driver, "cloudflare-kv-binding");
          token = await importKeyAndToken(f, ADMIN, "good-key-wrk-dev-001");
          await chat(f, token, false);
        } finally {
          await first.stop();
        }
        const second = await spawnServer("npm", ["run", "--silent", "start:workers"], { env, timeoutMs: 60_000 });
        try {
          await chat(httpFetcher(second.url), token, true); // the key and the token came back from KV_DIR
        } finally {
          await second.stop();
        }
      } finally {
        await mock.close();
        await rm(dir, { recursive: true, force: true });
      }
    },
  );
});
