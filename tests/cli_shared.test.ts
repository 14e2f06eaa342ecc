/** Two `npm start` processes on one STORAGE_URL (Redis, Postgres, Upstash over REST) act as one pool. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { within } from "./helpers/poll.ts";
import { type Need, skipUnless } from "./helpers/requires.ts";
import { type PostgresServer, type RedisServer, startPostgres, startRedis } from "./helpers/services.ts";
import { serverArgs } from "./helpers/spawn.ts";
import { startUpstashRest } from "./helpers/upstash_rest.ts";

const ADMIN = "shared-cli-admin-token";

function startCli(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn("node", serverArgs(), {
    env: { ...process.env, ADMIN_TOKEN: ADMIN, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  return new Promise((resolve, reject) => {
    const onData = (b: Uint8Array) => {
      out += new TextDecoder().decode(b);
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1] });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", (code) => reject(new Error(`cli exited ${code}: ${out}`)));
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

const cases: Array<[string, Need[], () => Promise<{ env: Record<string, string>; stop(): Promise<void> }>]> = [
  ["redis://", ["redis-server", "processes"], async () => {
    const r: RedisServer = await startRedis();
    return { env: { STORAGE_URL: r.url }, stop: () => r.stop() };
  }],
  ["postgres://", ["postgresql", "websockify", "processes"], async () => {
    const p: PostgresServer = await startPostgres();
    return {
      env: { STORAGE_URL: p.url, NEON_WS_PROXY: p.wsProxy, NEON_SECURE_WEBSOCKET: "false" },
      stop: () => p.stop(),
    };
  }],
  ["upstash:", ["redis-server", "processes"], async () => {
    const r = await startRedis();
    const rest = await startUpstashRest(r.port);
    return {
      env: { STORAGE_URL: "upstash:", UPSTASH_REDIS_REST_URL: rest.url, UPSTASH_REDIS_REST_TOKEN: rest.token },
      stop: async () => {
        await rest.close();
        await r.stop();
      },
    };
  }],
];

for (const [name, needs, startStore] of cases) {
  const suite = `two servers on STORAGE_URL=${name}`;
  describe(suite, skipUnless(suite, ...needs), () => {
    let mock: MockUpstream;
    let store: { env: Record<string, string>; stop(): Promise<void> };
    let servers: Array<{ child: ChildProcess; url: string }> = [];
    before(async () => {
      mock = await startMockUpstream();
      store = await startStore();
      const env = { ...store.env, OLLAMA_BASE_URL: mock.url };
      servers = [await startCli(env), await startCli(env)];
    });
    after(async () => {
      await Promise.all(servers.map((s) => stop(s.child)));
      await mock.close();
      await store.stop();
    });

    it("keys and a token added on one serve requests on the other within 5 s", { timeout: 30_000 }, async () => {
      const [a, b] = servers;
      const admin = { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" };
      await fetch(`${a.url}/admin/api-keys/import`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ keys: ["good-shared-cli-1"] }),
      });
      const { token } = await (await fetch(`${a.url}/admin/tokens`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: "x" }),
      })).json();
      await within(
        5000,
        async () => {
          const res = await fetch(`${b.url}/v1/chat/completions`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}` },
            body: JSON.stringify({ model: "llama3.2", messages: [] }),
          });
          await res.text();
          return res.status === 200;
        },
        "the second server served the token",
        100,
      );
      // The chat once (the server also reads a new key's model list: DISCOVER_MODELS).
      assert.equal(mock.requests.filter((r) => r.key === "good-shared-cli-1" && r.method === "POST").length, 1);
      const health = await (await fetch(`${b.url}/health`)).json();
      assert.equal(health.storage.status, "ok");
      assert.equal(health.storage.atomicCounters, true);
    });
  });
}
