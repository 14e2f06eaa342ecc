/** The Node adapter over real HTTP, filesystem persistence across restarts, and the CLI. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect, type Socket } from "node:net";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fsStorage, serve } from "../adapters/node.ts";
import { createPool, ollama } from "../mod.ts";
import { type MockUpstream, startMockUpstream } from "./helpers/mock_upstream.ts";
import { within } from "./helpers/poll.ts";
import { skipUnless } from "./helpers/requires.ts";
import { serverArgs } from "./helpers/spawn.ts";

const quiet = { info() {}, warn() {}, error() {} };

/**
 * A client that sends one request on its own connection and hangs up when told. A raw socket
 * rather than fetch: on an abort Node's fetch may leave a second, request-less connection open
 * until its 4 s keep-alive ends, and the server's close() waits for it — seconds of nothing.
 */
function rawRequest(url: string, path: string, token: string, body: string): { socket: Socket; data: Promise<void> } {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  socket.on("error", () => {});
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  return { socket, data: new Promise((resolve) => socket.once("data", () => resolve())) };
}

describe("Node adapter and filesystem storage", () => {
  let mock: MockUpstream;
  let dir: string;
  before(async () => {
    mock = await startMockUpstream({ chunks: 20, chunkDelayMs: 5 });
    dir = await mkdtemp(join(tmpdir(), "pool-fs-"));
  });
  after(async () => {
    await mock.close();
    await rm(dir, { recursive: true, force: true });
  });

  const start = async (onToken: (t: string) => void) => {
    const pool = createPool({
      providers: [ollama({ baseURL: mock.url })],
      storage: fsStorage(dir),
      auth: { onAdminTokenGenerated: onToken },
      logger: quiet,
    });
    const server = await serve(pool, { port: 0, hostname: "127.0.0.1", handleSignals: false });
    return { pool, server, url: `http://127.0.0.1:${server.port}` };
  };

  it("generates the admin token once, serves over HTTP, and keeps keys, tokens and stats across a restart", async () => {
    const generated: string[] = [];
    const a = await start((tok) => generated.push(tok));
    assert.equal(generated.length, 1);
    const adminHeaders = { authorization: `Bearer ${generated[0]}`, "content-type": "application/json" };
    const imp = await fetch(`${a.url}/admin/api-keys/import-from-txt`, {
      method: "POST",
      headers: adminHeaders,
      body: JSON.stringify({ content: "me@x.io----pw----s----good-key-fs-000001\n" }),
    });
    assert.deepEqual((await imp.json()).added, 1);
    const { token } = await (await fetch(`${a.url}/admin/tokens`, {
      method: "POST",
      headers: adminHeaders,
      body: JSON.stringify({ name: "fs" }),
    })).json();
    const res = await fetch(`${a.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "llama3.2", stream: true, messages: [] }),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /data: \[DONE\]/);
    await a.server.close(); // flushes

    const b = await start((tok) => generated.push(tok));
    assert.equal(generated.length, 1, "the admin token is generated only on the first start");
    const stats = await (await fetch(`${b.url}/admin/stats`, { headers: adminHeaders })).json();
    assert.equal(stats.total_api_keys, 1);
    assert.equal(stats.total_requests, 1);
    assert.equal(stats.completion_tokens, 20);
    const again = await fetch(`${b.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(again.status, 200);
    await again.text();
    await b.server.close();
    const stored = await readdir(join(dir, "tokens"));
    assert.equal(stored.length, 1);
  });

  it("a client that hangs up mid-stream over HTTP stops the upstream stream", async () => {
    const a = await start(() => {});
    await a.pool.state.keys.add("ollama", [{ secret: "good-key-fs-000002", line: 1 }]);
    const { token } = await a.pool.state.tokens.create("hangup");
    mock.reset();
    const client = rawRequest(a.url, "/api/chat", token, JSON.stringify({ model: "llama3.2", messages: [] }));
    await client.data; // the answer started
    client.socket.destroy();
    await within(2000, () => mock.closedEarly > 0, "the upstream request closed early", 20);
    assert.equal(mock.closedEarly, 1);
    await a.server.close();
  });

  it("a client that hangs up before the upstream answers cancels the upstream request, no key blamed", async () => {
    const a = await start(() => {});
    // Only the slow key (the directory holds the earlier tests' keys).
    const pool = a.pool.state.keys.pool("ollama");
    await a.pool.state.keys.remove("ollama", [...pool.values()].map((k) => k.id));
    await a.pool.state.keys.add("ollama", [{ secret: "slow-key-fs-0000003", line: 1 }]);
    const { token } = await a.pool.state.tokens.create("early-hangup");
    mock.reset();
    const client = rawRequest(
      a.url,
      "/v1/chat/completions",
      token,
      JSON.stringify({ model: "llama3.2", messages: [] }),
    );
    await within(1000, () => mock.requests.length > 0, "the request reached the mock", 10);
    client.socket.destroy();
    // The mock holds the slow key's headers for 2 s; the pool must close the upstream before that.
    await within(1000, () => mock.closedEarly > 0, "the upstream request closed early", 20);
    assert.equal(mock.closedEarly, 1);
    const [key] = pool.values();
    assert.equal(pool.size, 1);
    assert.equal(key.state, "active");
    assert.equal(key.failures, 0);
    await a.server.close();
  });
});

describe("CLI (npm start)", skipUnless("CLI (npm start)", "processes"), () => {
  it("imports --keys, serves, and flushes on SIGTERM", { timeout: 30_000 }, async () => {
    const mock = await startMockUpstream();
    const dir = await mkdtemp(join(tmpdir(), "pool-cli-"));
    const keys = join(dir, "ollama.txt");
    await writeFile(keys, "me@x.io----pw----s----good-key-cli-00001\nbad line----x\n");
    const child = spawn(
      "node",
      serverArgs("--data-dir", join(dir, "data"), "--keys", keys),
      {
        env: { ...process.env, ADMIN_TOKEN: "cli-admin-token-0123", OLLAMA_BASE_URL: mock.url },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    try {
      let out = "";
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout!.on("data", (b: Uint8Array) => {
          out += new TextDecoder().decode(b);
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]);
        });
        child.on("exit", (code) => reject(new Error(`cli exited ${code}: ${out}`)));
      });
      assert.match(out, /2 lines, 1 added, 0 already present, 1 invalid/);
      const admin = { authorization: "Bearer cli-admin-token-0123", "content-type": "application/json" };
      const { token } = await (await fetch(`${url}/admin/tokens`, {
        method: "POST",
        headers: admin,
        body: JSON.stringify({ name: "cli" }),
      })).json();
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        body: JSON.stringify({ model: "llama3.2", messages: [] }),
      });
      assert.equal(res.status, 200);
      await res.text();
      const exited = new Promise<[number | null, string | null]>((resolve) =>
        child.on("exit", (code, sig) => resolve([code, sig]))
      );
      child.kill("SIGTERM");
      const [code, sig] = await exited;
      // Deno's child_process reports the signal it sent, not the child's own exit(0).
      if ("Deno" in globalThis) assert.ok(code === 0 || sig === "SIGTERM");
      else assert.equal(code, 0);
      const flushed = await readdir(join(dir, "data", "stats", "global"));
      assert.deepEqual(flushed, ["ollama"]);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      await mock.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
