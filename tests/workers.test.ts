/**
 * examples/workers on workerd: bundled with esbuild as wrangler would, run by miniflare with a
 * KV namespace, upstream calls going out of workerd to the mock on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { build, stop as stopEsbuild } from "esbuild";
import { Miniflare } from "miniflare";
import { startMockUpstream, type MockUpstream } from "./helpers/mock_upstream.ts";
import { within } from "./helpers/poll.ts";
import { chat, type Fetcher, importKeyAndToken } from "./helpers/smoke.ts";
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
    const script = join(dir, "worker.js");
    // wrangler's own esbuild settings for a modules worker: ESM, the workerd/worker/browser
    // export conditions, no Node built-ins (nodejs_compat is off), so a stray node:* import fails here.
    await build({
      entryPoints: ["examples/workers/worker.ts"],
      outfile: script,
      bundle: true,
      format: "esm",
      platform: "neutral",
      target: "es2022",
      conditions: ["workerd", "worker", "browser"],
      mainFields: ["module", "main"],
      logLevel: "silent",
    });
    await stopEsbuild(); // ends esbuild's service process now rather than at exit
    const toml = await readFile("examples/workers/wrangler.toml", "utf8");
    const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
    assert.ok(compatibilityDate, "wrangler.toml names a compatibility_date");
    mf = new Miniflare({
      modules: true,
      scriptPath: script,
      modulesRoot: dir, // module paths must stay inside it; the bundle lives in a temp dir
      compatibilityDate,
      cf: false, // otherwise miniflare downloads the Request.cf placeholder from the internet
      kvNamespaces: ["KV"],
      // FLUSH_INTERVAL_MS=1: every proxied request hands a statistics flush to ctx.waitUntil.
      bindings: { ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url, FLUSH_INTERVAL_MS: "1" },
    });
    await mf.ready; // a runtime that fails to start rejects here (getKVNamespace would wait forever)
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
