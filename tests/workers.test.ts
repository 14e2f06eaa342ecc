/**
 * examples/workers on workerd: bundled with esbuild as wrangler would, run by miniflare with a
 * KV namespace, upstream calls going out of workerd to the mock on 127.0.0.1; and the README's
 * local command, `npm run start:workers`, over real HTTP across a restart.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Miniflare } from "miniflare";
import { startLocalWorker } from "../examples/workers/local.ts";
import { startMockUpstream, type MockUpstream } from "./helpers/mock_upstream.ts";
import { within } from "./helpers/poll.ts";
import { chat, type Fetcher, httpFetcher, importKeyAndToken } from "./helpers/smoke.ts";
import { spawnServer } from "./helpers/spawn.ts";
import { skipUnless } from "./helpers/requires.ts";

const ADMIN = "workers-admin-token";

describe("Cloudflare Workers example (miniflare)", skipUnless("Cloudflare Workers example (miniflare)", "processes"), () => {
  let mock: MockUpstream;
  let dir: string;
  let mf: Miniflare;
  let call: Fetcher;
  // Typed by hand: under Deno, miniflare's KV types do not resolve to the Workers ones.
  let kv: { get(key: string, type: "json"): Promise<unknown> };

  before(async () => {
    mock = await startMockUpstream();
    dir = await mkdtemp(join(tmpdir(), "pool-worker-"));
    // FLUSH_INTERVAL_MS=1: every proxied request hands a statistics flush to ctx.waitUntil.
    mf = await startLocalWorker({ outDir: dir, bindings: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url, FLUSH_INTERVAL_MS: "1" } });
    kv = (await mf.getKVNamespace("KV")) as unknown as typeof kv;
    // miniflare's Request/Response types are undici's; the calls are the same.
    call = (path, init) => mf.dispatchFetch(`http://pool.test${path}`, init as never) as unknown as Promise<Response>;
  });
  after(async () => {
    await mf?.dispose();
    await mock?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The global statistics record of the Ollama pool as stored in KV. */
  const storedStats = async (): Promise<Record<string, number>> => (await kv.get("stats:global:ollama", "json") as Record<string, number> | null) ?? {};
  const waitForStored = async (requests: number): Promise<Record<string, number>> => {
    await within(2000, async () => ((await storedStats()).requests ?? 0) >= requests, `${requests} requests stored in KV`, 20).catch(() => {});
    return storedStats(); // the caller's assertion names what is missing
  };

  it("imports keys, creates a token and answers plain and streamed chats", async () => {
    const health = await call("/health");
    assert.equal(health.status, 200);
    assert.equal((await health.json()).storage.driver, "cloudflare-kv-binding");
    const token = await importKeyAndToken(call, ADMIN, "good-key-workers-0001");
    const listed = await (await call("/admin/api-keys", { headers: { authorization: `Bearer ${ADMIN}` } })).json();
    assert.ok(await kv.get(`keys:ollama:${listed.api_keys[0].id}`, "json"), "the imported key is stored in KV");

    await chat(call, token, false);
    // The response is out; the flush runs on in ctx.waitUntil and lands in KV.
    assert.equal((await waitForStored(1)).requests, 1);

    await chat(call, token, true);
    assert.equal(mock.requests.filter((r) => r.path === "/v1/chat/completions").length, 2);
    // A streamed request is counted when its stream ends, after its own tick: the next request's
    // waitUntil writes it.
    const models = await call("/v1/models", { headers: { authorization: `Bearer ${token}` } });
    assert.equal(models.status, 200);
    await models.text();
    const stored = await waitForStored(3);
    assert.equal(stored.requests, 3);
    assert.equal(stored.success, 3);
    assert.equal(stored.completionTokens, 6, "usage of the plain and the streamed chat");
  });
});

const LOCAL = "npm run start:workers (the README's local command)";
describe(LOCAL, skipUnless(LOCAL, "processes"), () => {
  it("serves over HTTP from workerd and keeps keys and tokens in KV_DIR across a restart", { timeout: 90_000 }, async () => {
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
  });
});
