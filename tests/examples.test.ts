/**
 * The runtime examples, each started as its own process with the README's command, then driven
 * over real HTTP: Deno (`npm run start:deno`: `Deno.serve`, Deno KV; two instances on Upstash as
 * on Deploy), Bun (`npm run start:bun`: `Bun.serve`, filesystem) and a plain `node:http` server
 * with the pool's listener beside the app's own route.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { upstashStorage } from "../adapters/upstash.ts";
import { createStore } from "../src/store/store.ts";
import { upstashBackend } from "./helpers/backends.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { chat, httpFetcher, importKeyAndToken } from "./helpers/smoke.ts";
import { within } from "./helpers/poll.ts";
import { spawnServer } from "./helpers/spawn.ts";
import { skipUnless } from "./helpers/requires.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "node_modules", ".bin");
const ADMIN = "examples-admin-token";

describe("runtime examples over real HTTP", skipUnless("runtime examples over real HTTP", "processes"), () => {
  let mock: MockUpstream;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    mock = await startMockUpstream();
    dir = await mkdtemp(join(tmpdir(), "pool-examples-"));
    env = { PORT: "0", HOST: "127.0.0.1", ADMIN_TOKEN: ADMIN, OLLAMA_BASE_URL: mock.url };
  });
  after(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("Deno: `npm run start:deno` (examples/deno/main.ts) on Deno KV keeps keys, tokens and counts across a restart", {
    timeout: 60_000,
  }, async () => {
    const args = ["run", "--silent", "start:deno"];
    const denoEnv = { ...env, STORAGE_URL: `denokv:${join(dir, "pool.sqlite")}` };
    const first = await spawnServer("npm", args, { cwd: ROOT, env: denoEnv });
    let token: string;
    try {
      assert.match(first.output(), /\(deno\) listening on/);
      const f = httpFetcher(first.url);
      token = await importKeyAndToken(f, ADMIN, "good-key-deno-00001");
      await chat(f, token, true);
    } finally {
      await first.stop(); // SIGTERM: the example flushes its statistics to Deno KV, then exits
    }
    const second = await spawnServer("npm", args, { cwd: ROOT, env: denoEnv });
    try {
      const f = httpFetcher(second.url);
      assert.equal((await (await f("/health")).json()).storage.driver, "deno-kv");
      const stats = await (await f("/admin/stats", { headers: { authorization: `Bearer ${ADMIN}` } })).json();
      assert.equal(stats.total_api_keys, 1);
      assert.equal(stats.total_requests, 1);
      assert.equal(stats.completion_tokens, 3, "the streamed chat's usage");
      await chat(f, token, false); // the token survived too
    } finally {
      await second.stop();
    }
    // Deno's default ("legacy") request.signal also aborts when an answer was delivered in full,
    // so the pool could not tell a client that left from one that was served, and Deno warns on
    // stderr; the start command opts in to the signal that aborts only when the client leaves.
    for (const server of [first, second]) assert.doesNotMatch(server.output(), /legacy/i);
  });

  const upstash = "Deno: two examples/deno/main.ts on one Upstash (as Deploy's regions) count exactly";
  it(upstash, { timeout: 90_000, ...skipUnless(upstash, "redis-server") }, async () => {
    const backend = await upstashBackend();
    const denoEnv = {
      ...env,
      STORAGE_URL: "upstash:",
      UPSTASH_REDIS_REST_URL: backend.rest.url,
      UPSTASH_REDIS_REST_TOKEN: backend.rest.token,
    };
    const args = ["run", "-A", "examples/deno/main.ts"];
    const servers = await Promise.all(
      [0, 1].map(() => spawnServer(join(BIN, "deno"), args, { cwd: ROOT, env: denoEnv })),
    );
    try {
      const [a, b] = servers.map((s) => httpFetcher(s.url));
      assert.equal((await (await a("/health")).json()).storage.driver, "upstash");
      const token = await importKeyAndToken(a, ADMIN, "good-key-deno-upst1");
      // B learns the key and the token through the change feed (its sync runs every 2 s).
      await within(
        10_000,
        async () => (await b("/v1/models", { headers: { authorization: `Bearer ${token}` } })).status === 200,
        "B accepts the token",
        100,
      );
      await Promise.all([a, b].flatMap((f) => Array.from({ length: 50 }, () => chat(f, token, false))));
    } finally {
      await Promise.all(servers.map((s) => s.stop())); // SIGTERM: each flushes its statistics, then exits
    }
    const storage = upstashStorage({ url: backend.rest.url, token: backend.rest.token });
    try {
      const [global] = await createStore(storage).counters.read(["stats:global:ollama"]);
      // 3 completion tokens per chat; the /v1/models probes count as requests but carry no usage.
      assert.equal(global.completionTokens, 300, "50 chats on each instance");
    } finally {
      await storage.dispose();
      await backend.stop();
    }
  });

  it("Bun: `npm run start:bun` (examples/bun/server.ts)", { timeout: 60_000 }, async () => {
    const server = await spawnServer("npm", ["run", "--silent", "start:bun"], {
      cwd: ROOT,
      env: { ...env, DATA_DIR: join(dir, "bun-data") },
    });
    try {
      assert.match(server.output(), /\(bun\) listening on/);
      const f = httpFetcher(server.url);
      const token = await importKeyAndToken(f, ADMIN, "good-key-bun-000001");
      await chat(f, token, true);
    } finally {
      await server.stop();
    }
  });

  it("Node: examples/node/http_listener.ts serves the app's route and the pool's", { timeout: 60_000 }, async () => {
    const server = await spawnServer("node", ["--import", "tsx", "examples/node/http_listener.ts"], { cwd: ROOT, env });
    try {
      const f = httpFetcher(server.url);
      const own = await f("/hello");
      assert.equal(await own.text(), "hello from the host app");
      const token = await importKeyAndToken(f, ADMIN, "good-key-node-00001");
      await chat(f, token, true);
      const missing = await f("/nothing", { headers: { authorization: `Bearer ${token}` } });
      assert.equal(missing.status, 404);
      assert.equal((await missing.json()).error.code, "not_found");
    } finally {
      await server.stop();
    }
  });
});
